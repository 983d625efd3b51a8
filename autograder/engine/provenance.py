"""Where a grading came from, read from git: which master graded it, when the work was submitted.

- :func:`solutions_commit`: the commit of the problem set's master file, so a grade can be
  traced to the exact tests and solution; ``"dirty"`` when the master in the working tree is
  not what that commit holds (edited, staged, or never committed); ``""`` when the master is
  not in a git repository at all (or git is not installed).
- :func:`submitted_at`: nbgrader's ``timestamp.txt`` beside the notebook, else the last commit
  of a student's repository clone, else the notebook's modification time.
- :func:`submission_commit`: the commit a folder submission that is a git checkout is at.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

from autograder.engine.job import Job

__all__ = ["DIRTY", "solutions_commit", "submission_commit", "submitted_at"]

DIRTY = "dirty"
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


def solutions_commit(master: Path) -> str:
    """``git log -1 --format=%H -- <master>`` in the repository holding it; see the module."""
    master = Path(master).resolve()
    folder = master.parent
    if _git(folder, "rev-parse", "--show-toplevel") is None:
        return ""
    pathspec = f":(literal){master.name}"
    commit = _git(folder, "log", "-1", "--format=%H", "--", pathspec)
    if not commit:  # untracked, or git cannot tell
        return DIRTY
    changes = _git(folder, "status", "--porcelain", "--ignored", "--", pathspec)
    return commit if changes == "" else DIRTY


def submission_commit(job: Job) -> str:
    """The commit (``HEAD``) of a folder submission that is a git checkout, else ``""``."""
    if job.folder is None or not (job.folder / ".git").exists():
        return ""
    return _git(job.folder, "rev-parse", "--verify", "HEAD") or ""


def submitted_at(job: Job) -> str | None:
    """When the student submitted, as ISO 8601 with its UTC offset; None without a notebook."""
    if job.notebook is None:
        return None
    from autograder.engine.nbgrader_course import nbgrader_timestamp

    stamped = nbgrader_timestamp(job.notebook)  # nbgrader's submitted/ layout
    if stamped is not None:
        return stamped.isoformat(timespec="seconds")
    if job.folder is not None and (job.folder / ".git").exists():
        when = _git(job.folder, "log", "-1", "--format=%cI")
        if when:
            return when
    mtime = job.notebook.stat().st_mtime
    return datetime.fromtimestamp(mtime, tz=UTC).isoformat(timespec="seconds")
