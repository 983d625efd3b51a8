"""Starting the kernel process: through jupyter_client, from one long-lived thread.

:func:`start_kernel` hands exactly the command line it is given (bubblewrap's, or the
fallback's) to a ``jupyter_client`` kernel manager, which writes the connection file and
starts the process on the spawner thread (:func:`on_spawner_thread`): bwrap's
``--die-with-parent`` and the fallback's reaper rely on PR_SET_PDEATHSIG, which follows the
thread that forked, not the process. :func:`child_setup` is what that process does between
fork and exec: join the cgroups, bind the folders lent to it, become the sandbox user, and ask
for SIGKILL when the grader dies.
"""

from __future__ import annotations

import ctypes
import os
import queue
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Protocol

import zmq
from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import KernelManager

from autograder.engine.sandbox.identity import SandboxUser, drop_privileges

__all__ = ["KernelLauncher", "child_setup", "on_spawner_thread", "start_kernel"]

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


class _Joins(Protocol):
    def join(self) -> None: ...


class _Enters(Protocol):
    def enter(self) -> None: ...


def child_setup(
    limiter: _Joins | None, loan: _Enters | None, user: SandboxUser | None
) -> Callable[[], None]:
    """What the kernel's process does between fork and exec (as the spawner's
    ``preexec_fn``): join the sandbox's cgroups, bind the folders lent to it, become the
    sandbox user, and die with the grader, having checked the grader has not died already."""
    grader = os.getpid()

    def run() -> None:
        if limiter is not None:
            limiter.join()
        if loan is not None:
            loan.enter()
        if user is not None:
            drop_privileges(user)
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # after the uid change
        if os.getppid() != grader:
            os._exit(1)

    return run


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


def on_spawner_thread(function: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """Call ``function`` on the spawner thread and return what it returns (or raise)."""
    global _spawner
    with _spawner_lock:
        if _spawner is None:
            _spawner = _Spawner()
        spawner = _spawner
    return spawner.call(function, *args, **kwargs)


class KernelLauncher(KernelManager):
    """A KernelManager that launches exactly the command line it is given.

    ``connection_gid``: the group that may read the connection file (the sandbox user's,
    when the kernel runs as that user); else it stays readable by the grader alone.
    """

    def __init__(self, argv: list[str], connection_gid: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._argv = list(argv)
        self._connection_gid = connection_gid
        self._spec = KernelSpec(
            argv=self._argv,
            display_name="nngrade sandbox",
            language="python",
            interrupt_mode="message",
        )

    @property
    def kernel_spec(self) -> KernelSpec:  # type: ignore[override]
        return self._spec

    def write_connection_file(self, **kwargs: Any) -> None:
        super().write_connection_file(**kwargs)
        if self._connection_gid is not None:
            os.chown(self.connection_file, -1, self._connection_gid)
            os.chmod(self.connection_file, 0o640)

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        # No ``{name}`` substitution: paths are passed as they are.
        return self._argv + list(extra_arguments or [])


def start_kernel(
    argv: list[str],
    env: Mapping[str, str],
    cwd: Path,
    connection_file: Path,
    context: zmq.Context,
    preexec_fn: Callable[[], None] | None = None,
    connection_gid: int | None = None,
    pass_fds: tuple[int, ...] = (),
) -> tuple[KernelLauncher, subprocess.Popen]:
    """Start ``argv`` as a kernel with unix sockets next to ``connection_file``.

    ``preexec_fn`` runs in the child between fork and exec (joining the cgroups, dropping to
    the sandbox user, asking for SIGKILL when the grader dies). Returns the manager (the
    client factory, and the owner of the connection and socket files) and the process it
    started, whose stderr is a pipe for the caller to read.
    """
    manager = KernelLauncher(
        argv,
        connection_gid=connection_gid,
        transport="ipc",
        connection_file=str(connection_file),
        context=context,
    )
    extra: dict[str, Any] = {"preexec_fn": preexec_fn} if preexec_fn is not None else {}
    if pass_fds:
        extra["pass_fds"] = pass_fds
    on_spawner_thread(
        manager.start_kernel,
        env=dict(env),
        cwd=str(cwd),
        independent=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        **extra,
    )
    # Interrupts go through the client's control channel; the manager's own control socket
    # is never read, so it is closed rather than left to fill up.
    manager._close_control_socket()
    popen = manager.provisioner.process  # type: ignore[union-attr]
    assert popen is not None
    return manager, popen
