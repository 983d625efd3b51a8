"""The grader's end of the sandboxed kernel's Jupyter sockets, and the loop that times a cell.

:class:`Channel` launches the kernel through ``jupyter_client`` (unix sockets in the runtime
folder: TCP would not cross the sandbox's network namespace), waits until it answers, and runs
one cell at a time: it sends the execute request, polls iopub and shell, interrupts a cell past
its time and kills the kernel (through the
:class:`~autograder.engine.sandbox.supervisor.ProcessTree`) when a cell goes past a limit.
Every socket refuses messages larger than the output ever allowed, so a flood of output never
lands in the grader's memory. One cell's progress is a :class:`~.cell.Cell`, which says what
each message means and what the cell's result is (:mod:`.cell`); each step of the loop that
drives it is a method of its own here.
"""

from __future__ import annotations

import contextlib
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from queue import Empty
from typing import Any

import zmq

from autograder.engine.sandbox.cell import Cell
from autograder.engine.sandbox.launch import KernelLauncher, start_kernel
from autograder.engine.sandbox.output import CellResult, Output
from autograder.engine.sandbox.supervisor import ProcessTree
from autograder.limits import (
    INTERRUPT_GRACE,
    OUTPUT_KILL_FACTOR,
    START_TIMEOUT,
    WATCH_INTERVAL,
    SandboxLimits,
)

__all__ = ["INTERRUPT_GRACE", "START_TIMEOUT", "Channel", "KernelStartError"]

#: Room for message headers and small replies on top of the largest output message allowed.
_MESSAGE_SLACK = 256 * 1024
#: A socket that lost its connection while the kernel process still runs means the kernel sent
#: a message too large to receive; give a dying kernel this long to show that it is dying.
_DISCONNECT_GRACE = 0.5


class KernelStartError(RuntimeError):
    """The kernel process did not come up (with or without the sandbox)."""


class Channel:
    """The grader's end of one kernel's sockets, used by one cell at a time."""

    def __init__(self, limits: SandboxLimits, tree: ProcessTree) -> None:
        self.limits = limits
        self.tree = tree
        self._context: zmq.Context | None = None
        self._manager: KernelLauncher | None = None
        self._client: Any = None
        self._monitors: list[zmq.Socket] = []
        self._lock = threading.Lock()  # held while a cell runs
        #: Seconds the sandbox has waited for a CPU so far (a cgroup's PSI), when known: a
        #: cell's deadline moves by what it waited during the cell, up to ``stall_allowance``
        #: times its limit.
        self.stall: Callable[[], float | None] | None = None
        self.stall_allowance = 0.0
        #: The CPU wait counted for the last cell (not charged to the total time).
        self.last_stalled = 0.0

    # ------------------------------------------------------------------ starting

    def launch(
        self,
        argv: list[str],
        env: Mapping[str, str],
        cwd: Path,
        connection_file: Path,
        preexec_fn: Callable[[], None] | None = None,
        connection_gid: int | None = None,
        pass_fds: tuple[int, ...] = (),
    ) -> subprocess.Popen:
        """Start ``argv`` as the kernel, on the spawner thread; the process it started."""
        context = zmq.Context()
        # Every socket of the grader refuses messages larger than the output ever allowed,
        # and queues few of them: a flood of output cannot pile up in the grader's memory.
        context.setsockopt(
            zmq.MAXMSGSIZE, OUTPUT_KILL_FACTOR * self.limits.max_output_bytes + _MESSAGE_SLACK
        )
        context.setsockopt(zmq.RCVHWM, 16)
        context.setsockopt(zmq.LINGER, 0)
        self._context = context
        self._manager, popen = start_kernel(
            argv, env, cwd, connection_file, context, preexec_fn, connection_gid, pass_fds
        )
        return popen

    def wait_until_ready(self, began: float) -> None:
        """Wait until the kernel answers on shell and publishes on iopub; else raise."""
        assert self._manager is not None
        client = self._manager.client(context=self._context)
        self._client = client
        client.start_channels(shell=True, iopub=True, stdin=False, hb=False, control=True)
        deadline = began + START_TIMEOUT
        request = client.kernel_info()
        replied = False
        last_request = time.monotonic()
        while time.monotonic() < deadline:
            if not self.tree.root_running():
                time.sleep(0.1)  # let the stderr reader catch the last words
                raise KernelStartError(
                    f"the kernel exited during start-up ({self.tree.exit_description()}):\n"
                    f"{self.tree.stderr_log[-4000:]}"
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
                f"{self.tree.stderr_log[-4000:]}"
            )

    def watch_connection(self) -> None:
        """Drop the start-up messages and watch iopub and shell for a lost connection."""
        client = self._client
        _flush(client.iopub_channel.socket)
        _flush(client.shell_channel.socket)
        for channel in (client.iopub_channel, client.shell_channel):
            self._monitors.append(channel.socket.get_monitor_socket(zmq.EVENT_DISCONNECTED))

    def drain_when_idle(self) -> None:
        """Between cells nobody reads the kernel's sockets: drop what a background thread of
        the student's may be sending, so that it cannot pile up here."""
        if self._lock.acquire(blocking=False):
            try:
                if self._client is not None:
                    _flush(self._client.iopub_channel.socket)
                    _flush(self._client.shell_channel.socket)
                    _flush(self._client.control_channel.socket)
            finally:
                self._lock.release()

    def close(self) -> None:
        """Close every socket and remove the connection and socket files."""
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

    # ------------------------------------------------------------------ one cell

    def execute(self, code: str, cell_timeout: float, remaining: float,
                silent: bool = False) -> CellResult:
        """Run ``code`` with ``cell_timeout`` seconds, of which ``remaining`` are left in all;
        ``silent``: as the grader's own request, not a cell of the notebook (no execution
        count, no history, no ``execute_input`` broadcast, no ``pre_run_cell`` or
        ``post_run_cell`` event)."""
        with self._lock:
            cell = self._send(code, cell_timeout, remaining, silent)
            while True:
                now = time.monotonic()
                if self._over(cell, now):
                    break
                self._wait(cell, now)
            self._waited(cell)
            self.last_stalled = cell.stalled
            return cell.result(time.monotonic() - cell.began)

    def output_message(self) -> str:
        return (
            f"the cell's output went past {OUTPUT_KILL_FACTOR} times the limit of "
            f"{self.limits.max_output_bytes} bytes"
        )

    def total_message(self) -> str:
        return f"the notebook used up its total time limit of {self.limits.total_timeout:g} s"

    def _send(self, code: str, cell_timeout: float, remaining: float, silent: bool) -> Cell:
        client = self._client
        for monitor in self._monitors:
            _flush(monitor)
        poller = zmq.Poller()
        for sock in (client.iopub_channel.socket, client.shell_channel.socket, *self._monitors):
            poller.register(sock, zmq.POLLIN)
        began = time.monotonic()
        msg_id = client.execute(
            code, silent=silent, store_history=not silent, allow_stdin=False, stop_on_error=False
        )
        return Cell(
            msg_id=msg_id,
            began=began,
            deadline=began + min(cell_timeout, remaining),
            timeout=cell_timeout,
            whole_budget=remaining <= cell_timeout,
            poller=poller,
            out=Output(self.limits.max_output_bytes),
            stall0=self.stall() if self.stall is not None else None,
            allowance=self.stall_allowance * min(cell_timeout, remaining),
        )

    def _waited(self, cell: Cell) -> float:
        """How far the cell's deadline has moved: the CPU wait during the cell, capped."""
        if cell.stall0 is not None and self.stall is not None:
            now = self.stall()
            if now is not None:
                cell.stalled = min(max(now - cell.stall0, 0.0), cell.allowance)
        return cell.stalled

    def _over(self, cell: Cell, now: float) -> bool:
        """Whether the cell is over: finished, or the kernel stopped (``cell.ended`` says why)."""
        tree = self.tree
        if tree.death is not None:  # the watchdog killed it, and may still be at it
            cell.ended = tree.settled_death()
            return True
        if cell.out.overflow:
            cell.ended = tree.kill("output", self.output_message())
            return True
        if cell.complete(now):
            return True
        if not tree.kernel_running() or not tree.root_running():
            self._read_iopub(cell)  # its last words, if any
            cell.ended = tree.on_death()
            return True
        if cell.disconnected_at is not None and now - cell.disconnected_at > _DISCONNECT_GRACE:
            cell.ended = tree.kill("output", self.output_message())
            return True
        return self._out_of_time(cell, now)

    def _out_of_time(self, cell: Cell, now: float) -> bool:
        """Interrupt a cell past its deadline; kill the kernel when that is not enough."""
        if cell.reply is not None or cell.idle:
            return False  # finished; only waiting for the rest of its messages
        if cell.interrupted_at is None:
            if now < cell.deadline or now < cell.deadline + self._waited(cell):
                return False
            if cell.whole_budget:
                cell.ended = self.tree.kill("timeout", self.total_message())
                return True
            self._interrupt()
            cell.interrupted_at = now
            return False
        if now >= cell.interrupted_at + INTERRUPT_GRACE:
            cell.ended = self.tree.kill(
                "timeout",
                f"the cell exceeded its time limit of {cell.timeout:g} s and did not stop "
                "when interrupted",
            )
            return True
        return False

    def _wait(self, cell: Cell, now: float) -> None:
        """Wait for the kernel's next messages (at most one watch interval) and take them in."""
        wait = WATCH_INTERVAL
        if cell.interrupted_at is None:
            wait = min(wait, max(cell.deadline - now, 0.0))
        events = dict(cell.poller.poll(int(wait * 1000) + 1))
        if self._client.iopub_channel.socket in events and self._read_iopub(cell):
            if not cell.idle:
                cell.idle, cell.idle_at = True, time.monotonic()
        if self._client.shell_channel.socket in events:
            got = self._read_shell(cell)
            if got is not None and cell.reply is None:
                cell.reply, cell.replied_at = got, time.monotonic()
        for monitor in self._monitors:
            if monitor in events and _disconnected(monitor) and cell.disconnected_at is None:
                cell.disconnected_at = time.monotonic()

    # ------------------------------------------------------------------ reading

    def _read_iopub(self, cell: Cell) -> bool:
        """Read what is waiting on iopub; True once this cell's "idle" status arrived."""
        idle = False
        while not cell.out.overflow:
            try:
                msg = self._client.iopub_channel.get_msg(timeout=0)
            except Empty:
                break
            except Exception:  # a malformed or unsigned message from the kernel: skip it
                continue
            idle = cell.take_iopub(msg) or idle
        return idle

    def _read_shell(self, cell: Cell) -> dict | None:
        """Read what is waiting on shell; the last execute_reply to this cell, if any came."""
        found = None
        while True:
            try:
                msg = self._client.shell_channel.get_msg(timeout=0)
            except Empty:
                return found
            except Exception:
                continue
            if cell.is_reply(msg):
                found = msg

    def _interrupt(self) -> None:
        """ipykernel's interrupt_request: the kernel sends itself SIGINT (KeyboardInterrupt)."""
        client = self._client
        with contextlib.suppress(Exception):
            msg = client.session.msg("interrupt_request", content={})
            client.control_channel.send(msg)


def _disconnected(monitor: zmq.Socket) -> bool:
    """Whether the socket ``monitor`` watches reported a lost connection."""
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


def _flush(sock: zmq.Socket) -> None:
    """Throw away what is queued on ``sock`` without decoding it."""
    with contextlib.suppress(zmq.ZMQError):
        while sock.poll(0):
            sock.recv_multipart(zmq.NOBLOCK, copy=False)
