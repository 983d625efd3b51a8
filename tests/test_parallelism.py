"""A batch never runs more kernels at once than memory holds (autograder/engine/parallelism.py).

Each kernel may use up to its limit; workers beyond what the host's available memory holds
would be ended by the host's out-of-memory killer, not by their own limits. So the local pool
runs fewer workers than asked, at least one, and the instructor is told why.
"""

from __future__ import annotations

import json
from pathlib import Path

from autograder.engine import batch, parallelism
from autograder.engine.batch import grade_batch
from autograder.engine.parallelism import GRADER_MB, _own_cgroup_room, workers_that_fit
from autograder.engine.sandbox import SandboxLimits


def test_as_many_workers_as_asked_when_memory_holds_them():
    assert workers_that_fit(2, 2048, available_mb=20_000) == (2, None)
    assert workers_that_fit(4, 2048, available_mb=4 * (2048 + GRADER_MB)) == (4, None)


def test_fewer_workers_when_memory_holds_fewer_kernels_and_the_message_says_why():
    workers, why = workers_that_fit(4, 4096, available_mb=9000)
    assert workers == 2
    assert why == ("grading with 2 workers instead of 4: 9000 MB of memory is available, and "
                   f"each worker needs up to {4096 + GRADER_MB} MB (its kernel's limit of "
                   f"4096 MB and the grader's {GRADER_MB} MB)")


def test_always_at_least_one_worker():
    workers, why = workers_that_fit(2, 4096, available_mb=1000)
    assert workers == 1 and "with 1 worker instead of 2" in why
    assert workers_that_fit(0, 2048, available_mb=100_000) == (1, None)


def test_the_graders_own_memory_cgroup_bounds_what_is_available(tmp_path):
    v1 = tmp_path / "memory" / "grader"
    v1.mkdir(parents=True)
    (v1 / "memory.limit_in_bytes").write_text(str(8 * 2**30))
    (v1 / "memory.usage_in_bytes").write_text(str(2 * 2**30))
    hybrid = (tmp_path / "unified", {"memory": tmp_path / "memory"})
    own = {"memory": "/grader", "": "/"}
    assert _own_cgroup_room(hybrid, own) == 6 * 2**30
    (v1 / "memory.limit_in_bytes").write_text(str(2**63 - 4096))  # v1 without a limit
    assert _own_cgroup_room(hybrid, own) is None  # and the unified tree holds no memory files
    v2 = tmp_path / "user.slice"
    v2.mkdir()
    (v2 / "memory.max").write_text("4294967296\n")
    (v2 / "memory.current").write_text(str(2**30))
    assert _own_cgroup_room((tmp_path, {}), {"": "/user.slice"}) == 3 * 2**30
    (v2 / "memory.max").write_text("max\n")
    assert _own_cgroup_room((tmp_path, {}), {"": "/user.slice"}) is None
    assert _own_cgroup_room((None, {}), {}) is None  # no cgroups at all


def test_a_batch_on_a_host_short_of_memory_grades_everyone_with_fewer_workers(
        ps1_built, ps1_solution, tmp_path, monkeypatch):
    ps, build = ps1_built
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a", "b", "c"):
        (folder / f"{name}.ipynb").write_bytes(Path(ps1_solution).read_bytes())
    monkeypatch.setattr(parallelism, "available_memory_mb", lambda: 3000)
    pools: list[int] = []
    local_pool = batch._local_pool
    monkeypatch.setattr(batch, "_local_pool", lambda engine, limits, workers, todo: (
        pools.append(workers) or local_pool(engine, limits, workers, todo)))
    said: list[str] = []
    report = grade_batch(ps.name, build.autograder_zip, folder, tmp_path / "out", workers=2,
                         limits=SandboxLimits(memory_mb=2048), progress=False, say=said.append)
    assert pools == [1] and report.ok and sorted(report.graded) == ["a", "b", "c"]
    assert said == [workers_that_fit(2, 2048, available_mb=3000)[1]]
    scores = {s: json.loads((tmp_path / "out" / s / "results.json").read_text())["score"]
              for s in "abc"}
    assert len(set(scores.values())) == 1 and scores["a"] > 0
