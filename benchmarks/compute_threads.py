"""What ``compute_threads`` buys: a batch graded with one numeric-library thread per kernel
against the same batch with the libraries' own defaults (one thread per core each).

A batch of ``--copies`` copies of the problem set's solution (default problem set 3, whose
grading trains three Keras networks on MNIST) is graded by the nngrade engine, sandboxed, with
2 workers, once with ``compute_threads=1`` (the default) and once with ``compute_threads=0``
(nothing set: OpenBLAS, OpenMP and TensorFlow each start a thread per core). The rounds run
interleaved (one, default, default, one, ...), so that a machine whose load drifts favours
neither. Printed per round and on average: wall seconds per submission, and the CPU seconds
the whole machine spent per submission (from ``/proc/stat``: run it on an otherwise idle
machine), and the ratios.

Target: one thread per kernel takes no more wall time than the defaults, and less CPU.

Run: ``.venv/bin/python benchmarks/compute_threads.py [--ps PS] [--copies N] [--rounds N]``
(after ``make setup``; it builds the problem set in a scratch course folder).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import tempfile
import time
from pathlib import Path

from autograder.build import build_problem_set
from autograder.engine.batch import grade_batch
from autograder.problem_sets import find_problem_sets, grading_limits
from nnkit.mnist import course_data_dir

REPO = Path(__file__).resolve().parents[1]


def busy_cpu_seconds() -> float:
    """CPU seconds the machine has spent busy since boot (all cores; ``/proc/stat``)."""
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    idle, iowait = fields[3], fields[4]
    return (sum(fields) - idle - iowait) / os.sysconf("SC_CLK_TCK")


def grade_once(ps, folder: Path, out: Path, threads: int) -> tuple[float, float]:
    """Wall seconds and machine CPU seconds for grading ``folder`` with ``threads``."""
    limits = dataclasses.replace(grading_limits(ps), compute_threads=threads)
    shutil.rmtree(out, ignore_errors=True)
    cpu, wall = busy_cpu_seconds(), time.perf_counter()
    report = grade_batch(ps.name, ps.autograder_zip, folder, out, workers=2, limits=limits,
                         readonly_paths=(course_data_dir(),), require_sandbox=True,
                         progress=False, master=ps.master)  # fmt: skip
    wall, cpu = time.perf_counter() - wall, busy_cpu_seconds() - cpu
    assert report.ok and len(report.graded) == len(list(folder.iterdir())), report.failed
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ps", default="ps3-keras-mnist", help="problem set (default ps3)")
    parser.add_argument("--copies", type=int, default=4, help="solutions per batch (4)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of each (default 2)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nngrade-compute-threads-") as tmp:
        root = Path(tmp) / "course"
        shutil.copytree(REPO / "solutions" / args.ps, root / "solutions" / args.ps)
        (root / "pyproject.toml").write_text("")
        (ps,) = find_problem_sets(root, [args.ps])
        build_problem_set(ps, run_solution=False)
        folder = Path(tmp) / "in"
        folder.mkdir()
        for i in range(args.copies):
            shutil.copy(ps.solution_notebook, folder / f"solution-{i}.ipynb")
        order = [1, 0, 0, 1] * ((args.rounds + 1) // 2)
        order = order[: 2 * args.rounds]
        seen: dict[int, list[tuple[float, float]]] = {1: [], 0: []}
        for i, threads in enumerate(order, 1):
            wall, cpu = grade_once(ps, folder, Path(tmp) / "out", threads)
            seen[threads].append((wall / args.copies, cpu / args.copies))
            label = "one thread" if threads else "defaults"
            print(f"  round {i} ({label:10})  {wall / args.copies:6.2f} s and "
                  f"{cpu / args.copies:6.2f} CPU-s per submission", flush=True)
    mean = {t: (sum(w for w, _ in runs) / len(runs), sum(c for _, c in runs) / len(runs))
            for t, runs in seen.items()}
    print(f"{args.ps}, {args.copies} solutions per batch, sandboxed, 2 workers, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end")
    for threads, label in ((1, "compute_threads=1"), (0, "library defaults ")):
        print(f"{label}   {mean[threads][0]:6.2f} s   {mean[threads][1]:6.2f} CPU-s "
              "per submission")
    print(f"one / defaults      {mean[1][0] / mean[0][0]:6.3f} wall   "
          f"{mean[1][1] / mean[0][1]:6.3f} CPU   (target: wall <= 1, CPU < 1)")


if __name__ == "__main__":
    main()
