"""The sandbox's processes, once started: watch them, kill them, enforce the limits on them.

:class:`ProcessTree` follows the process the grader started (bubblewrap, or the fallback's
reaper) and everything below it: whether it runs (peeked at with ``os.waitid``, never reaped
before :meth:`ProcessTree.shutdown`, so that its process group id cannot be reused), why it
ended, and how to kill all of it. :class:`SamplingWatchdog` enforces the memory and process
limits by sampling the tree; it sits behind the small :class:`Watchdog` interface so that a
kernel-enforced replacement (a cgroup) can take its place. The process itself is started by
:mod:`autograder.engine.sandbox.launch`, and adopted here with :meth:`ProcessTree.adopt`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Protocol

import psutil

from autograder.limits import WATCH_INTERVAL, SandboxLimits

__all__ = [
    "ProcessTree",
    "SamplingWatchdog",
    "SandboxLimits",
    "Watchdog",
    "describe_exit",
    "fallback_nproc",
]

log = logging.getLogger(__name__)

_STDERR_KEEP = 64 * 1024


def fallback_nproc(max_processes: int) -> int:
    """A coarse RLIMIT_NPROC backstop for the unsandboxed kernel (root ignores it)."""
    if os.geteuid() == 0:
        return 0
    uid = os.getuid()
    tasks = 0
    for proc in psutil.process_iter(["uids", "num_threads"]):
        with contextlib.suppress(Exception):
            if proc.info["uids"] and proc.info["uids"].real == uid:
                tasks += proc.info["num_threads"] or 1
    # Threads count too (TensorFlow starts dozens); the watchdog does the real counting.
    return tasks + 16 * max_processes + 256


def describe_exit(code: int | None) -> str:
    """A student-readable sentence for the root's exit status (``-N`` or ``128+N``: signal N)."""
    if code is None:
        return "the kernel died"
    if code < 0 or code > 128:
        number = -code if code < 0 else code - 128
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        return f"the kernel died ({name})"
    return f"the kernel died (exit status {code})"


# ---------------------------------------------------------------------- the tree


class ProcessTree:
    """The kernel's processes: the root the grader started, the kernel, all below them."""

    def __init__(self) -> None:
        self.popen: subprocess.Popen | None = None
        self.root: psutil.Process | None = None
        self.kernel: psutil.Process | None = None
        #: Why the kernel ended (status, message), once it has; the first reason wins.
        self.death: tuple[str, str] | None = None
        self._seen: dict[int, psutil.Process] = {}
        self._stderr_kept = bytearray()
        self._stderr_thread: threading.Thread | None = None
        # Held while a kill is under way: whoever sees ``death`` set can wait for the end.
        self._kill_lock = threading.RLock()
        #: Which limit ended the kernel, when the kernel enforced one (the cgroup's counters).
        self.explain: Callable[[], tuple[str, str] | None] | None = None
        #: Kills what :meth:`kill` cannot see as descendants (the cgroup's every process).
        self.kill_rest: Callable[[], None] | None = None

    def adopt(self, popen: subprocess.Popen) -> None:
        """Follow ``popen`` (just started, its stderr a pipe) and keep the start of its stderr."""
        self.popen = popen
        self.root = psutil.Process(popen.pid)
        self._stderr_thread = threading.Thread(
            target=self._drain_stderr, name="nngrade-sandbox-stderr", daemon=True
        )
        self._stderr_thread.start()

    def note_started(self) -> None:
        """Remember the processes of a kernel that just answered, and which one is the kernel.

        bubblewrap's init and the kernel. Remembered from the start: when the kernel dies, the
        outer bwrap can exit before its init has finished, which then is no longer a
        descendant but still has to be waited for.
        """
        self._seen.update({proc.pid: proc for proc in self.descendants()})
        self.kernel = self._find_kernel()

    @property
    def stderr_log(self) -> str:
        """The first 64 KiB the root process wrote to its own stderr (start-up errors)."""
        return bytes(self._stderr_kept).decode("utf-8", "replace")

    def _drain_stderr(self) -> None:
        stream = self.popen.stderr if self.popen is not None else None
        if stream is None:
            return
        with contextlib.suppress(OSError, ValueError):
            while chunk := stream.read1(65536):
                room = _STDERR_KEEP - len(self._stderr_kept)
                if room > 0:
                    self._stderr_kept += chunk[:room]

    def _find_kernel(self) -> psutil.Process | None:
        for proc in sorted(self.descendants(), key=lambda p: p.pid):
            with contextlib.suppress(psutil.Error):
                if "ipykernel_launcher" in proc.cmdline():
                    return proc
        return None

    # ------------------------------------------------------------------ state

    def _peek(self) -> tuple[bool, int | None]:
        """Whether the root runs, and else its exit status (``-N``: signal N), without reaping.

        The one place that asks ``os.waitid``. The grader only reaps in :meth:`shutdown`, so
        that until then the process group id cannot be reused and signalling it stays safe.
        """
        if self.popen is None:
            return False, None
        if self.popen.returncode is not None:
            return False, self.popen.returncode
        try:
            info = os.waitid(os.P_PID, self.popen.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return False, self.popen.returncode
        if info is None:
            return True, None
        return False, info.si_status if info.si_code == os.CLD_EXITED else -info.si_status

    def root_running(self) -> bool:
        """Whether bwrap (or the fallback's reaper) runs."""
        return self._peek()[0]

    def root_exit_status(self) -> int | None:
        """The root's exit status (``-N`` for signal N); ``None`` while it runs or unknown."""
        return self._peek()[1]

    def exit_description(self) -> str:
        """How the root ended, for a start-up error: "exit status 1", "signal 9"."""
        if self.popen is None:
            return "not started"
        if self.popen.returncode is not None:
            return f"exit status {self.popen.returncode}"
        running, code = self._peek()
        if running:
            return "still running"
        if code is None or code >= 0:
            return f"exit status {code}"
        return f"signal {-code}"

    def kernel_running(self) -> bool:
        if self.kernel is None:
            return self.root_running()
        try:
            return self.kernel.is_running() and self.kernel.status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return False

    def running(self) -> bool:
        """Whether both the root and the kernel run."""
        return self.root_running() and self.kernel_running()

    def descendants(self) -> list[psutil.Process]:
        if self.root is None:
            return []
        try:
            return self.root.children(recursive=True)
        except psutil.Error:
            return []

    def processes(self) -> list[psutil.Process]:
        """The processes of the tree right now (bubblewrap's own included)."""
        if self.root is None or not self.root_running():
            return []
        return [self.root, *self.descendants()]

    def remember(self, procs: list[psutil.Process]) -> None:
        """Keep ``procs`` in mind, to be killed even when they are no longer descendants."""
        for proc in procs:
            self._seen.setdefault(proc.pid, proc)
        if len(self._seen) > 512:
            for pid, proc in list(self._seen.items()):
                if not proc.is_running():
                    del self._seen[pid]

    def settled_death(self) -> tuple[str, str] | None:
        """:attr:`death`, once the kill that recorded it has finished."""
        with self._kill_lock:
            return self.death

    # ------------------------------------------------------------------ killing

    def on_death(self) -> tuple[str, str]:
        """The kernel ended by itself: note why, and take down what it left behind."""
        # bubblewrap exits with the kernel's status (128 + signal number for a signal).
        deadline = time.monotonic() + 1.0
        while self.root_running() and time.monotonic() < deadline:
            time.sleep(0.01)
        verdict = self.explain() if self.explain is not None else None
        if verdict is not None:
            return self.kill(*verdict)
        return self.kill("died", describe_exit(self.root_exit_status()))

    def kill(self, status: str, message: str) -> tuple[str, str]:
        """Record why the kernel ends and kill its whole tree; return the reason recorded.

        The first reason wins: when the watchdog killed the kernel for its memory a moment
        before the cell's output overflowed, the cell's status is "memory".
        """
        with self._kill_lock:
            if self.death is None:
                self.death = (status, message)
                log.info("sandboxed kernel stopped: %s", message)
            self._kill_everything()
            return self.death

    def _kill_everything(self) -> None:
        """SIGKILL every process of the tree, the inner ones first, then bwrap itself."""
        if self.popen is None:
            return
        root_running = self.root_running()
        if self.kill_rest is not None:
            self.kill_rest()
        for _ in range(50):
            procs = {p.pid: p for p in self.descendants()}
            for pid, proc in list(self._seen.items()):
                if pid not in procs:
                    with contextlib.suppress(psutil.Error):
                        if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                            procs[pid] = proc
            alive = []
            for proc in procs.values():
                with contextlib.suppress(psutil.Error):
                    if proc.status() != psutil.STATUS_ZOMBIE:
                        proc.kill()  # psutil checks the process is still the one it saw
                        alive.append(proc)
            if not alive:
                break
            _wait_until_dead(alive, timeout=0.1)
        # bwrap exits once its child is gone; give it a moment, then make sure.
        deadline = time.monotonic() + 1.0
        while root_running and self.root_running() and time.monotonic() < deadline:
            time.sleep(0.01)
        if self.root_running():
            with contextlib.suppress(OSError):
                os.killpg(self.popen.pid, signal.SIGKILL)  # not reaped: the group is ours
            with contextlib.suppress(OSError):
                os.kill(self.popen.pid, signal.SIGKILL)

    def shutdown(self) -> None:
        """Kill the whole tree, reap the root and close its pipes. Afterwards nothing runs."""
        if self.popen is None:
            return
        with self._kill_lock:
            self._kill_everything()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=5)
        if self.popen.returncode is None:  # pragma: no cover - a stuck bwrap
            with contextlib.suppress(OSError):
                self.popen.kill()
            self.popen.wait()
        if self._stderr_thread is not None:
            self._stderr_thread.join(timeout=2)
        for stream in (self.popen.stdin, self.popen.stdout, self.popen.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


def _wait_until_dead(procs: list[psutil.Process], timeout: float) -> None:
    """Wait (at most ``timeout`` s) until each of ``procs`` is gone or a zombie. Most are not
    this process's children, and a killed one stays a zombie until the sandbox's init reaps
    it, so ``psutil.wait_procs`` would wait its whole timeout for each of them."""
    deadline = time.monotonic() + timeout
    pending = procs
    while pending and time.monotonic() < deadline:
        pending = [proc for proc in pending if _running(proc)]
        if pending:
            time.sleep(0.002)


def _running(proc: psutil.Process) -> bool:
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


# ---------------------------------------------------------------------- the watchdog


class Watchdog(Protocol):
    """Enforces the memory and process limits of a running tree until stopped."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


class SamplingWatchdog:
    """A thread that samples the tree every 50 ms and kills it when over a limit.

    Memory is the resident memory of every process plus what the private ``/tmp`` and
    ``/dev/shm`` hold (PSS, the precise and slower measure, confirms an excess before the
    kill); processes are those of the tree, bubblewrap's init not counted. Between two samples
    it calls ``between_cells``, which drops what the kernel sent while nobody was reading.
    """

    def __init__(
        self,
        tree: ProcessTree,
        limits: SandboxLimits,
        sandboxed: bool,
        between_cells: Callable[[], None] | None = None,
    ) -> None:
        self.tree = tree
        self.limits = limits
        self.sandboxed = sandboxed
        self.between_cells = between_cells
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._watch, name="nngrade-sandbox-watchdog", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def _watch(self) -> None:
        tree, limits = self.tree, self.limits
        memory_limit = limits.memory_mb * 1024 * 1024
        while not self._stop.wait(WATCH_INTERVAL):
            if tree.death is not None or not tree.root_running():
                # Nothing left to watch; execute() notices a death by itself.
                if tree.death is not None:
                    return
                continue
            procs = tree.descendants()
            tree.remember(procs)
            # bubblewrap's init (pid 1 inside) is not the student's; the fallback's reaper is
            # the root and not among the descendants.
            count = len(procs) - (1 if self.sandboxed else 0)
            if count > limits.max_processes:
                tree.kill(
                    "processes",
                    f"the notebook started more than {limits.max_processes} processes",
                )
                return
            used = self._memory(procs, precise=False)
            if used > memory_limit and self._memory(procs, precise=True) > memory_limit:
                tree.kill("memory", f"the notebook used more than {limits.memory_mb} MB of memory")
                return
            if self.between_cells is not None:
                self.between_cells()

    def _memory(self, procs: list[psutil.Process], precise: bool) -> int:
        """Bytes held by the tree: resident memory (PSS when precise) plus the private tmpfs."""
        total = 0
        for proc in [self.tree.root, *procs]:
            if proc is None:
                continue
            with contextlib.suppress(psutil.Error):
                total += proc.memory_full_info().pss if precise else proc.memory_info().rss
        kernel = self.tree.kernel
        if self.sandboxed and kernel is not None:
            for mount in ("tmp", "dev/shm"):
                with contextlib.suppress(OSError):
                    fs = os.statvfs(f"/proc/{kernel.pid}/root/{mount}")
                    total += (fs.f_blocks - fs.f_bfree) * fs.f_frsize
        return total
