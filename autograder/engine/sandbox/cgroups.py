"""Limits from the kernel: one cgroup per sandbox, for memory, tasks and CPU share.

:class:`CgroupLimiter` is a :class:`~autograder.engine.sandbox.supervisor.Watchdog` whose
limits the Linux kernel enforces. It makes the sandbox's cgroups before the kernel starts; the
child joins them between fork and exec (:meth:`CgroupLimiter.join`, run by the spawner's
``preexec_fn``), so bubblewrap and everything below it are inside from their first instruction.

- **cgroup v2** (``/sys/fs/cgroup`` unified): ``memory.max`` and ``memory.swap.max=0``,
  ``pids.max``, ``cpu.weight``; the verdict from ``memory.events`` (``oom_kill``) and
  ``pids.events`` (``max``); the end with ``cgroup.kill``.
- **cgroup v1**: ``memory`` (below the grader's own memory cgroup, as ``/proc/self/cgroup``
  names it) with ``memory.limit_in_bytes`` (and ``memory.memsw.limit_in_bytes``), ``pids``
  with ``pids.max``, ``cpu`` with ``cpu.shares``; the verdict from ``memory.oom_control``
  (``oom_kill``, else ``memory.failcnt``) and ``pids.events``. A controller-less unified
  hierarchy (the hybrid layout) still gives ``cgroup.kill``; without it the processes listed in
  ``cgroup.procs`` are killed until none is left.

Memory counts everything the kernel charges to the group: anonymous memory, shmem and memfd,
tmpfs pages. Tasks (``pids.max``) count threads as well as processes. Every sandbox's group is
named ``<grader pid>-<grader start time>-<n>`` below a parent called ``nngrade``: at start-up
:func:`sweep` kills and removes the groups of graders that no longer run, so a SIGKILLed
grader's sandbox cannot survive the next start. :func:`available` says whether this machine
can do any of it (root, and the controllers mounted).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

from autograder.engine.sandbox.supervisor import ProcessTree
from autograder.limits import WATCH_INTERVAL, SandboxLimits

__all__ = ["CgroupLimiter", "available", "host_oom_kills", "mounts", "own_paths", "sweep"]

PARENT = "nngrade"
_V1_CONTROLLERS = ("memory", "pids", "cpu")
_counter = itertools.count(1)


def mounts() -> tuple[Path | None, dict[str, Path]]:
    """The cgroup v2 mount (or None) and the v1 mount of each controller."""
    unified, v1 = None, {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            left, _, right = line.partition(" - ")
            fields, tail = left.split(), right.split()
            if len(fields) < 5 or len(tail) < 3:
                continue
            if tail[0] == "cgroup2" and unified is None:
                unified = Path(fields[4])
            elif tail[0] == "cgroup":
                for option in tail[2].split(","):
                    if option in _V1_CONTROLLERS:
                        v1.setdefault(option, Path(fields[4]))
    return unified, v1


def own_paths() -> dict[str, str]:
    """The grader's own cgroup per controller (``""`` for v2), from /proc/self/cgroup."""
    own = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for name in controllers.split(",") if controllers else [""]:
                own[name] = path
    return own


def _layout() -> tuple[str, dict[str, Path]]:
    """("v2"|"v1"|"", {role: parent folder}); roles: memory, pids, cpu, kill."""
    if os.geteuid() != 0:
        return "", {}
    unified, v1 = mounts()
    own = own_paths()
    if unified is not None:
        controllers = set()
        with contextlib.suppress(OSError):
            controllers = set((unified / "cgroup.controllers").read_text().split())
        if {"memory", "pids", "cpu"} <= controllers:
            parent = unified / PARENT
            return "v2", {role: parent for role in ("memory", "pids", "cpu", "kill")}
    roles: dict[str, Path] = {}
    for controller in _V1_CONTROLLERS:
        if controller in v1:
            base = v1[controller] / own.get(controller, "/").lstrip("/")
            roles[controller] = base / PARENT
    if unified is not None and (unified / "cgroup.procs").exists():
        roles["kill"] = unified / PARENT
    return ("v1" if "memory" in roles and "pids" in roles else ""), roles


def available() -> str | None:
    """Why per-sandbox cgroups cannot be had here, or ``None`` when they can."""
    if os.geteuid() != 0:
        return "the grader is not root, so it cannot create cgroups"
    version, _ = _layout()
    if not version:
        return "neither cgroup v2 with memory, pids and cpu nor cgroup v1 memory and pids exists"
    return None


def host_oom_kills() -> int:
    """How many processes the host's (or any cgroup's) out-of-memory killer has killed."""
    return _keyed(Path("/proc/vmstat")).get("oom_kill", 0)


def _start_time(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _procs(folder: Path) -> list[int]:
    try:
        return [int(x) for x in (folder / "cgroup.procs").read_text().split()]
    except (OSError, ValueError):
        return []


def _kill_group(folder: Path, deadline: float = 5.0) -> bool:
    """Kill every process of the cgroup ``folder`` and remove it; whether it is gone."""
    end = time.monotonic() + deadline
    kill_file = folder / "cgroup.kill"
    while folder.exists() and time.monotonic() < end:
        if kill_file.exists():
            with contextlib.suppress(OSError):
                kill_file.write_text("1")
        for pid in _procs(folder):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            folder.rmdir()
            return True
        time.sleep(0.01)
    return not folder.exists()


def sweep() -> int:
    """Kill and remove the sandbox groups of graders that no longer run; how many groups."""
    _, roles = _layout()
    removed = 0
    for parent in set(roles.values()):
        with contextlib.suppress(OSError):
            for child in parent.iterdir():
                if not child.is_dir():
                    continue
                pid, _, rest = child.name.partition("-")
                started = rest.partition("-")[0]
                if pid.isdigit() and _start_time(int(pid)) == started:
                    continue  # its grader still runs
                removed += _kill_group(child)
    return removed


class CgroupLimiter:
    """The sandbox's own cgroups, their limits, and a thread that reads the verdicts."""

    def __init__(self, limits: SandboxLimits) -> None:
        self.limits = limits
        self.version, roles = _layout()
        if not self.version:
            raise OSError(available() or "no cgroups")
        name = f"{os.getpid()}-{_start_time(os.getpid())}-{next(_counter)}"
        self.groups = {role: parent / name for role, parent in roles.items()}
        self.tree: ProcessTree | None = None
        #: Processes in the group that are not the student's (bubblewrap and its init).
        self.overhead = 2
        self.between_cells: Callable[[], None] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._removed = False
        self._host_ooms = host_oom_kills()
        try:
            self._create()
        except OSError:
            self.remove()
            raise

    # ------------------------------------------------------------------ set-up

    def _create(self) -> None:
        limits = self.limits
        memory = limits.memory_mb * 1024 * 1024
        for folder in dict.fromkeys(self.groups.values()):
            folder.parent.mkdir(exist_ok=True)
            if self.version == "v2":
                _enable_controllers(folder.parent)
            folder.mkdir()
        self._weigh_the_parent()
        if self.version == "v2":
            group = self.groups["memory"]
            _write(group / "memory.max", memory)
            with contextlib.suppress(OSError):
                _write(group / "memory.swap.max", 0)
            _write(group / "pids.max", limits.max_tasks)
            _write(group / "cpu.weight", 100)
            return
        _write(self.groups["memory"] / "memory.limit_in_bytes", memory)
        memsw = self.groups["memory"] / "memory.memsw.limit_in_bytes"
        if memsw.exists():
            _write(memsw, memory)
        _write(self.groups["pids"] / "pids.max", limits.max_tasks)
        if "cpu" in self.groups:
            _write(self.groups["cpu"] / "cpu.shares", 1024)

    def _weigh_the_parent(self) -> None:
        """Give the parent of every sandbox the CPU weight of one busy process per core.

        Each sandbox weighs as much as one process within the parent, so students share
        fairly among themselves; but the parent competes with the host's other processes as a
        single one. At its default weight, every sandbox of a batch together would get one
        process's share of a loaded host, however many workers grade: a batch of two would run
        at half speed next to one busy process. The sweep leaves the parent in place."""
        if "cpu" not in self.groups:
            return
        cores, parent = os.cpu_count() or 1, self.groups["cpu"].parent
        with contextlib.suppress(OSError):
            if self.version == "v2":
                _write(parent / "cpu.weight", min(10_000, 100 * cores))
            else:
                _write(parent / "cpu.shares", 1024 * cores)

    @property
    def procs_files(self) -> list[str]:
        """The ``cgroup.procs`` files the child writes its pid into before exec."""
        return [str(folder / "cgroup.procs") for folder in dict.fromkeys(self.groups.values())]

    def join(self) -> None:
        """In the forked child, before exec: move this process into every group."""
        me = str(os.getpid()).encode()
        for name in self.procs_files:
            fd = os.open(name, os.O_WRONLY)
            try:
                os.write(fd, me)
            finally:
                os.close(fd)

    @property
    def enforcement(self) -> dict[str, str]:
        """Which limit is enforced, and how, in words for the results."""
        v, limits = self.version, self.limits
        if v == "v2":
            found = {
                "memory": f"cgroup v2 memory.max={limits.memory_mb} MiB, memory.swap.max=0",
                "tasks": f"cgroup v2 pids.max={limits.max_tasks} (threads count)",
                "cpu": "cgroup v2 cpu.weight=100 (their parent: 100 per core)",
                "survivors": "cgroup v2 cgroup.kill",
            }
        else:
            memsw = (self.groups["memory"] / "memory.memsw.limit_in_bytes").exists()
            found = {
                "memory": f"cgroup v1 memory.limit_in_bytes={limits.memory_mb} MiB"
                + (" (memsw too)" if memsw else ""),
                "tasks": f"cgroup v1 pids.max={limits.max_tasks} (threads count)",
                "cpu": ("cgroup v1 cpu.shares=1024 (their parent: 1024 per core)"
                        if "cpu" in self.groups else "not limited"),
                "survivors": "cgroup v2 cgroup.kill (hybrid unified hierarchy)"
                if "kill" in self.groups
                else "cgroup v1 cgroup.procs, killed until empty",
            }
        found["processes"] = f"cgroup.procs counted, at most {limits.max_processes}"
        if self.cpu_stall() is not None and limits.cpu_wait_allowance > 0:
            found["time"] = (
                "wall clock, less the time the sandbox waited for a CPU (its cpu.pressure), "
                f"at most {1 + limits.cpu_wait_allowance:g} times the limit"
            )
        return found

    # ------------------------------------------------------------------ the verdict

    def counters(self) -> dict[str, int]:
        """The kernel's own counters: oom kills, refused forks, processes, memory peak."""
        found = {"oom_kill": 0, "pids_max": 0, "processes": len(_procs(self.groups["pids"]))}
        memory, pids = self.groups["memory"], self.groups["pids"]
        if self.version == "v2":
            events = _keyed(memory / "memory.events")
            found["oom_kill"] = events.get("oom_kill", 0) or events.get("oom", 0)
        else:
            found["oom_kill"] = _keyed(memory / "memory.oom_control").get("oom_kill", 0)
            if not found["oom_kill"]:
                with contextlib.suppress(OSError, ValueError):
                    peak = int((memory / "memory.max_usage_in_bytes").read_text())
                    failed = int((memory / "memory.failcnt").read_text())
                    if failed and peak >= self.limits.memory_mb * 1024 * 1024 - (1 << 20):
                        found["oom_kill"] = -1  # reclaim failed at the limit
        found["pids_max"] = _keyed(pids / "pids.events").get("max", 0)
        return found

    def verdict(self) -> tuple[str, str] | None:
        """Which limit the kernel enforced on the sandbox, from its counters; else ``None``."""
        limits, seen = self.limits, self.counters()
        if seen["oom_kill"] > 0 or (seen["oom_kill"] < 0 and self._kernel_gone()):
            return "memory", (
                f"the notebook used more than {limits.memory_mb} MB of memory (the limit)"
            )
        if seen["pids_max"] > 0:
            return "processes", (
                f"the notebook started more than {limits.max_tasks} processes or threads "
                "(the limit)"
            )
        if seen["processes"] - self.overhead > limits.max_processes:
            return "processes", f"the notebook started more than {limits.max_processes} processes"
        if self._kernel_gone() and host_oom_kills() > self._host_ooms:
            return "host", (
                "the kernel was killed by the host's out-of-memory killer, outside this "
                f"notebook's own limit of {limits.memory_mb} MB: the grading host ran out of "
                "memory (a grader problem, not the student's)"
            )
        return None

    def cpu_stall(self) -> float | None:
        """Seconds the sandbox's tasks waited for a CPU they were ready to use (PSI "some"
        of its cgroup v2 group), or ``None`` where the kernel does not say."""
        group = self.groups.get("kill") if self.version == "v1" else self.groups.get("cpu")
        if group is None:
            return None
        try:
            for line in (group / "cpu.pressure").read_text().splitlines():
                if line.startswith("some "):
                    return int(line.rsplit("total=", 1)[1]) / 1e6
        except (OSError, ValueError, IndexError):
            return None
        return None

    def _kernel_gone(self) -> bool:
        return self.tree is not None and not self.tree.kernel_running()

    # ------------------------------------------------------------------ the Watchdog

    def start(self) -> None:
        self._thread = threading.Thread(target=self._watch, name="nngrade-cgroup", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread.is_alive() and thread is not threading.current_thread():
            thread.join(timeout=5)

    def _watch(self) -> None:
        tree = self.tree
        assert tree is not None
        while not self._stop.wait(WATCH_INTERVAL):
            if tree.death is not None:
                return
            found = self.verdict()
            if found is not None:
                tree.kill(*found)
                return
            if self.between_cells is not None:
                self.between_cells()

    def kill_all(self) -> None:
        """SIGKILL every process in the sandbox's groups (setsid and double forks included)."""
        kill = self.groups.get("kill")
        if kill is not None and (kill / "cgroup.kill").exists():
            with contextlib.suppress(OSError):
                (kill / "cgroup.kill").write_text("1")
        for folder in dict.fromkeys(self.groups.values()):
            for pid in _procs(folder):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)

    def remove(self) -> list[str]:
        """Kill what is left and remove the groups; problems, in words (never raises)."""
        if self._removed:
            return []
        self._removed = True
        problems = []
        for folder in dict.fromkeys(self.groups.values()):
            if folder.exists() and not _kill_group(folder):
                problems.append(f"the sandbox's cgroup {folder} could not be removed")
        return problems


def _write(path: Path, value: int | str) -> None:
    path.write_text(str(value))


def _keyed(path: Path) -> dict[str, int]:
    found = {}
    with contextlib.suppress(OSError):
        for line in path.read_text().splitlines():
            key, _, value = line.partition(" ")
            with contextlib.suppress(ValueError):
                found[key] = int(value)
    return found


def _enable_controllers(parent: Path) -> None:
    """cgroup v2: let ``parent``'s children (and ``parent`` in its own parent) use them."""
    for folder in (parent.parent, parent):
        wanted = " ".join(f"+{c}" for c in ("memory", "pids", "cpu"))
        with contextlib.suppress(OSError):
            (folder / "cgroup.subtree_control").write_text(wanted)
