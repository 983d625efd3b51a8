"""The interface every grading engine implements: a job in, a :class:`SubmissionResult` out.

An engine is a small picklable object, made by :func:`autograder.engine.registry.get_engine`
from the machine's :class:`EngineSettings`, so a runner (the local process pool, a cluster)
can ship it with each job. ``grade`` is called only for a job that has a notebook; it never
raises for anything the student did (an unreadable notebook is a ``malformed`` result), only
for a failure of the grader itself. The runner (:mod:`autograder.engine.runner`) adds the
result's provenance: problem set, engine, version, digests, times, solutions commit.
"""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:  # only names in annotations: this module stays cheap for the CLI to import
    from autograder.engine.job import Job
    from autograder.engine.sandbox import SandboxLimits
    from autograder.results import SubmissionResult

__all__ = ["Engine", "EngineSettings", "installed_version"]


@dataclass(frozen=True)
class EngineSettings:
    """What the machine that grades provides, the same for every job of a batch.

    ``readonly_paths``: host folders bound read-only into a sandbox (the dataset cache);
    ``require_sandbox``: refuse to grade without a real sandbox instead of falling back.
    An engine uses what applies to it.
    """

    readonly_paths: tuple[Path, ...] = ()
    require_sandbox: bool = False


@runtime_checkable
class Engine(Protocol):
    """A grading engine. ``name`` is what ``--engine`` and results.json call it."""

    name: str

    def version(self) -> str:
        """The version of the software that grades (recorded with every result)."""
        ...

    def grade(self, job: Job, limits: SandboxLimits) -> SubmissionResult:
        """Grade ``job.notebook`` against ``job.problem_set``'s tests within ``limits``."""
        ...

    def host_problems(self) -> list[str]:
        """What this engine cannot guarantee on this host, one sentence each; said before a
        batch starts, and a reason to refuse under ``--require-sandbox``."""
        ...


def installed_version(distribution: str) -> str:
    """The installed version of a Python distribution, or ``"unknown"``."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
