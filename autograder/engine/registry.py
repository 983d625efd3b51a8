"""The grading engines by name: the only place that knows which engines exist.

The CLI's ``--engine`` choices, the batch and the pipeline all go through here. An engine is
registered by its name, a one-line description, and where its class lives; the module is
imported only when the engine is asked for, so an engine's heavy dependencies (otter,
nbgrader) cost nothing to the others. A new engine (``nbgrader``) is one more entry.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from autograder.engine.base import Engine, EngineSettings

__all__ = ["DEFAULT_ENGINE", "ENGINES", "UnknownEngine", "describe_engines", "get_engine"]


@dataclass(frozen=True)
class _Entry:
    module: str
    cls: str
    summary: str


_REGISTRY: dict[str, _Entry] = {
    "nngrade": _Entry(
        "autograder.engine.grade",
        "NngradeEngine",
        "sandboxed kernel, tests on the grader's side",
    ),
    "otter": _Entry(
        "autograder.engine.otter_engine",
        "OtterEngine",
        "otter's grade_submission, tests inside the student's kernel",
    ),
    "nbgrader": _Entry(
        "autograder.engine.nbgrader_engine",
        "NbgraderEngine",
        "nbgrader's autograde, tests inside the student's kernel",
    ),
}

#: Every engine's name, the default first.
ENGINES: tuple[str, ...] = tuple(_REGISTRY)
DEFAULT_ENGINE = "nngrade"


class UnknownEngine(ValueError):
    """No engine of that name; the message lists the ones there are."""


def get_engine(name: str, settings: EngineSettings | None = None) -> Engine:
    """The engine called ``name``, made for this machine's ``settings``."""
    try:
        entry = _REGISTRY[name]
    except KeyError:
        raise UnknownEngine(f"unknown engine {name!r}; engines: {', '.join(ENGINES)}") from None
    cls = getattr(importlib.import_module(entry.module), entry.cls)
    return cls(settings or EngineSettings())


def describe_engines() -> str:
    """One line per engine, ``name: summary``, for help texts."""
    return " ".join(f"{name}: {entry.summary}." for name, entry in _REGISTRY.items())
