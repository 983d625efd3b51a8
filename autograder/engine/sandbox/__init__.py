"""The grading sandbox: ipykernel inside bubblewrap, with limits, for untrusted notebook code.

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

- **time per cell** (``cell_timeout`` or the ``timeout`` argument of
  :meth:`SandboxedKernel.execute`): the kernel is interrupted (``interrupt_request``: ipykernel
  raises ``KeyboardInterrupt`` in the cell); if the cell has not finished 2 s later it is
  killed. Either way the cell's status is ``"timeout"``; after a successful interrupt the
  kernel stays usable.
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

After the kernel has been killed, or has died by itself, every later
:meth:`SandboxedKernel.execute` returns status ``"died"`` at once. There is no restart.

When bubblewrap is missing or cannot create its namespaces, the kernel runs as a plain
subprocess (same environment, same work folder, same limits, core dumps off) and the instance
says so loudly in :attr:`SandboxedKernel.warnings`; with ``require_sandbox=True`` it refuses
with :class:`SandboxUnavailable` instead.

A kernel is used from one thread at a time, and must be shut down (``with`` does it): the
watchdog thread keeps its processes and sockets referenced. If the grader itself dies, the
kernel dies with it (bwrap's ``--die-with-parent``; the fallback's reaper asks for the same with
``PR_SET_PDEATHSIG``).

One job per module:

- :mod:`.kernel`: :class:`SandboxedKernel`, which puts the parts below together;
- :mod:`.mounts`: the mount plan, a pure function from what the kernel may see to bubblewrap's
  command line, refusing to show secret course material; :mod:`.host` finds what this machine
  has for it (bubblewrap's options, the Python installation, the secret folders);
- :mod:`.bootstrap`: the first program inside, run as a script from the runtime folder (core
  dumps off; in the fallback, the reaper that keeps detached processes in the tree);
- :mod:`.launch`: starting the kernel process through ``jupyter_client``, from the one
  long-lived thread that PR_SET_PDEATHSIG needs;
- :mod:`.supervisor`: the processes once started: peeking at them, killing them, and the
  watchdog that enforces the memory and process limits;
- :mod:`.channel`: the Jupyter messages: the execute request, reading iopub and shell, the
  time limits per cell (interrupt, then kill); :mod:`.output` caps what a cell printed.
"""

from autograder.engine.sandbox.channel import KernelStartError
from autograder.engine.sandbox.kernel import (
    BWRAP,
    NOT_SANDBOXED_WARNING,
    SandboxedKernel,
    SandboxUnavailable,
)
from autograder.engine.sandbox.output import CellResult
from autograder.engine.sandbox.supervisor import SandboxLimits
from autograder.engine.sandbox.workdir import WorkFolder, work_folder

__all__ = [
    "BWRAP",
    "NOT_SANDBOXED_WARNING",
    "CellResult",
    "KernelStartError",
    "SandboxLimits",
    "SandboxUnavailable",
    "SandboxedKernel",
    "WorkFolder",
    "work_folder",
]
