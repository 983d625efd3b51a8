"""What one cell produced, as the grader keeps it: its output up to a cap, and its result.

:class:`Output` collects a cell's stream text and displays, keeping at most ``cap`` bytes and
counting the rest, so that the channel can tell when a cell went so far past the cap that the
kernel has to be killed. :class:`CellResult` is what
:meth:`~autograder.engine.sandbox.SandboxedKernel.execute` returns.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from autograder.limits import OUTPUT_KILL_FACTOR

__all__ = ["OUTPUT_KILL_FACTOR", "CellResult", "Output"]

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass
class CellResult:
    """What one :meth:`SandboxedKernel.execute` produced.

    ``status`` is ``"ok"``, ``"error"`` (the cell raised; ``ename``/``evalue`` say what),
    ``"timeout"``, ``"died"`` (the kernel ended by itself, or was already gone), or the limit
    that killed the kernel: ``"memory"``, ``"processes"``, ``"output"``; ``"host"`` when the
    host's out-of-memory killer took a kernel within its limits (a grader failure). For the
    statuses other than ``"ok"`` and ``"error"``, ``ename`` is ``None`` and ``evalue`` explains
    what happened in words a student can read. ``traceback`` is the error's traceback without
    terminal colours.
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


class Output:
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

    def result(self, status: str, message: str | None, error: dict, seconds: float) -> CellResult:
        """The cell's result: ``status``, with the error's details or else ``message``."""
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
            self.truncated = True
        return CellResult(
            status=status,
            stdout="".join(self.stdout),
            stderr="".join(self.stderr),
            displays=self.displays,
            ename=ename,
            evalue=evalue,
            seconds=seconds,
            truncated=self.truncated,
            traceback=traceback,
        )


def _size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))
