"""One submission's wall-clock deadline, which covers the grader's own work too.

The sandbox bounds the student's time (``cell_timeout``, ``total_timeout``), but a submission
can also cost the grader time: running the test functions, decoding replies, waiting for the
kernel. :class:`Deadline` is set when grading of a submission starts, at
``total_timeout + grader_margin`` seconds (both in
:class:`~autograder.engine.sandbox.SandboxLimits`, from the problem set's ``grading.yaml``).
The engine checks it before every cell, every exchange with the kernel and every test, and
never waits for the kernel past it; each step between two checks is bounded on its own (decode
bounds its work, the kernel's replies their size). When it has passed, the test running and the
remaining tests score 0 with :meth:`Deadline.message`, and the batch goes on.
"""

from __future__ import annotations

import time

__all__ = ["Deadline"]


class Deadline:
    """``seconds`` from now (``time.monotonic``)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = float(seconds)
        self.end = time.monotonic() + self.seconds

    def remaining(self) -> float:
        """Seconds left, never below zero."""
        return max(self.end - time.monotonic(), 0.0)

    @property
    def expired(self) -> bool:
        return time.monotonic() >= self.end

    def message(self) -> str:
        return (
            f"not graded: the grading deadline of {self.seconds:g} s for this submission "
            "had passed"
        )
