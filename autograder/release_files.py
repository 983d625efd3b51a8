"""The student release folder on disk: listing it, comparing it, swapping a new one in.

Listing skips git-ignored editor and cache folders, so a Jupyter checkpoint never makes a
release stale; swapping replaces whole folders, so an interrupted build never leaves half of
a new release behind.
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

from autograder.problem_sets import ProblemSet

__all__ = ["IGNORED_NAMES", "compare_release", "files", "files_under", "replace_dir"]

# Files that may sit in assignments/<ps>/ without making it stale (all git-ignored).
IGNORED_NAMES = frozenset({".ipynb_checkpoints", "__pycache__", ".DS_Store"})


def files(folder: Path) -> list[Path]:
    """Regular files under ``folder``, sorted, skipping git-ignored editor and cache folders."""
    out = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d not in IGNORED_NAMES)
        out.extend(Path(dirpath) / f for f in sorted(filenames) if f not in IGNORED_NAMES)
    return sorted(out)


def files_under(folder: Path) -> list[Path]:
    """:func:`files`, relative to ``folder``."""
    return [p.relative_to(folder) for p in files(folder)]


def compare_release(ps: ProblemSet, staged: Path) -> list[str]:
    """How ``assignments/<ps>/`` differs from ``staged``, file by file, byte for byte.

    One entry per file, relative to the checkout: ``... (differs)``, ``(missing)``, ``(extra)``.
    """
    want = {p.relative_to(staged).as_posix(): p for p in files(staged)}
    have: dict[str, Path] = {}
    if ps.assignment_dir.is_dir():
        have = {p.relative_to(ps.assignment_dir).as_posix(): p for p in files(ps.assignment_dir)}
    prefix = ps.relative(ps.assignment_dir)
    stale = []
    for rel in sorted(want.keys() | have.keys()):
        if rel not in have:
            stale.append(f"{prefix}/{rel} (missing)")
        elif rel not in want:
            stale.append(f"{prefix}/{rel} (extra)")
        elif want[rel].read_bytes() != have[rel].read_bytes():
            stale.append(f"{prefix}/{rel} (differs)")
    return stale


def replace_dir(staged: Path, target: Path) -> None:
    """Make ``target`` a copy of ``staged``, swapping whole folders so no half state remains."""
    target.parent.mkdir(parents=True, exist_ok=True)
    token = f"{os.getpid()}-{secrets.token_hex(4)}"
    new = target.with_name(f".{target.name}.new-{token}")
    old = target.with_name(f".{target.name}.old-{token}")
    try:
        shutil.copytree(staged, new)
        if target.exists():
            target.rename(old)
        try:
            new.rename(target)
        except OSError:
            if old.exists() and not target.exists():
                old.rename(target)
            raise
    finally:
        shutil.rmtree(new, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
