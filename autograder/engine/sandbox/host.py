"""What this machine offers the sandbox, found out for the mount plan.

Which bubblewrap options exist and whether bubblewrap can build the sandbox here at all; which
system paths, Python installation and nnkit folder to show; which folders hold secret course
material (the answer key, the engine, the solutions and hidden tests) and must never be shown.
Everything here reads the machine; :mod:`autograder.engine.sandbox.mounts` turns the answers
into bubblewrap's command line.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from importlib.util import find_spec
from pathlib import Path

from autograder.engine.sandbox.identity import SandboxUser, sandbox_user, unreachable
from autograder.engine.sandbox.mounts import SystemPath, inside, namespace_options

__all__ = [
    "bwrap_features",
    "bwrap_problem",
    "course_repo",
    "missing_guarantees",
    "nnkit_dir",
    "python_prefixes",
    "secret_dirs",
    "system_paths",
    "unreachable_for",
]

#: System folders, shown read-only (or, when the system has them as symlinks, as symlinks).
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
#: Parts of /etc the kernel's libraries read, shown read-only when they exist.
SYSTEM_FILES = ("/etc/alternatives", "/etc/ssl", "/etc/fonts", "/etc/ld.so.cache")


def course_repo() -> Path | None:
    """This course repository (the checkout the engine runs from), if it is one."""
    root = Path(__file__).resolve().parents[3]
    return root if (root / "solutions").is_dir() else None


def secret_dirs() -> list[Path]:
    """Folders the sandbox must never show, as far as they exist here: the answer key, the
    engine, the course material."""
    found = []
    for package in ("reference_impl", "autograder", "gradebook"):
        try:
            spec = find_spec(package)
        except (ImportError, ValueError):
            spec = None
        if spec is not None and spec.submodule_search_locations:
            found.extend(Path(p).resolve() for p in spec.submodule_search_locations)
    root = course_repo()
    if root is not None:
        found.extend(root / name for name in ("solutions", "dist", "tests", "reference_impl"))
    return [path for path in sorted(set(found)) if path.exists()]


def nnkit_dir() -> Path | None:
    """The folder an editable install of nnkit points to, when it is outside the venv."""
    try:
        spec = find_spec("nnkit")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    package = Path(next(iter(spec.submodule_search_locations))).resolve()
    if inside(package, Path(sys.prefix).resolve()):
        return None
    # The distribution folder (pyproject + package), as installed with ``pip install -e``.
    project = package.parent
    root = course_repo()
    if (project / "pyproject.toml").is_file() and not (root and inside(root, project)):
        return project
    return package


def python_prefixes() -> tuple[Path, ...]:
    """The Python installation and the virtualenv, as named and as resolved."""
    paths = {Path(sys.base_prefix), Path(sys.prefix)}
    paths |= {p.resolve() for p in paths}
    paths.add(Path(sys.executable).resolve().parent.parent)
    return tuple(sorted(paths))


def system_paths() -> tuple[SystemPath, ...]:
    """The system folders and files of this machine to show read-only, in mount order."""
    found = []
    for name in SYSTEM_DIRS:
        path = Path(name)
        if path.is_symlink():
            found.append(SystemPath(name, os.readlink(path)))
        elif path.is_dir():
            found.append(SystemPath(name))
    found += [SystemPath(name) for name in SYSTEM_FILES if Path(name).exists()]
    return tuple(found)


@functools.lru_cache(maxsize=8)
def bwrap_features(bwrap: str) -> frozenset[str]:
    """The options this bubblewrap knows (``--disable-userns`` and ``--size`` are recent)."""
    try:
        done = subprocess.run([bwrap, "--help"], capture_output=True, text=True, timeout=30, env={})
    except (OSError, subprocess.TimeoutExpired):
        return frozenset()
    return frozenset(re.findall(r"^\s+(--[a-z0-9-]+)", done.stdout, flags=re.MULTILINE))


def missing_guarantees() -> list[str]:
    """What this host cannot guarantee a sandbox, in words; empty on a full grading host."""
    from autograder.engine.sandbox import cgroups  # the limiter imports the supervisor

    missing = []
    bwrap = shutil.which("bwrap")
    problem = "bubblewrap (bwrap) is not installed" if not bwrap else bwrap_problem(bwrap)
    if problem:
        missing.append(f"no sandbox: {problem}")
    user, why = sandbox_user()
    if user is None:
        missing.append(f"no sandbox user: {why}")
    problem = cgroups.available()
    if problem:
        missing.append(f"limits sampled, not enforced by the kernel: {problem}")
    if os.geteuid() != 0:
        missing.append("work folders are plain folders (no size cap, no nosuid): not root")
    return missing


def unreachable_for(
    user: SandboxUser, read: Sequence[Path], write: Sequence[Path] = ()
) -> list[str]:
    """The folders the sandbox user could not bind (``read``) or write in (``write``)."""
    return unreachable(user, read, write)


@functools.lru_cache(maxsize=8)
def bwrap_problem(bwrap: str, uid: int | None = None, gid: int | None = None) -> str | None:
    """Why ``bwrap`` cannot build our kind of sandbox here (as ``uid``:``gid`` when given, with
    no supplementary groups), or ``None`` when it can."""
    command = [
        bwrap, *namespace_options(bwrap_features(bwrap)), "--ro-bind", "/", "/",
        "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--", "true",
    ]  # fmt: skip
    as_user = {} if uid is None else {"user": uid, "group": gid, "extra_groups": []}
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=30, env={"PATH": os.defpath},
            cwd="/", **as_user,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"{bwrap} could not be run: {error}"
    if done.returncode != 0:
        message = (done.stderr or done.stdout).strip() or f"exit status {done.returncode}"
        return f"{bwrap} cannot create the sandbox here: {message[:500]}"
    return None
