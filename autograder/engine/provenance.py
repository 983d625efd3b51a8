"""Where a grading came from: when the work was submitted.

- :func:`submitted_at`: the last commit of a student's repository clone, else the notebook's
  modification time.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

from autograder.engine.job import Job

__all__ = ["submitted_at"]

_GIT_TIMEOUT = 30


def _git(folder: Path, *args: str) -> str | None:
    """git's stdout, stripped, or None when git fails or is missing."""
    try:
        done = subprocess.run(
            ["git", "-c", "core.fsmonitor=false", "-C", str(folder), *args],
            capture_output=True,
            text=True,
            timeout=_GIT_TIMEOUT,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def submitted_at(job: Job) -> str | None:
    """When the student submitted, as ISO 8601 with its UTC offset; None without a notebook."""
    if job.notebook is None:
        return None
    if job.folder is not None and (job.folder / ".git").exists():
        when = _git(job.folder, "log", "-1", "--format=%cI")
        if when:
            return when
    mtime = job.notebook.stat().st_mtime
    return datetime.fromtimestamp(mtime, tz=UTC).isoformat(timespec="seconds")
