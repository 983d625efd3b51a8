"""The sandbox's mount plan: from what the kernel may see to bubblewrap's command line.

:func:`bwrap_argv` is a pure function of a :class:`MountPlan`: it touches no file and runs no
program, so every rule below is testable without starting a kernel. What this machine has (the
system folders, the Python installation, the secret folders, bubblewrap's options) is found by
:mod:`autograder.engine.sandbox.host` and written into the plan.

The rules:

- the system (``/usr``, the usr-merged ``/bin`` and ``/lib`` kept as symlinks, a few files of
  ``/etc``), the Python installation, nnkit and the caller's data folders: read-only;
- a private ``/proc``, ``/dev``, ``/dev/shm`` and ``/tmp``, the two tmpfs capped at the memory
  limit when bubblewrap knows ``--size``;
- the runtime folder (the kernel's sockets) and the work folder: read-write;
- binds after the tmpfs on ``/tmp`` (placed later, it would hide a bind below ``/tmp``), parents
  before children (so that a writable folder inside a read-only one stays writable);
- no bind of a secret folder, of anything inside one, or of a folder holding the course
  repository: :class:`ValueError`. A secret folder inside a bound folder (the packages of a
  non-editable install in the venv) is covered by an empty read-only tmpfs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["SANDBOX_UID", "MountPlan", "SystemPath", "bwrap_argv", "inside", "namespace_options"]

#: The user and group the kernel runs as inside the sandbox.
SANDBOX_UID = 65534


@dataclass(frozen=True)
class SystemPath:
    """A system path shown read-only: bound, or (``link`` set) recreated as that symlink."""

    path: str
    link: str | None = None


@dataclass(frozen=True)
class MountPlan:
    """Everything :func:`bwrap_argv` needs. Paths are absolute, and resolved where it matters."""

    bwrap: str  # the bubblewrap executable
    features: frozenset[str]  # the options this bubblewrap knows
    system: tuple[SystemPath, ...]  # the system paths to show, in order
    python_prefixes: tuple[Path, ...]  # the Python installation and the virtualenv
    nnkit: Path | None  # nnkit's folder, when it is outside the virtualenv
    readonly_paths: tuple[Path, ...]  # the caller's data folders
    runtime: Path  # private: the kernel's sockets, bootstrap, passwd and group files
    workdir: Path  # the submission's folder, the only other writable one
    secret_dirs: tuple[Path, ...]  # the folders of secret course material on this machine
    course_repo: Path | None  # the course repository the engine runs from
    env: tuple[tuple[str, str], ...]  # the kernel's whole environment
    memory_bytes: int  # the size cap of the private /tmp and /dev/shm
    command: tuple[str, ...]  # what runs inside
    uid: int = SANDBOX_UID
    #: Where bubblewrap finds a folder, when not at its own name: (folder, source) pairs
    #: (bind mounts in the runtime folder, for folders the sandbox user cannot reach).
    sources: tuple[tuple[Path, Path], ...] = ()


def inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` is ``folder`` or below it (by name, without touching the disk)."""
    return path == folder or folder in path.parents


def namespace_options(features: frozenset[str], uid: int = SANDBOX_UID) -> list[str]:
    """bubblewrap's options for the namespaces and the user: all new, nothing shared."""
    options = ["--unshare-all", "--unshare-user"]
    if "--disable-userns" in features:
        options.append("--disable-userns")  # no nested user namespaces inside (bwrap 0.8+)
    options += ["--die-with-parent", "--uid", str(uid), "--gid", str(uid)]
    return options


def _binds(plan: MountPlan) -> dict[Path, str]:
    """The folders to bind, each with its option; refuses any that would show a secret."""
    binds: dict[Path, str] = {}
    nnkit = [plan.nnkit] if plan.nnkit else []
    for path in sorted(set(plan.python_prefixes)) + nnkit + list(plan.readonly_paths):
        binds.setdefault(path, "--ro-bind")
    binds[plan.runtime] = "--bind"
    binds[plan.workdir] = "--bind"
    root = plan.course_repo
    for path in binds:
        if any(inside(path, secret) for secret in plan.secret_dirs) or (
            root and inside(root, path)
        ):
            raise ValueError(
                f"refusing to show {path} inside the sandbox: it holds secret course material"
            )
    return binds


def bwrap_argv(plan: MountPlan) -> list[str]:
    """bubblewrap's whole command line for ``plan``, ending with ``-- <plan.command>``.

    Raises :class:`ValueError` when a folder to bind is, is inside, or holds secret course
    material.
    """
    binds = _binds(plan)
    # The private /tmp and /dev/shm count as the kernel's memory (see the watchdog); with
    # bwrap 0.7+ they are also capped at that size.
    size = ["--size", str(plan.memory_bytes)] if "--size" in plan.features else []
    argv = [plan.bwrap, *namespace_options(plan.features, plan.uid)]
    argv += ["--new-session", "--cap-drop", "ALL", "--hostname", "sandbox"]
    if "--clearenv" in plan.features:  # bwrap 0.5+; bwrap is started with PATH only anyway
        argv.append("--clearenv")
    for key, value in plan.env:
        argv += ["--setenv", key, value]
    # The system: read-only, symlinks (usr-merged /bin, /lib) kept as symlinks.
    for entry in plan.system:
        if entry.link is not None:
            argv += ["--symlink", entry.link, entry.path]
        else:
            argv += ["--ro-bind", entry.path, entry.path]
    argv += ["--proc", "/proc", "--dev", "/dev"]
    argv += [*size, "--tmpfs", "/dev/shm", *size, "--tmpfs", "/tmp"]
    # Everything else after the tmpfs on /tmp (it would hide binds below /tmp), parents
    # before children so that a writable work folder inside a read-only path stays writable.
    for path in sorted(binds, key=lambda p: (len(p.parts), str(p))):
        source = dict(plan.sources).get(path, path)
        argv += [binds[path], str(source), str(path)]
    argv += ["--ro-bind", str(plan.runtime / "passwd"), "/etc/passwd"]
    argv += ["--ro-bind", str(plan.runtime / "group"), "/etc/group"]
    # Secret folders inside a bound folder (say, the packages of a non-editable install in
    # the venv) are covered by an empty one.
    for secret in plan.secret_dirs:
        if any(inside(secret, p) for p in binds):
            argv += ["--tmpfs", str(secret), "--remount-ro", str(secret)]
    argv += ["--remount-ro", "/dev", "--remount-ro", "/"]
    argv += ["--chdir", str(plan.workdir), "--", *plan.command]
    return argv
