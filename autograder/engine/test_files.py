"""Load a problem set's tests from the autograder zip that ``nngrade build`` writes.

The zip holds one otter exception-format file per question (``tests/q1a.py``): a module-level
``points`` and test functions decorated with ``@test_case(points=..., hidden=...)``. All three
engines read these same files. Here they are executed in the grader's own process, which is
safe because they come from our ``dist/``, never from a submission.

The zip also holds the problem set's support modules under ``files/`` (its checks module,
``files/ps1_perceptron_checks.py``), which the hidden tests import by name. Before the tests
are loaded, each one is executed from the zip and registered in ``sys.modules`` under that
name, so grading always uses the zip's copy, never a file of the repository. Names are unique
per problem set, so two problem sets' modules never collide; loading a zip whose copy of a
module differs from the one registered (a rebuilt problem set) replaces it.
"""

from __future__ import annotations

import hashlib
import re
import sys
import types
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from otter.test_files.abstract_test import TestFile
from otter.test_files.exception_test import test_case as OtterTestCase

__all__ = [
    "GradingTest",
    "Question",
    "load_questions",
    "load_support_modules",
    "tests_fingerprint",
]


@dataclass(frozen=True)
class GradingTest:
    """One test function: its name, points, visibility, and the function itself."""

    question: str
    name: str
    points: float
    hidden: bool
    function: Callable[..., None]

    @property
    def parameters(self) -> list[str]:
        code = self.function.__code__
        return list(code.co_varnames[: code.co_argcount])


@dataclass(frozen=True)
class Question:
    name: str
    tests: tuple[GradingTest, ...]

    @property
    def points(self) -> float:
        return sum(t.points for t in self.tests)


def _natural_key(name: str) -> list:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def _test_sources(autograder_zip: Path) -> dict[str, str]:
    with zipfile.ZipFile(autograder_zip) as archive:
        return {
            Path(info.filename).stem: archive.read(info).decode("utf-8")
            for info in archive.infolist()
            if info.filename.startswith("tests/") and info.filename.endswith(".py")
        }


def _support_sources(autograder_zip: Path) -> dict[str, str]:
    """The zip's top-level ``files/<name>.py`` modules, by module name."""
    with zipfile.ZipFile(autograder_zip) as archive:
        return {
            Path(info.filename).stem: archive.read(info).decode("utf-8")
            for info in archive.infolist()
            if re.fullmatch(r"files/[A-Za-z_]\w*\.py", info.filename)
        }


def load_support_modules(autograder_zip: Path) -> dict[str, types.ModuleType]:
    """Import the zip's support modules (``files/*.py``) into ``sys.modules`` and return them.

    A module already registered from the same source is kept (its caches with it); one from
    a different source is replaced. Raises ``ImportError`` rather than replace a module that
    did not come from an autograder zip (a support module named like an installed one).
    """
    modules = {}
    for name, source in sorted(_support_sources(autograder_zip).items()):
        digest = hashlib.sha256(source.encode()).hexdigest()
        module = sys.modules.get(name)
        if module is not None and not hasattr(module, "__nngrade_source_sha256__"):
            raise ImportError(
                f"{autograder_zip}: files/{name}.py would replace the module {name!r} "
                f"already imported from {getattr(module, '__file__', None) or 'built-ins'}"
            )
        if module is None or module.__nngrade_source_sha256__ != digest:
            module = types.ModuleType(name)
            module.__file__ = f"{autograder_zip}/files/{name}.py"
            module.__nngrade_source_sha256__ = digest
            sys.modules[name] = module
            try:
                exec(compile(source, module.__file__, "exec"), module.__dict__)
            except BaseException:
                del sys.modules[name]
                raise
        modules[name] = module
    return modules


def load_questions(autograder_zip: Path) -> list[Question]:
    """Every question with its tests, in natural order (q1a, q1b, ..., q10).

    The zip's support modules are imported first (:func:`load_support_modules`).
    """
    load_support_modules(autograder_zip)
    questions = []
    for stem, source in sorted(
        _test_sources(autograder_zip).items(), key=lambda kv: _natural_key(kv[0])
    ):
        namespace: dict = {"__name__": f"nngrade_tests_{stem}"}
        exec(compile(source, f"tests/{stem}.py", "exec"), namespace)
        cases = [v for v in namespace.values() if isinstance(v, OtterTestCase)]
        resolved = TestFile.resolve_test_file_points(
            namespace.get("points"), [c.to_dataclass() for c in cases]
        )
        name = str(namespace.get("name", stem))
        tests = tuple(
            GradingTest(
                question=name,
                name=case.test_func.__name__,
                points=float(r.points or 0),
                hidden=bool(case.hidden),
                function=case.test_func,
            )
            for case, r in zip(cases, resolved, strict=True)
        )
        questions.append(Question(name=name, tests=tests))
    return questions


def tests_fingerprint(autograder_zip: Path) -> str:
    """sha256 over the test sources and the support modules they import, so a batch can tell
    when the tests changed."""
    digest = hashlib.sha256()
    for stem, source in sorted(_test_sources(autograder_zip).items()):
        digest.update(stem.encode() + b"\0" + source.encode() + b"\0")
    for name, source in sorted(_support_sources(autograder_zip).items()):
        digest.update(f"files/{name}".encode() + b"\0" + source.encode() + b"\0")
    return digest.hexdigest()
