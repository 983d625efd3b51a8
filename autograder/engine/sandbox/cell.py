"""One cell's execute request as the grader follows it: the kernel's replies, and the result.

A :class:`Cell` is the record of one execute request in flight: its clock, which the
:class:`~autograder.engine.sandbox.channel.Channel` keeps while it polls the sockets, and what
the kernel has sent back for it. The record says what each message means, without touching a
socket: :meth:`Cell.take_iopub` takes in output, errors and the "idle" status,
:meth:`Cell.is_reply` picks out the execute reply, :meth:`Cell.complete` says when the last
messages are in, and :meth:`Cell.result` makes the
:class:`~autograder.engine.sandbox.output.CellResult` the grader keeps. :func:`died` is the
result of a cell sent to a kernel that is already gone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import zmq

from autograder.engine.sandbox.output import CellResult, Output

__all__ = ["Cell", "died"]

#: How long the grader waits for the trailing "idle" status after the execute reply.
_IDLE_GRACE = 1.0


def died(message: str) -> CellResult:
    """The result of a cell sent to a kernel that is gone."""
    return CellResult("died", "", "", [], None, message, 0.0, False)


@dataclass
class Cell:
    """One execute request in flight: its clock, and what has come back so far."""

    msg_id: str
    began: float
    deadline: float
    timeout: float  # the cell's own time limit, for the message
    whole_budget: bool  # the deadline is the end of the kernel's total time
    poller: zmq.Poller
    out: Output
    error: dict = field(default_factory=dict)  # the "error" message's content
    reply: dict | None = None  # the execute_reply
    replied_at: float = 0.0
    idle: bool = False  # the kernel's "idle" status after this request arrived
    idle_at: float = 0.0
    interrupted_at: float | None = None
    disconnected_at: float | None = None
    ended: tuple[str, str] | None = None  # (status, message) when the kernel was stopped
    stall0: float | None = None  # the sandbox's CPU wait (seconds) when the cell began
    allowance: float = 0.0  # the most the deadline may move for that wait
    stalled: float = 0.0  # the CPU wait counted so far

    def complete(self, now: float) -> bool:
        """Whether the kernel finished the cell and its last messages are in (or overdue)."""
        if self.reply is not None and (self.idle or now - self.replied_at > _IDLE_GRACE):
            return True
        # Without the reply: it got lost, but the cell did finish.
        return self.idle and self.reply is None and now - self.idle_at > _IDLE_GRACE

    def take_iopub(self, msg: Any) -> bool:
        """Take in one iopub message; True if it is this cell's "idle" status."""
        if not isinstance(msg, dict):
            return False
        parent = msg.get("parent_header") or {}
        kind = msg.get("msg_type") or msg.get("header", {}).get("msg_type")
        content = msg.get("content")
        if not isinstance(content, dict):
            return False
        if parent.get("msg_id") != self.msg_id:
            # Output of a thread a previous cell left running still counts as output.
            if kind == "stream" and isinstance(content.get("text"), str):
                self.out.seen += len(content["text"])
            return False
        if kind == "stream":
            self.out.stream(content.get("name"), content.get("text"))
        elif kind in ("display_data", "execute_result", "update_display_data"):
            self.out.display(content.get("data"))
        elif kind == "error":
            self.error.update(
                ename=content.get("ename"),
                evalue=content.get("evalue"),
                traceback=content.get("traceback"),
            )
        return kind == "status" and content.get("execution_state") == "idle"

    def is_reply(self, msg: Any) -> bool:
        """Whether the shell message ``msg`` is this cell's execute_reply."""
        return (
            isinstance(msg, dict)
            and (msg.get("parent_header") or {}).get("msg_id") == self.msg_id
            and msg.get("msg_type") == "execute_reply"
        )

    def result(self, seconds: float) -> CellResult:
        """What the cell did, from how it ended and what came back."""
        error = self.error
        if self.ended is not None:
            status, message = self.ended
        elif self.interrupted_at is not None:
            status = "timeout"
            message = f"the cell exceeded its time limit of {self.timeout:g} s and was stopped"
        else:
            message = None
            content = self.reply.get("content") if self.reply else None
            if not isinstance(content, dict):
                content = {"status": "error" if error else "ok"}
            if content.get("status") == "ok" and not error:
                status = "ok"
            else:
                status = "error"
                error = {**content, **error}
        return self.out.result(status, message, error, seconds)
