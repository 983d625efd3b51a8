"""Load a problem set's tests from the autograder zip that ``nngrade build`` writes.

The zip holds one otter exception-format file per question (``tests/q1a.py``): a module-level
``points`` and test functions decorated with ``@test_case(points=..., hidden=...)``. All three
engines read these same files. Here they are executed in the grader's own process, which is
safe because they come from our ``dist/``, never from a submission.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from otter.test_files.abstract_test import TestFile
from otter.test_files.exception_test import test_case as OtterTestCase

__all__ = ["GradingTest", "Question", "load_questions", "tests_fingerprint"]


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


def load_questions(autograder_zip: Path) -> list[Question]:
    """Every question with its tests, in natural order (q1a, q1b, ..., q10)."""
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
    """sha256 over the test sources, so a batch can tell when the tests changed."""
    digest = hashlib.sha256()
    for stem, source in sorted(_test_sources(autograder_zip).items()):
        digest.update(stem.encode() + b"\0" + source.encode() + b"\0")
    return digest.hexdigest()
