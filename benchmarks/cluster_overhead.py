"""What grading on Dask costs over the local pool: the same problem set 1 class, both ways.

The class: 20 submissions, a mix of correct (the solution), partially correct (each declared
mistake of ``solutions/ps1-perceptron/mistakes.yaml``) and blank (the release). It is graded,
sandboxed, by

* the local pool, 2 worker processes (``nngrade grade --workers 2``);
* ``--cluster local:2``: a ``LocalCluster`` of 2 single-threaded worker processes, started for
  the batch and counted in its time, the submissions and the tests shipped to the workers as
  bytes and the results written by the client,

in rounds ordered local, cluster, cluster, local (``--rounds``), so that a machine whose load
drifts favours neither. Printed: the wall-clock seconds per submission of each, their ratio,
and the client's CPU seconds per submission (handing out the jobs, receiving and writing the
results; with ``local:2`` the scheduler's work too, which runs in the client's process).

Target: Dask's seconds per submission at most 10 % over the local pool's on the same 2 cores.

Run: ``.venv/bin/python benchmarks/cluster_overhead.py`` (builds problem set 1 if needed).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import nbformat

from autograder.build import build_problem_set
from autograder.engine.batch import BatchReport, grade_batch
from autograder.mistakes import apply_mistake, load_mistakes
from autograder.problem_sets import find_problem_sets, grading_limits, repo_root
from nnkit.mnist import course_data_dir

SUBMISSIONS = 20


def make_class(ps, folder: Path) -> list[str]:
    solution = nbformat.read(ps.solution_notebook, as_version=4)
    variants = [solution, nbformat.read(ps.student_notebook, as_version=4)]
    variants += [apply_mistake(solution, m) for m in load_mistakes(ps)]
    kinds = ["correct", "blank"] + [m.name for m in load_mistakes(ps)]
    names = []
    for i in range(SUBMISSIONS):
        name = f"s{i:02d}-{kinds[i % len(kinds)]}"
        nbformat.write(variants[i % len(variants)], folder / f"{name}.ipynb")
        names.append(name)
    return names


def grade_once(ps, folder: Path, out: Path, cluster: str | None) -> tuple[float, BatchReport]:
    start = time.perf_counter()
    report = grade_batch(
        ps.name, ps.autograder_zip, folder, out, workers=2, limits=grading_limits(ps),
        readonly_paths=(course_data_dir(),), progress=False, master=ps.master, force=True,
        cluster=cluster,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    assert report.ok and len(report.graded) == SUBMISSIONS, report.failed
    return seconds, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=1, help="local, cluster, cluster, local")
    args = parser.parse_args()
    (ps,) = find_problem_sets(repo_root(), ["ps1-perceptron"])
    if not ps.is_built:
        build_problem_set(ps)
    walls: dict[str, list[float]] = {"local": [], "cluster": []}
    cpus: dict[str, list[float]] = {"local": [], "cluster": []}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "in"
        folder.mkdir()
        make_class(ps, folder)
        order = ["local", "cluster", "cluster", "local"] * args.rounds
        for number, runner in enumerate(order):
            out = Path(tmp) / f"out-{number}"
            cluster = "local:2" if runner == "cluster" else None
            seconds, report = grade_once(ps, folder, out, cluster)
            walls[runner].append(seconds / SUBMISSIONS)
            cpus[runner].append(report.client_cpu_seconds / SUBMISSIONS)
            print(f"  run {number + 1} ({runner:7s}) {walls[runner][-1]:6.3f} s per submission, "
                  f"client CPU {cpus[runner][-1] * 1000:6.1f} ms")

    local, cluster = statistics.mean(walls["local"]), statistics.mean(walls["cluster"])
    load = os.getloadavg()[0]
    print(f"problem set 1, {SUBMISSIONS} submissions (correct, partial, blank), sandboxed, "
          f"{os.cpu_count()} cores, load average {load:.1f} at the end, "
          f"{len(walls['local'])} runs each")
    print(f"local pool, 2 workers        {local:6.3f} s per submission, "
          f"client CPU {statistics.mean(cpus['local']) * 1000:6.1f} ms per submission")
    print(f"--cluster local:2            {cluster:6.3f} s per submission, "
          f"client CPU {statistics.mean(cpus['cluster']) * 1000:6.1f} ms per submission")
    print(f"cluster / local              {cluster / local:6.3f}   (target <= 1.10)")
    print(f"Dask's overhead              {(cluster - local) * 1000:+6.0f} ms per submission")


if __name__ == "__main__":
    main()
