"""How many submissions a batch grades at once: the workers asked for, as many as memory holds.

Each worker of the local pool grades one submission at a time, and that submission's kernel
may use up to ``memory_mb`` (its cgroup enforces it). A batch whose workers could together ask
for more memory than the host has would not be stopped by those limits: the host's own
out-of-memory killer would end some process, perhaps an honest student's kernel or the
grader. So :func:`workers_that_fit` runs at most as many workers as the memory available now
holds, each counted at its kernel's limit plus :data:`GRADER_MB` for the worker process
itself, at least one, and says why when that is fewer than asked.

"Available" is the host's (``MemAvailable``: free memory and what the kernel can reclaim),
and no more than what the grader's own memory cgroup still allows, since every sandbox's cgroup
is created under it (cgroup v2 ``memory.max`` less ``memory.current``, v1
``memory.limit_in_bytes`` less ``memory.usage_in_bytes``).
"""

from __future__ import annotations

from pathlib import Path

import psutil

__all__ = ["GRADER_MB", "available_memory_mb", "workers_that_fit"]

#: The memory of one worker process of the grader, besides its submission's kernel (about
#: 165 MB resident measured on this course's batches; rounded up).
GRADER_MB = 256
CGROUP_ROOT = Path("/sys/fs/cgroup")


def _own_cgroup_room(root: Path = CGROUP_ROOT, own: Path = Path("/proc/self/cgroup")) -> int | None:
    """Bytes the grader's own memory cgroup still allows, or ``None`` when none limits it."""
    try:
        lines = own.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":  # cgroup v2 (on a hybrid host it may hold no memory controller)
            folder, limit_file, usage_file = root / path.lstrip("/"), "memory.max", "memory.current"
        elif "memory" in controllers.split(","):
            folder = root / "memory" / path.lstrip("/")
            limit_file, usage_file = "memory.limit_in_bytes", "memory.usage_in_bytes"
        else:
            continue
        try:
            limit = (folder / limit_file).read_text().strip()
            usage = int((folder / usage_file).read_text())
        except (OSError, ValueError):
            continue
        if limit == "max" or int(limit) >= 1 << 60:  # v1's "no limit" is a huge number
            continue
        return int(limit) - usage
    return None


def available_memory_mb() -> int:
    """MiB the batch may use now: the host's available memory, within the grader's cgroup."""
    available = psutil.virtual_memory().available
    room = _own_cgroup_room()
    if room is not None:
        available = min(available, max(room, 0))
    return available // 2**20


def workers_that_fit(requested: int, memory_mb: int,
                     available_mb: int | None = None) -> tuple[int, str | None]:
    """``(workers, why)``: ``requested`` workers, or fewer (at least one) when memory holds
    fewer kernels of ``memory_mb`` each; ``why`` says so, and is ``None`` otherwise."""
    requested = max(1, requested)
    if available_mb is None:
        available_mb = available_memory_mb()
    fit = max(1, available_mb // (memory_mb + GRADER_MB))
    if fit >= requested:
        return requested, None
    return fit, (
        f"grading with {fit} worker{'s' if fit > 1 else ''} instead of {requested}: "
        f"{available_mb} MB of memory is available, and each worker needs up to "
        f"{memory_mb + GRADER_MB} MB (its kernel's limit of {memory_mb} MB and the grader's "
        f"{GRADER_MB} MB)"
    )
