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

from autograder.engine.sandbox import cgroups

__all__ = ["GRADER_MB", "available_memory_mb", "workers_that_fit"]

#: The memory of one worker process of the grader, besides its submission's kernel (about
#: 165 MB resident measured on this course's batches; rounded up).
GRADER_MB = 256
def _own_cgroup_room(
    mounted: tuple[Path | None, dict[str, Path]] | None = None, own: dict[str, str] | None = None
) -> int | None:
    """Bytes the grader's own memory cgroup still allows, or ``None`` when none limits it.
    ``mounted`` and ``own``: the cgroup mounts and the grader's own groups, as
    :func:`~autograder.engine.sandbox.cgroups.mounts` and ``own_paths`` read them."""
    unified, v1 = mounted if mounted is not None else cgroups.mounts()
    own = own if own is not None else cgroups.own_paths()
    places = []
    if "memory" in v1 and "memory" in own:
        places.append((v1["memory"] / own["memory"].lstrip("/"), "memory.limit_in_bytes",
                       "memory.usage_in_bytes"))
    if unified is not None and "" in own:  # on a hybrid host it may hold no memory controller
        places.append((unified / own[""].lstrip("/"), "memory.max", "memory.current"))
    for folder, limit_file, usage_file in places:
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
