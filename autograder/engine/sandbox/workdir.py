"""The submission's work folder: a size-capped ``nosuid,nodev,noexec`` tmpfs, and its end.

:func:`work_folder` (a context manager) is the one place a grading work folder comes from.
As root it mounts a tmpfs per submission (``size=N,nosuid,nodev,noexec,mode=0700``, owned by
the sandbox user) under a private parent (mode 0710, group of the sandbox user: only root and
the sandbox user may pass, nobody may list it). A set-uid file made there does nothing (nosuid)
and nobody else can reach it; a write beyond the cap fails with ENOSPC inside the sandbox; and
the clean-up is one lazy unmount (``MNT_DETACH``), whatever tree the student left. The grader
(root) still writes its ``.npy`` argument files into it.

Without root there is no mount: a plain private folder, removed with ``rm -rf`` (which handles
any depth), and :attr:`WorkFolder.warnings` says which guarantees are missing. Clean-up never
raises; a problem becomes a warning for that student's result.

:class:`Loan` is for folders the sandbox user cannot reach by name (bubblewrap, run as that
user, resolves every folder it binds as that user): each is bind-mounted ``nosuid,nodev``
(read-only unless it is the work folder) into the kernel's private runtime folder, and
bubblewrap binds it from there. A work folder the caller made is lent to the sandbox user
for the kernel's life. :func:`describe` says what a folder sits on.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from autograder.engine.sandbox.identity import SandboxUser, sandbox_user

__all__ = ["Loan", "WorkFolder", "describe", "remove_tree", "sweep", "work_folder"]

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND = 1, 2, 4, 8, 32, 4096
MNT_DETACH = 2
MS_REC, MS_SLAVE = 16384, 1 << 19
CLONE_NEWNS = 0x00020000
_libc = ctypes.CDLL(None, use_errno=True)


@dataclass
class WorkFolder:
    """A work folder, what it guarantees, and what went wrong with it."""

    path: Path
    guarantee: str
    warnings: list[str] = field(default_factory=list)


def _mount(source: str, target: Path, fstype: str | None, flags: int, data: str = "") -> None:
    result = _libc.mount(
        source.encode(), str(target).encode(), fstype.encode() if fstype else None,
        ctypes.c_ulong(flags), data.encode() if data else None,
    )  # fmt: skip
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"mount {target}: {os.strerror(errno)}")


def _detach(target: Path) -> str | None:
    """Lazily unmount ``target``; a problem in words, or ``None``."""
    if _libc.umount2(str(target).encode(), MNT_DETACH) != 0:
        errno = ctypes.get_errno()
        return f"unmounting {target} failed: {os.strerror(errno)}"
    return None


def remove_tree(path: Path) -> str | None:
    """Remove ``path`` and all below it, at any depth; a problem in words, or ``None``."""
    with contextlib.suppress(OSError):
        if not os.path.lexists(path):
            return None
    try:
        done = subprocess.run(
            ["rm", "-rf", "--one-file-system", "--", str(path)],
            capture_output=True, text=True, timeout=300, env={"PATH": os.defpath},
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"the work folder could not be removed: {error}"
    if done.returncode != 0 or os.path.lexists(path):
        return f"the work folder could not be removed: {done.stderr.strip()[:300]}"
    return None


_PREFIX = "nngrade-work-"


def _owner(pid: int) -> str:
    """``<pid>.<start time>``: names a process for as long as it runs, never a later one."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return f"{pid}.gone"
    return f"{pid}.{stat.rsplit(')', 1)[1].split()[19]}"


def sweep() -> int:
    """Unmount and remove the work folders of graders that no longer run (a SIGKILLed
    grader's); how many. Never raises."""
    removed = 0
    with contextlib.suppress(OSError):
        for parent in Path(tempfile.gettempdir()).glob(f"{_PREFIX}*-*"):
            owner = parent.name[len(_PREFIX) :].rpartition("-")[0]
            pid = owner.partition(".")[0]
            if not pid.isdigit() or _owner(int(pid)) == owner:
                continue
            work = parent / "work"
            if os.path.ismount(work):
                _detach(work)
            if remove_tree(parent) is None:
                removed += 1
    return removed


@contextlib.contextmanager
def work_folder(size_bytes: int, user: SandboxUser | None = None) -> Iterator[WorkFolder]:
    """A fresh work folder for one submission, capped at ``size_bytes``; see the module."""
    if user is None:
        user = sandbox_user()[0]
    sweep()
    parent = Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{_owner(os.getpid())}-")).resolve()
    path = parent / "work"
    path.mkdir(mode=0o700)
    folder = WorkFolder(path, "")
    mounted = False
    try:
        if os.geteuid() == 0:
            uid, gid = (user.uid, user.gid) if user else (0, 0)
            os.chown(parent, 0, gid)
            os.chmod(parent, 0o710)
            options = f"size={size_bytes},mode=0700,uid={uid},gid={gid}"
            _mount("nngrade-work", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, options)
            mounted = True
            folder.guarantee = (
                f"tmpfs nosuid,nodev,noexec size={size_bytes // 2**20} MiB, "
                f"private parent (0710)"
            )
        else:
            folder.guarantee = "plain private folder (0700) on the host's disk: no size cap"
            folder.warnings.append(
                "NOT ISOLATED: the work folder is a plain folder (the grader is not root): "
                "no size cap, no nosuid"
            )
        yield folder
    finally:
        problems = [_detach(path)] if mounted else [remove_tree(path)]
        if mounted and not problems[0]:
            with contextlib.suppress(OSError):
                path.rmdir()
        problems.append(remove_tree(parent))
        folder.warnings.extend(f"Clean-up: {p}" for p in problems if p)


class Loan:
    """Folders lent to the sandbox user for one kernel: the work folder's owner while the
    kernel runs, and bind mounts for the folders the user cannot reach by name.

    The bind mounts are made by the kernel's own process between fork and exec
    (:meth:`enter`), in a mount namespace of its own: they exist for bubblewrap only, and
    vanish with it, however the grader ends. On the host the runtime folder holds only their
    empty mount points.
    """

    def __init__(self, runtime: Path) -> None:
        self.runtime = runtime
        self.sources: dict[Path, Path] = {}  # folder -> where bubblewrap finds it
        self._writable: dict[Path, bool] = {}
        self.owner: tuple[int, int, int] | None = None  # the work folder's uid, gid, mode

    def bridge(self, folder: Path, writable: bool) -> Path:
        """Plan a bind of ``folder`` (``nosuid,nodev``, read-only unless ``writable``) into
        the runtime folder, where the sandbox user can reach it; the place it is bound at."""
        mnt = self.runtime / "mnt"
        mnt.mkdir(mode=0o755, exist_ok=True)
        target = mnt / str(len(self.sources))
        target.mkdir(mode=0o755)
        self.sources[folder] = target
        self._writable[folder] = writable
        return target

    def enter(self) -> None:
        """In the forked child, as root, before exec: a private mount namespace, and in it
        the planned binds."""
        if not self.sources:
            return
        if _libc.unshare(CLONE_NEWNS) != 0:
            raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNS)")
        _mount("none", Path("/"), None, MS_REC | MS_SLAVE)  # nothing goes back to the host
        for folder, target in self.sources.items():
            _mount(str(folder), target, None, MS_BIND)
            flags = MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV
            _mount("none", target, None, flags | (0 if self._writable[folder] else MS_RDONLY))

    def lend_workdir(self, workdir: Path, user: SandboxUser, reachable: bool) -> None:
        """Make ``workdir`` the sandbox user's for the kernel's life; bridge it if need be."""
        info = os.stat(workdir)
        if info.st_uid != user.uid:
            self.owner = (info.st_uid, info.st_gid, info.st_mode & 0o7777)
            os.chown(workdir, user.uid, user.gid)
            os.chmod(workdir, 0o700)
        if not reachable:
            self.bridge(workdir, writable=True)

    def end(self, workdir: Path) -> list[str]:
        """Give the work folder back to its owner; problems, in words."""
        problems = []
        if self.owner is not None:
            uid, gid, mode = self.owner
            try:
                os.chown(workdir, uid, gid)
                os.chmod(workdir, mode)
            except OSError as error:
                problems.append(f"the work folder's owner could not be restored: {error}")
            self.owner = None
        return problems


def describe(path: Path) -> str:
    """The filesystem ``path`` is on and its mount options, from /proc/self/mountinfo."""
    best: tuple[int, str] = (-1, "unknown")
    resolved = str(Path(path).resolve())
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            left, _, right = line.partition(" - ")
            fields, tail = left.split(), right.split()
            point = fields[4].encode().decode("unicode_escape")
            if resolved == point or resolved.startswith(point.rstrip("/") + "/"):
                if len(point) > best[0]:
                    best = (len(point), f"{tail[0]} {fields[5]} {tail[2] if len(tail) > 2 else ''}")
    return best[1].strip()
