"""A Jupyter kernel for untrusted notebook code: ipykernel inside bubblewrap, with limits.

The grader runs a student's cells in a :class:`SandboxedKernel` and drives it from outside with
``jupyter_client``. Inside the sandbox the kernel sees a read-only system (``/usr``, the Python
installation, the virtualenv, ``nnkit`` and whatever data folders the caller names), a private
``/tmp``, and one writable folder: the submission's work folder. It has no network (its own
network namespace: not even loopback reaches the grader), its own PID namespace, runs as uid
65534 with no capabilities, and gets a fresh minimal environment. This repository is not bound,
so ``reference_impl``, ``autograder``, the solutions and the hidden tests do not exist in there.

The grader talks to the kernel over unix sockets (``transport="ipc"``) in a private runtime
folder that is bind-mounted into the sandbox; TCP would not cross the network namespace.

Limits, all enforced from outside the sandbox:

- **time per cell** (``cell_timeout`` or the ``timeout`` argument of :meth:`execute`): the
  kernel is interrupted (``interrupt_request``: ipykernel raises ``KeyboardInterrupt`` in the
  cell); if the cell has not finished 2 s later it is killed. Either way the cell's status is
  ``"timeout"``; after a successful interrupt the kernel stays usable.
- **time per kernel** (``total_timeout``): the execution time of all cells adds up; when it is
  used up the kernel is killed.
- **memory** (``memory_mb``) and **processes** (``max_processes``): a watchdog thread samples
  the kernel's whole process tree every 50 ms (resident memory of every process, plus what the
  private ``/tmp`` and ``/dev/shm`` hold) and kills the tree when either is over the limit. No
  address-space rlimit: TensorFlow reserves far more virtual memory than it uses.
- **output** (``max_output_bytes``): per cell, text beyond the cap is dropped
  (``truncated=True``); a cell whose output goes past 20 times the cap kills the kernel. The
  grader's sockets refuse any single message larger than that, so a huge print never lands in
  the grader's memory.

After the kernel has been killed, or has died by itself, every later :meth:`execute` returns
status ``"died"`` at once. There is no restart.

When bubblewrap is missing or cannot create its namespaces, the kernel runs as a plain
subprocess (same environment, same work folder, same limits, core dumps off) and the instance
says so loudly in :attr:`SandboxedKernel.warnings`; with ``require_sandbox=True`` it refuses
with :class:`SandboxUnavailable` instead.

A kernel is used from one thread at a time, and must be shut down (``with`` does it): the
watchdog thread keeps it referenced. If the grader itself dies, the kernel dies with it
(bwrap's ``--die-with-parent``; the fallback's reaper asks for the same with
``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from queue import Empty
from typing import Any

import psutil
import zmq
from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import KernelManager

from autograder.engine.sandbox import host
from autograder.engine.sandbox.mounts import SANDBOX_UID, MountPlan, bwrap_argv

__all__ = [
    "BWRAP",
    "NOT_SANDBOXED_WARNING",
    "CellResult",
    "KernelStartError",
    "SandboxLimits",
    "SandboxUnavailable",
    "SandboxedKernel",
]

log = logging.getLogger(__name__)

#: The bubblewrap executable; ``None`` when it is not installed. Tests set this to ``None``
#: (or to a program that fails) to exercise the unsandboxed fallback.
BWRAP: str | None = shutil.which("bwrap")

NOT_SANDBOXED_WARNING = (
    "NOT SANDBOXED: bubblewrap is not available; the submission runs with the grader's privileges"
)

#: Seconds between two samples of the kernel's process tree.
WATCH_INTERVAL = 0.05
#: Seconds a cell gets to stop after the interrupt before the kernel is killed.
INTERRUPT_GRACE = 2.0
#: Output beyond this many times ``max_output_bytes`` in one cell kills the kernel.
OUTPUT_KILL_FACTOR = 20
#: Seconds the kernel gets to answer its first ``kernel_info_request``.
START_TIMEOUT = 60.0
#: Room for message headers and small replies on top of the largest output message allowed.
_MESSAGE_SLACK = 256 * 1024
#: How long the grader waits for the trailing "idle" status after the execute reply.
_IDLE_GRACE = 1.0
#: A socket that lost its connection while the kernel process still runs means the kernel sent
#: a message too large to receive; give a dying kernel this long to show that it is dying.
_DISCONNECT_GRACE = 0.5
_STDERR_KEEP = 64 * 1024

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

#: The program the sandbox (or the fallback subprocess) starts with, ahead of ipykernel. The
#: kernel runs a copy of it from its runtime folder: this package's folder is not in the sandbox.
_BOOTSTRAP = Path(__file__).with_name("bootstrap.py")

# ipykernel options: no history database, no connection banner, only errors in its log (the
# log goes to the kernel's stderr, which ipykernel forwards to the cell's stderr).
_KERNEL_OPTIONS = ("--HistoryManager.enabled=False", "--IPKernelApp.log_level=ERROR")


@dataclass(frozen=True)
class SandboxLimits:
    cell_timeout: float = 30.0  # seconds per execute()
    total_timeout: float = 300.0  # seconds of execution over the kernel's life
    memory_mb: int = 2048  # resident memory of the whole process tree
    max_processes: int = 64  # processes in the tree
    max_output_bytes: int = 1_000_000  # stdout+stderr+display text kept per execute()


@dataclass
class CellResult:
    """What one :meth:`SandboxedKernel.execute` produced.

    ``status`` is ``"ok"``, ``"error"`` (the cell raised; ``ename``/``evalue`` say what),
    ``"timeout"``, ``"died"`` (the kernel ended by itself, or was already gone), or the limit
    that killed the kernel: ``"memory"``, ``"processes"``, ``"output"``. For the statuses other
    than ``"ok"`` and ``"error"``, ``ename`` is ``None`` and ``evalue`` explains what happened in
    words a student can read. ``traceback`` is the error's traceback without terminal colours.
    """

    status: str
    stdout: str
    stderr: str
    displays: list[dict]
    ename: str | None
    evalue: str | None
    seconds: float
    truncated: bool
    traceback: str = ""


class SandboxUnavailable(RuntimeError):
    """The sandbox was required but bubblewrap is missing or cannot create its namespaces."""


class KernelStartError(RuntimeError):
    """The kernel process did not come up (with or without the sandbox)."""


class _Output:
    """The text one cell produced, kept up to ``cap`` bytes, counted beyond."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.kept = 0
        self.seen = 0
        self.truncated = False
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self.displays: list[dict] = []

    @property
    def overflow(self) -> bool:
        return self.seen > OUTPUT_KILL_FACTOR * self.cap

    def _room(self, size: int) -> int:
        self.seen += size
        room = self.cap - self.kept
        if size > room:
            self.truncated = True
        return max(room, 0)

    def text(self, text: str) -> str:
        """Account for ``text`` and return the part of it that may be kept."""
        data = text.encode("utf-8", "surrogatepass")
        room = self._room(len(data))
        if len(data) > room:
            data = data[:room]
            text = data.decode("utf-8", "ignore")
            data = text.encode("utf-8", "surrogatepass")
        self.kept += len(data)
        return text

    def stream(self, name: Any, text: Any) -> None:
        if not isinstance(text, str):
            return
        kept = self.text(text)
        if kept:
            (self.stderr if name == "stderr" else self.stdout).append(kept)

    def display(self, data: Any) -> None:
        if not isinstance(data, dict):
            return
        clean = {}
        for mime, value in data.items():
            clean[str(mime)] = value if isinstance(value, str) else json.dumps(value)
        size = sum(_size(k) + _size(v) for k, v in clean.items())
        room = self._room(size)
        if size <= room:
            self.kept += size
            self.displays.append(clean)


def _size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


class _Spawner:
    """One daemon thread, alive as long as the process, on which every kernel process starts.

    bwrap's ``--die-with-parent`` (and the fallback reaper) rely on PR_SET_PDEATHSIG, which
    fires when the *thread* that forked the process ends, not the process. A kernel started
    from a short-lived worker thread would be killed as soon as that thread finished.
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        thread = threading.Thread(target=self._serve, name="nngrade-spawner", daemon=True)
        thread.start()

    def _serve(self) -> None:
        while True:
            future, function, args, kwargs = self._jobs.get()
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(function(*args, **kwargs))
                except BaseException as error:
                    future.set_exception(error)

    def call(self, function: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        future: Future = Future()
        self._jobs.put((future, function, args, kwargs))
        return future.result()


_spawner: _Spawner | None = None
_spawner_lock = threading.Lock()


def _forget_spawner() -> None:
    """In a forked child (a worker of a process pool) the parent's thread does not exist."""
    global _spawner, _spawner_lock
    _spawner = None
    _spawner_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_spawner)


def _on_spawner_thread(function: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    global _spawner
    with _spawner_lock:
        if _spawner is None:
            _spawner = _Spawner()
        spawner = _spawner
    return spawner.call(function, *args, **kwargs)


class _Manager(KernelManager):
    """A KernelManager that launches exactly the command line it is given."""

    def __init__(self, argv: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._argv = list(argv)
        self._spec = KernelSpec(
            argv=self._argv,
            display_name="nngrade sandbox",
            language="python",
            interrupt_mode="message",
        )

    @property
    def kernel_spec(self) -> KernelSpec:  # type: ignore[override]
        return self._spec

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        # No ``{name}`` substitution: paths are passed as they are.
        return self._argv + list(extra_arguments or [])


def _describe_exit(code: int | None) -> str:
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


class SandboxedKernel:
    """One ipykernel for one submission. See the module documentation."""

    def __init__(
        self,
        workdir: Path,
        limits: SandboxLimits = SandboxLimits(),  # noqa: B008 (frozen, so shared is fine)
        readonly_paths: Sequence[Path] = (),
        require_sandbox: bool = False,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.workdir = Path(workdir).resolve()
        if not self.workdir.is_dir():
            raise FileNotFoundError(f"work folder {self.workdir} does not exist")
        self.limits = limits
        self.readonly_paths = [Path(p).resolve() for p in readonly_paths]
        for path in self.readonly_paths:
            if not path.exists():
                raise FileNotFoundError(f"read-only path {path} does not exist")
        self.require_sandbox = require_sandbox
        self.extra_env = {str(k): str(v) for k, v in (env or {}).items()}
        self.sandboxed = False
        self.warnings: list[str] = []
        #: The command line that started the kernel (bwrap's, when sandboxed).
        self.argv: list[str] = []
        #: Seconds from :meth:`start` until the kernel answered.
        self.start_seconds: float | None = None

        self._started = False
        self._closed = False
        self._runtime: Path | None = None
        self._context: zmq.Context | None = None
        self._manager: _Manager | None = None
        self._client: Any = None
        self._monitors: list[zmq.Socket] = []
        self._popen: subprocess.Popen | None = None
        self._root: psutil.Process | None = None
        self._kernel: psutil.Process | None = None
        self._seen: dict[int, psutil.Process] = {}
        self._stderr_kept = bytearray()
        self._stderr_thread: threading.Thread | None = None
        self._watchdog: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.RLock()
        # Held while a kill is under way: whoever sees ``_death`` set can wait for the end.
        self._kill_lock = threading.RLock()
        self._io_lock = threading.Lock()
        self._death: tuple[str, str] | None = None
        self._used = 0.0

    # ------------------------------------------------------------------ public API

    def __enter__(self) -> SandboxedKernel:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()

    @property
    def alive(self) -> bool:
        """Whether the kernel runs and can take the next cell."""
        return (
            self._started
            and not self._closed
            and self._death is None
            and self._root_running()
            and self._kernel_running()
        )

    @property
    def time_used(self) -> float:
        """Seconds of execution used so far (counted against ``total_timeout``)."""
        return self._used

    def start(self) -> None:
        """Start the kernel and wait until it answers (about 0.3 s).

        Raises :class:`SandboxUnavailable` when the sandbox is required and cannot be had,
        :class:`KernelStartError` when the kernel does not come up, and ``ValueError`` when a
        folder to bind would show course material. Nothing is left running after a failure.
        """
        if self._started:
            raise RuntimeError("the kernel was already started")
        self._started = True
        began = time.monotonic()
        try:
            use_bwrap = self._choose_sandbox()
            self._runtime = Path(tempfile.mkdtemp(prefix="nngrade-kernel-")).resolve()
            self._launch(use_bwrap)
            self._wait_until_ready(began)
        except BaseException:
            self.shutdown()
            raise
        self.start_seconds = time.monotonic() - began
        self._watchdog = threading.Thread(
            target=self._watch, name="nngrade-sandbox-watchdog", daemon=True
        )
        self._watchdog.start()

    def execute(self, code: str, timeout: float | None = None) -> CellResult:
        """Run ``code`` as one cell and return what it did. Never raises for the cell's sake."""
        if not self._started:
            raise RuntimeError("start() the kernel first")
        if self._closed:
            return self._died_result("the kernel was shut down")
        if self._death is None and not (self._root_running() and self._kernel_running()):
            self._on_death()
        if self._death is not None:
            with self._kill_lock:
                return self._died_result(self._death[1])
        with self._io_lock:
            return self._execute(code, self.limits.cell_timeout if timeout is None else timeout)

    def shutdown(self) -> None:
        """Kill the kernel and everything it started, and remove the runtime folder.

        Idempotent. Afterwards no process of the kernel's tree exists.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._stop.set()
        if self._watchdog is not None and self._watchdog is not threading.current_thread():
            self._watchdog.join(timeout=5)
        if self._popen is not None:
            with self._kill_lock:
                self._kill_everything()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._popen.wait(timeout=5)
            if self._popen.returncode is None:  # pragma: no cover - a stuck bwrap
                with contextlib.suppress(OSError):
                    self._popen.kill()
                self._popen.wait()
            if self._stderr_thread is not None:
                self._stderr_thread.join(timeout=2)
            for stream in (self._popen.stdin, self._popen.stdout, self._popen.stderr):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
        for monitor in self._monitors:
            with contextlib.suppress(zmq.ZMQError):
                monitor.close(linger=0)
        self._monitors = []
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.stop_channels()
        if self._manager is not None:
            with contextlib.suppress(Exception):
                # Not shutdown_kernel(): the processes are gone and reaped, and it would signal
                # their old process group. (The synchronous calls only: jupyter_client's
                # run_sync wrappers leave an event loop behind in the calling thread.)
                self._manager.cleanup_connection_file()
                self._manager.cleanup_ipc_files()
        if self._context is not None:
            with contextlib.suppress(Exception):
                self._context.destroy(linger=0)
        if self._runtime is not None:
            shutil.rmtree(self._runtime, ignore_errors=True)

    def processes(self) -> list[psutil.Process]:
        """The processes of the kernel's tree right now (bubblewrap's own included)."""
        if self._root is None or not self._root_running():
            return []
        return [self._root, *self._descendants()]

    @property
    def stderr_log(self) -> str:
        """The first 64 KiB the kernel process wrote to its own stderr (start-up errors)."""
        return bytes(self._stderr_kept).decode("utf-8", "replace")

    # ------------------------------------------------------------------ starting

    def _choose_sandbox(self) -> bool:
        problem = "bubblewrap (bwrap) is not installed" if not BWRAP else host.bwrap_problem(BWRAP)
        if problem is None:
            return True
        if self.require_sandbox:
            raise SandboxUnavailable(f"the grading sandbox is required, but {problem}")
        self.warnings.append(NOT_SANDBOXED_WARNING)
        self.warnings.append(f"reason: {problem}")
        log.warning("%s (%s)", NOT_SANDBOXED_WARNING, problem)
        return False

    def _private_tmp(self, sandboxed: bool) -> Path:
        if sandboxed:
            return Path("/tmp")
        assert self._runtime is not None
        tmp = self._runtime / "tmp"
        (tmp / "home").mkdir(parents=True, exist_ok=True)
        return tmp

    def _kernel_env(self, tmp: Path) -> dict[str, str]:
        sandboxed = tmp == Path("/tmp")
        env = {
            "PATH": f"{Path(sys.prefix) / 'bin'}:/usr/local/bin:/usr/bin:/bin",
            # In the sandbox /work holds nothing but mount points and is read-only. Without the
            # sandbox that /work would be the grading machine's, so an empty folder instead.
            "HOME": "/work" if sandboxed else str(tmp / "home"),
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            # Fixed string hashing, so that a regrade of the same notebook computes the same
            # thing (set iteration order, and seeds derived from hashes).
            "PYTHONHASHSEED": "0",
            "MPLBACKEND": "Agg",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            # Writable places for the caches and settings of IPython, matplotlib and
            # fontconfig: without them each warns on stderr at import that HOME is read-only.
            "IPYTHONDIR": str(tmp / ".ipython"),
            "MPLCONFIGDIR": str(tmp / ".config" / "matplotlib"),
            "XDG_CACHE_HOME": str(tmp / ".cache"),
            "XDG_CONFIG_HOME": str(tmp / ".config"),
        }
        if not sandboxed:
            env["TMPDIR"] = str(tmp)
        env.update(self.extra_env)
        env.pop("JPY_PARENT_PID", None)
        return env

    def _kernel_command(self, mode: str, nproc: int, connection_file: Path) -> list[str]:
        assert self._runtime is not None
        bootstrap = self._runtime / _BOOTSTRAP.name
        bootstrap.write_text(_BOOTSTRAP.read_text())
        return [
            sys.executable, str(bootstrap), mode, str(nproc), str(os.getpid()),
            "-f", str(connection_file), *_KERNEL_OPTIONS,
        ]  # fmt: skip

    def _bwrap_command(self, env: Mapping[str, str], inner: list[str]) -> list[str]:
        assert BWRAP is not None and self._runtime is not None
        plan = MountPlan(
            bwrap=BWRAP,
            features=host.bwrap_features(BWRAP),
            system=host.system_paths(),
            python_prefixes=host.python_prefixes(),
            nnkit=host.nnkit_dir(),
            readonly_paths=tuple(self.readonly_paths),
            runtime=self._runtime,
            workdir=self.workdir,
            secret_dirs=tuple(host.secret_dirs()),
            course_repo=host.course_repo(),
            env=tuple(env.items()),
            memory_bytes=self.limits.memory_mb * 1024 * 1024,
            command=tuple(inner),
        )
        return bwrap_argv(plan)

    def _fallback_nproc(self) -> int:
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
        return tasks + 16 * self.limits.max_processes + 256

    def _launch(self, use_bwrap: bool) -> None:
        assert self._runtime is not None
        runtime = self._runtime
        connection_file = runtime / "kernel.json"
        tmp = self._private_tmp(use_bwrap)
        env = self._kernel_env(tmp)
        if use_bwrap:
            (runtime / "passwd").write_text(
                f"sandbox:x:{SANDBOX_UID}:{SANDBOX_UID}:sandbox:/work:/usr/sbin/nologin\n"
            )
            (runtime / "group").write_text(f"sandbox:x:{SANDBOX_UID}:\n")
            argv = self._bwrap_command(env, self._kernel_command("exec", 0, connection_file))
            # bwrap itself gets nothing from the grader's environment: its init process
            # (pid 1 in the sandbox) keeps this environment, readable in /proc/1/environ.
            launch_env = {"PATH": os.defpath}
        else:
            argv = self._kernel_command("reap", self._fallback_nproc(), connection_file)
            launch_env = env
        self.argv = argv
        self.sandboxed = use_bwrap

        context = zmq.Context()
        # Every socket of the grader refuses messages larger than the output ever allowed,
        # and queues few of them: a flood of output cannot pile up in the grader's memory.
        context.setsockopt(
            zmq.MAXMSGSIZE, OUTPUT_KILL_FACTOR * self.limits.max_output_bytes + _MESSAGE_SLACK
        )
        context.setsockopt(zmq.RCVHWM, 16)
        context.setsockopt(zmq.LINGER, 0)
        self._context = context
        self._manager = _Manager(
            argv, transport="ipc", connection_file=str(connection_file), context=context
        )
        _on_spawner_thread(
            self._manager.start_kernel,
            env=launch_env,
            cwd=str(self.workdir),
            independent=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        # Interrupts go through the client's control channel; the manager's own control
        # socket is never read, so it is closed rather than left to fill up.
        self._manager._close_control_socket()
        provisioner = self._manager.provisioner
        self._popen = provisioner.process  # type: ignore[union-attr]
        assert self._popen is not None
        self._root = psutil.Process(self._popen.pid)
        self._stderr_thread = threading.Thread(
            target=self._drain_stderr, name="nngrade-sandbox-stderr", daemon=True
        )
        self._stderr_thread.start()

    def _drain_stderr(self) -> None:
        stream = self._popen.stderr if self._popen is not None else None
        if stream is None:
            return
        with contextlib.suppress(OSError, ValueError):
            while chunk := stream.read1(65536):
                room = _STDERR_KEEP - len(self._stderr_kept)
                if room > 0:
                    self._stderr_kept += chunk[:room]

    def _wait_until_ready(self, began: float) -> None:
        assert self._manager is not None
        client = self._manager.client(context=self._context)
        self._client = client
        client.start_channels(shell=True, iopub=True, stdin=False, hb=False, control=True)
        deadline = began + START_TIMEOUT
        request = client.kernel_info()
        replied = False
        last_request = time.monotonic()
        while time.monotonic() < deadline:
            if not self._root_running():
                time.sleep(0.1)  # let the stderr reader catch the last words
                raise KernelStartError(
                    f"the kernel exited during start-up ({self._exit_code()}):\n"
                    f"{self.stderr_log[-4000:]}"
                )
            if not replied:
                with contextlib.suppress(Empty):
                    reply = client.shell_channel.get_msg(timeout=0.05)
                    if reply.get("parent_header", {}).get("msg_id") == request:
                        replied = True
                continue
            # The reply came on the shell channel; iopub is a PUB/SUB pair and may still be
            # joining. Each kernel_info_request makes the kernel publish busy/idle: once one
            # of those arrives, output published by the first cell will arrive too.
            with contextlib.suppress(Empty):
                client.iopub_channel.get_msg(timeout=0.05)
                break
            if time.monotonic() - last_request > 0.5:
                client.kernel_info()
                last_request = time.monotonic()
        else:
            raise KernelStartError(
                f"the kernel did not answer within {START_TIMEOUT:.0f} s:\n"
                f"{self.stderr_log[-4000:]}"
            )
        # bubblewrap's init and the kernel. Remembered from the start: when the kernel dies,
        # the outer bwrap can exit before its init has finished, which then is no longer a
        # descendant but still has to be waited for.
        self._seen.update({proc.pid: proc for proc in self._descendants()})
        self._kernel = self._find_kernel_process()
        self._flush(client.iopub_channel.socket)
        self._flush(client.shell_channel.socket)
        for channel in (client.iopub_channel, client.shell_channel):
            self._monitors.append(channel.socket.get_monitor_socket(zmq.EVENT_DISCONNECTED))

    def _find_kernel_process(self) -> psutil.Process | None:
        for proc in sorted(self._descendants(), key=lambda p: p.pid):
            with contextlib.suppress(psutil.Error):
                if "ipykernel_launcher" in proc.cmdline():
                    return proc
        return None

    # ------------------------------------------------------------------ executing

    def _execute(self, code: str, cell_timeout: float) -> CellResult:
        client = self._client
        limits = self.limits
        out = _Output(limits.max_output_bytes)
        remaining = max(limits.total_timeout - self._used, 0.0)
        whole_budget = remaining <= cell_timeout
        budget = min(cell_timeout, remaining)

        iopub = client.iopub_channel.socket
        shell = client.shell_channel.socket
        for monitor in self._monitors:
            self._flush(monitor)
        poller = zmq.Poller()
        for sock in (iopub, shell, *self._monitors):
            poller.register(sock, zmq.POLLIN)

        began = time.monotonic()
        msg_id = client.execute(
            code, silent=False, store_history=True, allow_stdin=False, stop_on_error=False
        )
        deadline = began + budget
        reply: dict | None = None
        replied_at = 0.0
        idle = False
        idle_at = 0.0
        interrupted_at: float | None = None
        disconnected_at: float | None = None
        error: dict = {}
        status: str | None = None
        message: str | None = None

        while True:
            now = time.monotonic()
            if self._death is not None:  # the watchdog killed it
                with self._kill_lock:  # and may still be at it
                    status, message = self._death
                break
            if out.overflow:
                status, message = self._kill("output", self._output_message())
                break
            if reply is not None and (idle or now - replied_at > _IDLE_GRACE):
                break
            if idle and reply is None and now - idle_at > _IDLE_GRACE:
                break  # the reply got lost; the cell did finish
            if not self._kernel_running() or not self._root_running():
                self._read_iopub(client, msg_id, out, error)  # its last words, if any
                status, message = self._on_death()
                break
            if disconnected_at is not None and now - disconnected_at > _DISCONNECT_GRACE:
                status, message = self._kill("output", self._output_message())
                break
            if reply is not None or idle:
                pass  # finished; only waiting for the rest of its messages
            elif interrupted_at is None and now >= deadline:
                if whole_budget:
                    status, message = self._kill("timeout", self._total_message())
                    break
                self._interrupt()
                interrupted_at = now
            elif interrupted_at is not None and now >= interrupted_at + INTERRUPT_GRACE:
                status, message = self._kill(
                    "timeout",
                    f"the cell exceeded its time limit of {cell_timeout:g} s and did not stop "
                    "when interrupted",
                )
                break

            wait = WATCH_INTERVAL
            if interrupted_at is None:
                wait = min(wait, max(deadline - now, 0.0))
            events = dict(poller.poll(int(wait * 1000) + 1))
            if iopub in events and self._read_iopub(client, msg_id, out, error) and not idle:
                idle, idle_at = True, time.monotonic()
            if shell in events:
                got = self._read_shell(client, msg_id)
                if got is not None and reply is None:
                    reply, replied_at = got, time.monotonic()
            for monitor in self._monitors:
                if monitor in events and self._disconnected(monitor) and disconnected_at is None:
                    disconnected_at = time.monotonic()

        seconds = time.monotonic() - began
        self._used += seconds
        if status is None:
            if interrupted_at is not None:
                status = "timeout"
                message = f"the cell exceeded its time limit of {cell_timeout:g} s and was stopped"
            else:
                content = reply.get("content") if reply else None
                if not isinstance(content, dict):
                    content = {"status": "error" if error else "ok"}
                if content.get("status") == "ok" and not error:
                    status = "ok"
                else:
                    status = "error"
                    error = {**content, **error}
        if self._death is None and self._used >= limits.total_timeout:
            self._kill("timeout", self._total_message())

        ename = evalue = None
        traceback = ""
        if status == "error":
            ename = str(error.get("ename") or "Error")[:200]
            evalue = str(error.get("evalue") or "")[:10_000]
            frames = error.get("traceback")
            if isinstance(frames, list):
                traceback = _ANSI.sub("", "\n".join(str(f) for f in frames[:200]))[:100_000]
        else:
            evalue = message
        if status == "output":
            out.truncated = True
        return CellResult(
            status=status,
            stdout="".join(out.stdout),
            stderr="".join(out.stderr),
            displays=out.displays,
            ename=ename,
            evalue=evalue,
            seconds=seconds,
            truncated=out.truncated,
            traceback=traceback,
        )

    def _output_message(self) -> str:
        return (
            f"the cell's output went past {OUTPUT_KILL_FACTOR} times the limit of "
            f"{self.limits.max_output_bytes} bytes"
        )

    def _total_message(self) -> str:
        return f"the notebook used up its total time limit of {self.limits.total_timeout:g} s"

    def _read_iopub(self, client: Any, msg_id: str, out: _Output, error: dict) -> bool:
        """Read what is waiting on iopub; True once this cell's "idle" status arrived."""
        idle = False
        while not out.overflow:
            try:
                msg = client.iopub_channel.get_msg(timeout=0)
            except Empty:
                break
            except Exception:  # a malformed or unsigned message from the kernel: skip it
                continue
            if not isinstance(msg, dict):
                continue
            parent = msg.get("parent_header") or {}
            kind = msg.get("msg_type") or msg.get("header", {}).get("msg_type")
            content = msg.get("content")
            if not isinstance(content, dict):
                continue
            if parent.get("msg_id") != msg_id:
                # Output of a thread a previous cell left running still counts as output.
                if kind == "stream" and isinstance(content.get("text"), str):
                    out.seen += len(content["text"])
                continue
            if kind == "stream":
                out.stream(content.get("name"), content.get("text"))
            elif kind in ("display_data", "execute_result", "update_display_data"):
                out.display(content.get("data"))
            elif kind == "error":
                error.update(
                    ename=content.get("ename"),
                    evalue=content.get("evalue"),
                    traceback=content.get("traceback"),
                )
            elif kind == "status" and content.get("execution_state") == "idle":
                idle = True
        return idle

    def _read_shell(self, client: Any, msg_id: str) -> dict | None:
        found = None
        while True:
            try:
                msg = client.shell_channel.get_msg(timeout=0)
            except Empty:
                return found
            except Exception:
                continue
            if (
                isinstance(msg, dict)
                and (msg.get("parent_header") or {}).get("msg_id") == msg_id
                and msg.get("msg_type") == "execute_reply"
            ):
                found = msg

    @staticmethod
    def _disconnected(monitor: zmq.Socket) -> bool:
        seen = False
        while True:
            try:
                frames = monitor.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return seen
            except zmq.ZMQError:
                return seen
            if frames and len(frames[0]) >= 2:
                event = int.from_bytes(frames[0][:2], "little")
                seen = seen or event == zmq.EVENT_DISCONNECTED

    @staticmethod
    def _flush(sock: zmq.Socket) -> None:
        """Throw away what is queued on ``sock`` without decoding it."""
        with contextlib.suppress(zmq.ZMQError):
            while sock.poll(0):
                sock.recv_multipart(zmq.NOBLOCK, copy=False)

    def _interrupt(self) -> None:
        """ipykernel's interrupt_request: the kernel sends itself SIGINT (KeyboardInterrupt)."""
        client = self._client
        with contextlib.suppress(Exception):
            msg = client.session.msg("interrupt_request", content={})
            client.control_channel.send(msg)

    def _died_result(self, message: str) -> CellResult:
        return CellResult("died", "", "", [], None, message, 0.0, False)

    # ------------------------------------------------------------------ watching and killing

    def _root_running(self) -> bool:
        """Whether bwrap (or the fallback's reaper) runs, without reaping it.

        The grader only reaps in :meth:`shutdown`, so that until then the process group id
        cannot be reused and signalling it stays safe.
        """
        if self._popen is None:
            return False
        if self._popen.returncode is not None:
            return False
        try:
            info = os.waitid(os.P_PID, self._popen.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return False
        return info is None

    def _exit_code(self) -> str:
        if self._popen is None:
            return "not started"
        try:
            info = os.waitid(os.P_PID, self._popen.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return f"exit status {self._popen.returncode}"
        if info is None:
            return "still running"
        if info.si_code == os.CLD_EXITED:
            return f"exit status {info.si_status}"
        return f"signal {info.si_status}"

    def _root_exit_status(self) -> int | None:
        if self._popen is None:
            return None
        with contextlib.suppress(ChildProcessError):
            info = os.waitid(os.P_PID, self._popen.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            if info is None:
                return None
            return info.si_status if info.si_code == os.CLD_EXITED else -info.si_status
        return self._popen.returncode

    def _kernel_running(self) -> bool:
        if self._kernel is None:
            return self._root_running()
        try:
            return self._kernel.is_running() and self._kernel.status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return False

    def _on_death(self) -> tuple[str, str]:
        """The kernel ended by itself: note why, and take down what it left behind."""
        # bubblewrap exits with the kernel's status (128 + signal number for a signal).
        deadline = time.monotonic() + 1.0
        while self._root_running() and time.monotonic() < deadline:
            time.sleep(0.01)
        code = self._root_exit_status()
        return self._kill("died", _describe_exit(code))

    def _descendants(self) -> list[psutil.Process]:
        if self._root is None:
            return []
        try:
            return self._root.children(recursive=True)
        except psutil.Error:
            return []

    def _kill(self, status: str, message: str) -> tuple[str, str]:
        """Record why the kernel ends and kill its whole tree; return the reason recorded.

        The first reason wins: when the watchdog killed the kernel for its memory a moment
        before the cell's output overflowed, the cell's status is "memory".
        """
        with self._kill_lock:
            if self._death is None:
                self._death = (status, message)
                log.info("sandboxed kernel stopped: %s", message)
            self._kill_everything()
            return self._death

    def _kill_everything(self) -> None:
        """SIGKILL every process of the tree, the inner ones first, then bwrap itself."""
        if self._popen is None:
            return
        root_running = self._root_running()
        for _ in range(50):
            procs = {p.pid: p for p in self._descendants()}
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
            psutil.wait_procs(alive, timeout=0.1)
        # bwrap exits once its child is gone; give it a moment, then make sure.
        deadline = time.monotonic() + 1.0
        while root_running and self._root_running() and time.monotonic() < deadline:
            time.sleep(0.01)
        if self._root_running():
            with contextlib.suppress(OSError):
                os.killpg(self._popen.pid, signal.SIGKILL)  # not reaped: the group is ours
            with contextlib.suppress(OSError):
                os.kill(self._popen.pid, signal.SIGKILL)

    def _watch(self) -> None:
        limits = self.limits
        memory_limit = limits.memory_mb * 1024 * 1024
        while not self._stop.wait(WATCH_INTERVAL):
            if self._death is not None or not self._root_running():
                # Nothing left to watch; execute() notices a death by itself.
                if self._death is not None:
                    return
                continue
            procs = self._descendants()
            for proc in procs:
                self._seen.setdefault(proc.pid, proc)
            if len(self._seen) > 512:
                for pid, proc in list(self._seen.items()):
                    if not proc.is_running():
                        del self._seen[pid]
            # bubblewrap's init (pid 1 inside) is not the student's; the fallback's reaper is
            # the root and not among the descendants.
            count = len(procs) - (1 if self.sandboxed else 0)
            if count > limits.max_processes:
                self._kill(
                    "processes",
                    f"the notebook started more than {limits.max_processes} processes",
                )
                return
            used = self._memory(procs, precise=False)
            if used > memory_limit and self._memory(procs, precise=True) > memory_limit:
                self._kill("memory", f"the notebook used more than {limits.memory_mb} MB of memory")
                return
            if self._io_lock.acquire(blocking=False):
                # Between cells nobody reads the kernel's sockets: drop what a background
                # thread of the student's may be sending, so it cannot pile up here.
                try:
                    if self._client is not None:
                        self._flush(self._client.iopub_channel.socket)
                        self._flush(self._client.shell_channel.socket)
                        self._flush(self._client.control_channel.socket)
                finally:
                    self._io_lock.release()

    def _memory(self, procs: list[psutil.Process], precise: bool) -> int:
        """Bytes held by the tree: resident memory (PSS when precise) plus the private tmpfs."""
        total = 0
        for proc in [self._root, *procs]:
            if proc is None:
                continue
            with contextlib.suppress(psutil.Error):
                total += proc.memory_full_info().pss if precise else proc.memory_info().rss
        if self.sandboxed and self._kernel is not None:
            for mount in ("tmp", "dev/shm"):
                with contextlib.suppress(OSError):
                    fs = os.statvfs(f"/proc/{self._kernel.pid}/root/{mount}")
                    total += (fs.f_blocks - fs.f_bfree) * fs.f_frsize
        return total
