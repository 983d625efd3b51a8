"""The grading sandbox: a Jupyter kernel for untrusted notebook code, inside bubblewrap.

See :mod:`autograder.engine.sandbox.kernel` for what is enforced and how.
"""

from autograder.engine.sandbox.kernel import (
    BWRAP,
    NOT_SANDBOXED_WARNING,
    CellResult,
    KernelStartError,
    SandboxedKernel,
    SandboxLimits,
    SandboxUnavailable,
)

__all__ = [
    "BWRAP",
    "NOT_SANDBOXED_WARNING",
    "CellResult",
    "KernelStartError",
    "SandboxLimits",
    "SandboxUnavailable",
    "SandboxedKernel",
]
