"""The cgroup limiter on a fake cgroup tree: the files it writes, the verdicts it reads, the
sweep of dead graders' groups. (The real thing is exercised by tests/test_attacks_host.py.)"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from autograder.engine.sandbox import cgroups
from autograder.engine.sandbox.supervisor import SandboxLimits

LIMITS = SandboxLimits(memory_mb=300, max_processes=10, max_tasks=40)


@pytest.fixture
def v2(tmp_path, monkeypatch) -> Path:
    parent = tmp_path / "nngrade"
    roles = {role: parent for role in ("memory", "pids", "cpu", "kill")}
    monkeypatch.setattr(cgroups, "_layout", lambda: ("v2", roles))
    return parent


@pytest.fixture
def v1(tmp_path, monkeypatch) -> dict[str, Path]:
    roles = {c: tmp_path / c / "grader" / "nngrade" for c in ("memory", "pids", "cpu")}
    roles["kill"] = tmp_path / "unified" / "nngrade"
    for folder in roles.values():
        folder.parent.mkdir(parents=True, exist_ok=True)
    monkeypatch.setattr(cgroups, "_layout", lambda: ("v1", roles))
    return roles


def test_cgroup_v2_limits_are_written(v2):
    limiter = cgroups.CgroupLimiter(LIMITS)
    group = limiter.groups["memory"]
    assert group.parent == v2 and group.name.startswith(f"{os.getpid()}-")
    assert (group / "memory.max").read_text() == str(300 * 2**20)
    assert (group / "memory.swap.max").read_text() == "0"
    assert (group / "pids.max").read_text() == "40"
    assert (group / "cpu.weight").read_text() == "100"
    assert (group.parent / "cpu.weight").read_text() == str(min(10_000, 100 * os.cpu_count()))
    assert limiter.procs_files == [str(group / "cgroup.procs")]
    assert limiter.enforcement["memory"].startswith("cgroup v2 memory.max=300 MiB")
    assert limiter.verdict() is None


def test_cgroup_v2_verdicts_come_from_the_groups_counters(v2):
    limiter = cgroups.CgroupLimiter(LIMITS)
    group = limiter.groups["memory"]
    (group / "pids.events").write_text("max 3\n")
    assert limiter.verdict() == (
        "processes", "the notebook started more than 40 processes or threads (the limit)"
    )
    (group / "memory.events").write_text("low 0\nhigh 0\nmax 9\noom 1\noom_kill 1\n")
    status, message = limiter.verdict()
    assert status == "memory" and "more than 300 MB of memory" in message


def test_cgroup_v1_limits_and_verdicts(v1):
    limiter = cgroups.CgroupLimiter(LIMITS)
    memory, pids = limiter.groups["memory"], limiter.groups["pids"]
    assert (memory / "memory.limit_in_bytes").read_text() == str(300 * 2**20)
    assert (pids / "pids.max").read_text() == "40"
    assert (limiter.groups["cpu"] / "cpu.shares").read_text() == "1024"
    # Every sandbox together weighs one busy process per core against the host's others.
    assert (limiter.groups["cpu"].parent / "cpu.shares").read_text() == str(
        1024 * os.cpu_count())
    assert len(limiter.procs_files) == 4  # memory, pids, cpu, and the unified one for kills
    assert "hybrid" in limiter.enforcement["survivors"]
    (pids / "cgroup.procs").write_text("\n".join(str(n) for n in range(1, 14)))
    assert limiter.verdict() == ("processes", "the notebook started more than 10 processes")
    (memory / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")
    assert limiter.verdict()[0] == "memory"


def test_sweep_removes_only_the_groups_of_graders_that_are_gone(v2, monkeypatch):
    v2.mkdir()
    mine = v2 / f"{os.getpid()}-{cgroups._start_time(os.getpid())}-1"
    reused = v2 / f"{os.getpid()}-1-1"  # this pid, but a process that started at another time
    dead = v2 / "999999999-5-2"
    for folder in (mine, reused, dead):
        folder.mkdir()
    killed = []
    monkeypatch.setattr(cgroups, "_kill_group", lambda folder: killed.append(folder) or True)
    assert cgroups.sweep() == 2
    assert sorted(killed) == sorted([reused, dead])
