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

What the host enforces, and how (each kernel's :attr:`SandboxedKernel.enforcement` says it in
words, for the results):

- **user**: bubblewrap is started as the dedicated unprivileged host user ``nngrade-sandbox``
  (:mod:`.identity`; ``make setup`` creates it, the engine only looks it up), dropped to with
  ``setgroups([])``, ``setgid``, ``setuid`` between fork and exec, so that uid 65534 inside is
  that user outside, never root. The runtime folder is ``root:nngrade-sandbox`` 0770 and the
  connection file 0640: the grader and the sandbox user, no one else. Folders the user cannot
  reach by name (the Python installation under ``/root``, say) are bind-mounted for bubblewrap
  in a private mount namespace of the child (:class:`.workdir.Loan`), gone with it.
- **work folder** (:func:`work_folder`): a tmpfs per submission mounted by the grader (root),
  ``nosuid,nodev,noexec``, ``size=workdir_mb``, mode 0700 owned by the sandbox user, under a
  private parent (0710, root and the sandbox group). A set-uid file there does nothing and
  nobody else reaches it; a write past the cap fails with ENOSPC; clean-up is one lazy
  unmount, whatever the student left, and never raises (a problem is a warning). The grader
  writes its ``.npy`` argument files into it. Without root: a plain folder, said loudly.
- **memory, processes and threads, CPU** (:mod:`.cgroups`): a cgroup per sandbox, joined by the
  child before exec, so every descendant is in it. cgroup v2: ``memory.max`` and
  ``memory.swap.max=0``, ``pids.max`` (``max_tasks``: threads count), ``cpu.weight``. cgroup v1
  (this kind of host): ``memory.limit_in_bytes`` (and ``memory.memsw.limit_in_bytes``) below
  the grader's own memory cgroup, ``pids.max``, ``cpu.shares``. Memory counts shmem, memfd and
  tmpfs pages; the kernel's OOM killer enforces it. The limiter's thread reads the group's own
  counters every 50 ms (``oom_kill``, ``pids.events`` ``max``, the processes in
  ``cgroup.procs`` against ``max_processes``) and kills the sandbox with a message that names
  the limit. A kernel killed by the host's OOM killer while within its limit is status
  ``"host"``: a grader failure, never the student's zero. Without cgroups (a grader that is
  not root) the old sampling watchdog (RSS and the private tmpfs, every 50 ms) stands in, and
  the kernel says loudly that the limits are sampled, not enforced.
- **time per cell** (``cell_timeout`` or the ``timeout`` argument of
  :meth:`SandboxedKernel.execute`): the kernel is interrupted (``interrupt_request``: ipykernel
  raises ``KeyboardInterrupt`` in the cell); if the cell has not finished 2 s later it is
  killed. Either way the cell's status is ``"timeout"``; after a successful interrupt the
  kernel stays usable. **Time per kernel** (``total_timeout``): the execution time of all
  cells adds up; when it is used up the kernel is killed. Both are wall-clock time less the
  time the sandbox waited for a CPU it was ready to use (PSI ``cpu.pressure`` of its cgroup v2
  group, at most ``cpu_wait_allowance`` times the limit, 3 by default; 0 for plain wall-clock
  limits), so other gradings on a busy host do not eat it.
- **output** (``max_output_bytes``): per cell, text beyond the cap is dropped
  (``truncated=True``); a cell whose output goes past 20 times the cap kills the kernel. The
  grader's sockets refuse any single message larger than that, so a huge print never lands in
  the grader's memory.
- **no survivor**: bubblewrap gets ``PR_SET_PDEATHSIG`` (SIGKILL when the grader dies, set
  after the uid change, and the child checks the grader has not already gone) and its init
  ``--die-with-parent``; the bootstrap exits when a lifeline pipe (whose only write end the
  grader holds) says the grader died before the init could ask for that; a kill takes the
  whole cgroup (``cgroup.kill``, or every pid in ``cgroup.procs``); and each start kills and
  removes the groups and work folders of graders that no longer run (they are named
  ``<pid>-<start time>``).

After the kernel has been killed, or has died by itself, every later
:meth:`SandboxedKernel.execute` returns status ``"died"`` at once. There is no restart.

A host that cannot give a guarantee is told so at start-up: when bubblewrap is missing or
cannot create its namespaces the kernel runs as a plain subprocess (same environment, same
work folder, same limits, core dumps off); without the sandbox user bubblewrap runs as the
grader; without cgroups the watchdog samples. Each says so loudly in
:attr:`SandboxedKernel.warnings`; with ``require_sandbox=True`` each refuses with
:class:`SandboxUnavailable` instead.

A kernel is used from one thread at a time, and must be shut down (``with`` does it): the
watchdog thread keeps its processes and sockets referenced.

One job per module:

- :mod:`.kernel`: :class:`SandboxedKernel`, which puts the parts below together;
- :mod:`.mounts`: the mount plan, a pure function from what the kernel may see to bubblewrap's
  command line, refusing to show secret course material; :mod:`.host` finds what this machine
  has for it (bubblewrap's options, the Python installation, the secret folders);
- :mod:`.identity`: the sandbox user; :mod:`.workdir`: the work folder and the folders lent
  to the sandbox user; :mod:`.cgroups`: the kernel-enforced limits and the sweep;
- :mod:`.bootstrap`: the first program inside, run as a script from the runtime folder (core
  dumps off; in the fallback, the reaper that keeps detached processes in the tree);
  :mod:`.command`: the kernel's environment variables and command line;
- :mod:`.launch`: starting the kernel process through ``jupyter_client``, from the one
  long-lived thread that PR_SET_PDEATHSIG needs;
- :mod:`.supervisor`: the processes once started: peeking at them, killing them, and the
  sampling watchdog (the fallback);
- :mod:`.channel`: the Jupyter sockets: the execute request, polling iopub and shell, the
  time limits per cell (interrupt, then kill); :mod:`.cell`: what the kernel's messages mean
  for the cell in flight, and its result; :mod:`.output` caps what a cell printed.
"""

from autograder.engine.sandbox.channel import KernelStartError
from autograder.engine.sandbox.kernel import (
    BWRAP,
    NOT_SANDBOXED_WARNING,
    SandboxedKernel,
    SandboxUnavailable,
)
from autograder.engine.sandbox.output import CellResult
from autograder.engine.sandbox.workdir import WorkFolder, work_folder
from autograder.limits import SandboxLimits

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
