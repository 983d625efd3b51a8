"""Where a problem set's files are: one folder ``solutions/<ps>/`` and what is built from it.

A problem set is self-contained in its folder: the master notebook ``<ps>.py`` (jupytext
percent format, otter-assign format), its hidden tests' checks module (optional;
``ps1_perceptron_checks.py`` for ``ps1-perceptron``), ``mistakes.yaml``,
``alternatives.yaml`` and ``grading.yaml``. ``nngrade build`` turns it into the student
release in ``assignments/<ps>/`` and the instructor-only artifacts in ``dist/<ps>/``.
:class:`ProblemSet` is the one place that knows every one of these paths.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from autograder.errors import ConfigError, ProblemSetNotFound

if TYPE_CHECKING:
    from autograder.engine.sandbox import SandboxLimits

__all__ = [
    "ROOT_ENV_VAR",
    "ProblemSet",
    "ProblemSetNotFound",
    "demo_class_size",
    "find_problem_sets",
    "grading_limits",
    "kernel_setup",
    "repo_root",
    "submission_file_patterns",
]

ROOT_ENV_VAR = "NNGRADE_ROOT"


@dataclass(frozen=True)
class ProblemSet:
    """One problem set: its name, its master file and the checkout it belongs to.

    Every path of the problem set is a property, so nothing else builds one by hand.
    """

    name: str
    master: Path
    root: Path

    # ------------------------------------------------------------ solutions/<ps>/ (the sources)

    @property
    def folder(self) -> Path:
        """The problem set's own folder, ``solutions/<ps>/``: everything it is made from."""
        return self.master.parent

    @property
    def mistakes(self) -> Path:
        """Realistic wrong submissions and the points each loses: ``mistakes.yaml``."""
        return self.folder / "mistakes.yaml"

    @property
    def alternatives(self) -> Path:
        """Correct answers written differently, each worth full marks: ``alternatives.yaml``."""
        return self.folder / "alternatives.yaml"

    @property
    def grading_config(self) -> Path:
        """The sandbox limits for grading it: ``grading.yaml`` (optional)."""
        return self.folder / "grading.yaml"

    @property
    def checks_module_name(self) -> str:
        """The import name of the hidden tests' checks module, unique to the problem set.

        ``ps1-perceptron`` gives ``ps1_perceptron_checks``: two problem sets never share a
        name, so their modules cannot collide in ``sys.modules``.
        """
        return re.sub(r"\W|^(?=\d)", "_", self.name) + "_checks"

    @property
    def checks_module(self) -> Path:
        """The checks module its hidden tests import (optional): ``<checks_module_name>.py``.

        The build ships it inside the autograder zip; grading imports the zip's copy.
        """
        return self.folder / f"{self.checks_module_name}.py"

    # ------------------------------------------------------- assignments/<ps>/ (the release)

    @property
    def assignment_dir(self) -> Path:
        """The student release, tracked in git: ``assignments/<ps>/``."""
        return self.root / "assignments" / self.name

    @property
    def student_notebook(self) -> Path:
        """The notebook students receive: ``assignments/<ps>/<ps>.ipynb``."""
        return self.assignment_dir / f"{self.name}.ipynb"

    # --------------------------------------------------------- dist/<ps>/ (git-ignored)

    @property
    def dist_dir(self) -> Path:
        """Artifacts that contain hidden tests or solutions, git-ignored: ``dist/<ps>/``."""
        return self.root / "dist" / self.name

    @property
    def autograder_dir(self) -> Path:
        """otter's autograder folder: ``dist/<ps>/autograder/``."""
        return self.dist_dir / "autograder"

    @property
    def autograder_zip(self) -> Path:
        """Every test, and the checks module: ``dist/<ps>/autograder/<ps>-autograder.zip``."""
        return self.autograder_dir / f"{self.name}-autograder.zip"

    @property
    def solution_notebook(self) -> Path:
        """The solution with all tests, as a student would submit it:
        ``dist/<ps>/autograder/<ps>.ipynb``."""
        return self.autograder_dir / f"{self.name}.ipynb"

    @property
    def master_notebook(self) -> Path:
        """The master converted to a notebook: ``dist/<ps>/master/<ps>.ipynb``."""
        return self.dist_dir / "master" / f"{self.name}.ipynb"

    @property
    def is_built(self) -> bool:
        """Whether ``nngrade build`` has written the autograder zip."""
        return self.autograder_zip.is_file()

    def relative(self, path: Path) -> str:
        """``path`` relative to the checkout's root, for messages (as given if outside it)."""
        try:
            return Path(path).resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return str(path)


def repo_root() -> Path:
    """The checkout's root: the folder holding ``pyproject.toml`` and ``solutions/``.

    ``$NNGRADE_ROOT`` overrides it. Otherwise it is found from this file's location, which works
    for a source checkout and for the editable install that ``make setup`` makes. Raises
    :class:`ConfigError` when neither gives a checkout.
    """
    override = os.environ.get(ROOT_ENV_VAR)
    if override:
        root = Path(override).expanduser().resolve()
        if not root.is_dir():
            raise ConfigError(f"${ROOT_ENV_VAR} is {override!r}, which is not a folder")
        return root
    root = Path(__file__).resolve().parent.parent
    if not (root / "pyproject.toml").is_file():
        raise ConfigError(
            f"cannot find the course checkout from {Path(__file__).resolve()}; "
            f"run from an editable install or set ${ROOT_ENV_VAR} to the checkout's root"
        )
    return root


def _normalise_name(name: str) -> str:
    """Accept ``ps1``, ``ps1/``, ``solutions/ps1`` and ``solutions/ps1/ps1.py`` alike."""
    path = Path(name.strip().rstrip("/\\"))
    if path.suffix == ".py":
        return path.stem
    return path.name


def find_problem_sets(root: Path, names: Sequence[str] = ()) -> list[ProblemSet]:
    """Every problem set under ``root/solutions``, sorted by name, or just the ones named.

    A problem set is a folder ``solutions/<ps>/`` holding its master ``<ps>.py``. Names that
    match none raise :class:`ProblemSetNotFound`, whose message lists the ones there are.
    """
    root = Path(root).resolve()
    solutions = root / "solutions"
    available: dict[str, ProblemSet] = {}
    if solutions.is_dir():
        for folder in sorted(solutions.iterdir()):
            if folder.name.startswith((".", "_")) or not folder.is_dir():
                continue
            master = folder / f"{folder.name}.py"
            if master.is_file():
                available[folder.name] = ProblemSet(folder.name, master, root)
    if not names:
        return list(available.values())

    wanted = list(dict.fromkeys(_normalise_name(n) for n in names))
    unknown = [n for n in wanted if n not in available]
    if unknown:
        listing = ", ".join(available) if available else f"none (nothing in {solutions})"
        plural = "s" if len(unknown) > 1 else ""
        raise ProblemSetNotFound(
            f"unknown problem set{plural}: {', '.join(unknown)}. Available: {listing}"
        )
    return [available[n] for n in sorted(wanted)]


def grading_limits(ps: ProblemSet, cell_timeout: float | None = None) -> SandboxLimits:
    """The sandbox limits for grading ``ps``: ``solutions/<ps>/grading.yaml`` if it exists,
    else the defaults; ``cell_timeout`` (the CLI's ``--timeout``) overrides the file.

    Raises :class:`ConfigError` for a setting the sandbox does not know.
    """
    from autograder.engine.sandbox import SandboxLimits

    path = ps.grading_config
    settings = _grading_settings(path)
    for key in OTHER_SETTINGS:
        settings.pop(key, None)
    allowed = set(SandboxLimits.__dataclass_fields__)
    unknown = sorted(set(settings) - allowed)
    if unknown:
        raise ConfigError(
            f"{path}: unknown setting(s) {unknown}; use {sorted(allowed | set(OTHER_SETTINGS))}"
        )
    if cell_timeout is not None:
        settings["cell_timeout"] = cell_timeout
    return SandboxLimits(**settings)


#: Settings of ``grading.yaml`` that are not the sandbox's limits: the engine's, and the
#: demo's class size.
OTHER_SETTINGS = ("kernel_setup", "submission_files", "saved_models", "demo_class_size")


def _grading_settings(path: Path) -> dict:
    import yaml

    settings = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
    if settings is not None and not isinstance(settings, dict):
        raise ConfigError(f"{path}: expected a mapping of settings")
    return dict(settings or {})


def kernel_setup(grading_config: Path) -> str:
    """The code the engine runs in the kernel before the student's first cell, from the
    ``kernel_setup:`` entry of a ``grading.yaml`` (``""`` when there is none or no file).

    It is the grader's own code (seeds, TensorFlow's op determinism), so that grading the same
    notebook twice gives the same scores. Raises :class:`ConfigError` if it is not text.
    """
    setup = _grading_settings(Path(grading_config)).get("kernel_setup", "")
    if not isinstance(setup, str):
        raise ConfigError(f"{grading_config}: kernel_setup must be Python code, as text")
    return setup


def demo_class_size(ps: ProblemSet) -> int | None:
    """How many of the sample class's kinds ``nngrade demo`` grades for ``ps``: the
    ``demo_class_size:`` of its ``grading.yaml``, or None (each kind once) without one.

    A problem set whose every grading trains networks asks for a short class, so that the
    demo shows the whole workflow in minutes; ``--class-size`` overrides it. Raises
    :class:`ConfigError` for anything but a positive whole number.
    """
    size = _grading_settings(ps.grading_config).get("demo_class_size")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
        raise ConfigError(f"{ps.grading_config}: demo_class_size must be a positive number")
    return size


def submission_file_patterns(grading_config: Path, trust_saved_models: bool = False
                             ) -> tuple[str, ...]:
    """The file-name patterns of the files next to a folder submission's notebook that are
    copied into the sandbox with it: ``grading.yaml``'s ``submission_files:`` always, its
    ``saved_models:`` only when the instructor trusts saved models (``--trust-saved-models``).

    Every other file stays out, so by default a notebook that saves and loads its models
    retrains from its own code, which is what a TA can read. Raises :class:`ConfigError` for
    an entry that is not a list of plain file-name patterns.
    """
    settings = _grading_settings(Path(grading_config))
    keys = ("submission_files", "saved_models") if trust_saved_models else ("submission_files",)
    patterns: list[str] = []
    for key in keys:
        entry = settings.get(key, [])
        if not isinstance(entry, list) or not all(isinstance(x, str) and x for x in entry):
            raise ConfigError(f"{grading_config}: {key} must be a list of file-name patterns")
        if any("/" in x or x.startswith(".") for x in entry):
            raise ConfigError(f"{grading_config}: {key}: a pattern names files next to the "
                              "notebook, never a path or a hidden file")
        patterns.extend(entry)
    return tuple(dict.fromkeys(patterns))
