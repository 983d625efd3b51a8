"""Every limit the grader enforces, in one place.

Two kinds:

**Per problem set** (:class:`SandboxLimits`): what one submission's kernel may use. The
defaults below are overridden by ``solutions/<ps>/grading.yaml`` (any field by name), and
``cell_timeout`` by ``nngrade grade --timeout``. How each is enforced (cgroups, the tmpfs work
folder, the sandbox user) is in :mod:`autograder.engine.sandbox`.

==================== ========= ==================================================================
field                default   what it bounds
==================== ========= ==================================================================
cell_timeout         30 s      one notebook cell, and one call a test makes
total_timeout        300 s     execution of all the cells over the kernel's life
memory_mb            2048 MB   the kernel's memory (shmem, memfd and tmpfs pages count)
max_processes        64        processes in the kernel's tree
max_tasks            512       processes and threads (a cgroup's ``pids.max``)
workdir_mb           1024 MB   the work folder's size (a tmpfs, when the grader is root)
cpu_wait_allowance   3         how far a cell's deadline moves for time spent waiting for a CPU,
                               as a multiple of the limit (0: plain wall-clock limits)
max_output_bytes     1 MB      text a cell's output keeps; 20 times that kills the kernel
grader_margin        120 s     the grader's own work per submission on top of total_timeout:
                               ``total_timeout + grader_margin`` is the submission's one deadline
compute_threads      1         threads of the kernel's numeric libraries (OpenBLAS, OpenMP,
                               TensorFlow's two thread pools), under every engine; a default
                               the notebook may change, not a bound (see below); 0 leaves
                               the libraries' own defaults (a thread per core each)
==================== ========= ==================================================================

``compute_threads`` is one because a batch runs one kernel per core: more threads per kernel
only contend for the same cores (``benchmarks/compute_threads.py``, batches graded with 2
workers on 2 cores: problem set 2's NumPy network 16 % less time and CPU per submission with one
thread each; problem set 3's Keras trainings 3 % less time and 5 % less CPU, problem set
4's 1 % and 8 %; the first round of each warms the caches for the rest), and a kernel's
arithmetic then does not change with the grading host's number of cores (a library that
splits a sum across its threads may round it differently).

**Fixed** (module constants below): caps on what a submission brings and on the grader's own
waiting, the same for every problem set. Two more live where they run, inside the kernel,
because the code there must stand alone: the codec's size limits
(:class:`autograder.codec.Limits`, ``DEFAULT_LIMITS``: encoded length, nesting, items, array
elements, text, digits and hashed items) and the agent's message cap
(``autograder/engine/agent.py``: ``MAX_MESSAGE_CHARS``).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "SandboxLimits",
    "THREAD_VARIABLES",
    "MAX_NOTEBOOK_BYTES",
    "MAX_SUBMISSION_FILES",
    "MAX_SUBMISSION_FILES_BYTES",
    "MAX_MESSAGE_CHARS",
    "FILE_ARGUMENT_BYTES",
    "OUTPUT_KILL_FACTOR",
    "INTERRUPT_GRACE",
    "START_TIMEOUT",
    "WATCH_INTERVAL",
]


#: Read at start-up by OpenMP, OpenBLAS, MKL, and TensorFlow (its intra-op and inter-op pools).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")


@dataclass(frozen=True)
class SandboxLimits:
    """What one submission's kernel may use (the table in this module's documentation)."""

    cell_timeout: float = 30.0
    total_timeout: float = 300.0
    memory_mb: int = 2048
    max_processes: int = 64
    max_tasks: int = 512
    workdir_mb: int = 1024
    cpu_wait_allowance: float = 3.0
    max_output_bytes: int = 1_000_000
    grader_margin: float = 120.0
    compute_threads: int = 1

    @property
    def thread_env(self) -> dict[str, str]:
        """The environment variables that give a kernel's numeric libraries
        ``compute_threads`` threads each (none for 0: the libraries' own defaults)."""
        if self.compute_threads <= 0:
            return {}
        threads = str(self.compute_threads)
        return {name: threads for name in THREAD_VARIABLES}

    @property
    def deadline_seconds(self) -> float:
        """Wall-clock seconds for grading one submission, start to finish."""
        return self.total_timeout + self.grader_margin


#: A notebook larger than this is not graded (read with this cap, never past it).
MAX_NOTEBOOK_BYTES = 20 * 2**20
#: Files of a folder submission copied into the work folder: at most this many ...
MAX_SUBMISSION_FILES = 100
#: ... and at most this much in total.
MAX_SUBMISSION_FILES_BYTES = 256 * 2**20
#: A message in feedback is cut after a whole sentence once it is longer than this.
MAX_MESSAGE_CHARS = 1000
#: An array argument of a call at least this large reaches the kernel as a ``.npy`` file.
FILE_ARGUMENT_BYTES = 1 << 20
#: A cell whose output goes past this many times ``max_output_bytes`` kills the kernel.
OUTPUT_KILL_FACTOR = 20
#: Seconds a timed-out cell has to honour its interrupt before the kernel is killed.
INTERRUPT_GRACE = 2.0
#: Seconds a kernel has to start and answer.
START_TIMEOUT = 60.0
#: Seconds between two looks of the supervisor at a running kernel.
WATCH_INTERVAL = 0.05
