"""What the sandbox's host-side hardening costs: problem set 1 graded before and after it.

The hardening (a dedicated sandbox user, a cgroup per sandbox for memory, tasks and CPU, a
size-capped tmpfs work folder, bounded decoding, one deadline per submission) came in after
commit ``6a790fa``. This benchmark exports that commit and ``HEAD`` into a scratch folder
(``git archive``: nothing of the working tree is touched), builds problem set 1 in each, and
grades the same kind of batch with each version's own code (``make_batch`` of its
``benchmarks/grade_throughput.py``): 24 submissions, a mix of correct (the solution),
partially correct (each declared mistake) and blank (the release), sandboxed
(``require_sandbox``), 2 workers. The rounds run interleaved (before, after, after, before),
so that a machine whose load drifts favours neither. Printed: seconds per submission of each
round and on average, and their ratio.

Target: after at most 10 % over before, measured in the same run on the same machine.

Run: ``.venv/bin/python benchmarks/security_overhead.py [--before REV] [--rounds N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BEFORE = "6a790fa"  # the last commit before the sandbox's host-side hardening

# Run with each version's own code on sys.path. The batch is each version's own
# benchmarks/grade_throughput.py make_batch (the same 24 submissions both versions describe).
DRIVER = r"""
import json, sys, tempfile, time
from pathlib import Path

import autograder
import nnkit.mnist as mnist
from autograder.build import build_problem_set
from autograder.engine.batch import grade_batch
from autograder.problem_sets import find_problem_sets, grading_limits

root, build_only = Path(sys.argv[1]), sys.argv[2] == "build"
assert Path(autograder.__file__).is_relative_to(root), autograder.__file__
(ps,) = find_problem_sets(root, ["ps1-perceptron"])
if build_only:
    build_problem_set(ps)
    raise SystemExit(0)
sys.path.insert(0, str(root / "benchmarks"))
from grade_throughput import make_batch

data = mnist.course_data_dir() if hasattr(mnist, "course_data_dir") else mnist.data_dir()
with tempfile.TemporaryDirectory() as tmp:
    folder = Path(tmp) / "in"
    folder.mkdir()
    names = make_batch(ps, folder)
    start = time.perf_counter()
    report = grade_batch(ps.name, ps.autograder_zip, folder, Path(tmp) / "out", workers=2,
                         limits=grading_limits(ps), readonly_paths=(data,),
                         require_sandbox=True, progress=False)
    seconds = time.perf_counter() - start
assert report.ok and len(report.graded) == len(names), report.failed
print(json.dumps({"per_submission": seconds / len(names), "submissions": len(names)}))
"""


def export(rev: str, into: Path) -> Path:
    """``git archive rev`` unpacked in ``into``."""
    into.mkdir(parents=True)
    archive = into.with_suffix(".tar")
    subprocess.run(["git", "-C", str(REPO), "archive", "-o", str(archive), rev], check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    archive.unlink()
    return into


def run(tree: Path, *args: str) -> str:
    """The driver, with ``tree``'s code first on the path."""
    path = os.pathsep.join([str(tree), str(tree / "assignments" / "nnkit")])
    env = {**os.environ, "PYTHONPATH": path}
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, str(tree), *args], cwd=tree, env=env,
        capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode:
        raise SystemExit(f"{tree.name}: the driver failed:\n{done.stderr[-3000:]}")
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=BEFORE, help="the commit before the hardening")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of each (default 2)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nngrade-security-overhead-") as tmp:
        trees = {"before": export(args.before, Path(tmp) / "before"),
                 "after": export("HEAD", Path(tmp) / "after")}
        for tree in trees.values():
            run(tree, "build")
        order = ["before", "after", "after", "before"] * ((args.rounds + 1) // 2)
        order = order[: 2 * args.rounds]
        times: dict[str, list[float]] = {"before": [], "after": []}
        for i, side in enumerate(order, 1):
            graded = json.loads(run(trees[side], "grade"))
            seconds, count = graded["per_submission"], graded["submissions"]
            times[side].append(seconds)
            print(f"  round {i} ({side:6})  {seconds:6.3f} s per submission", flush=True)
    mean = {side: sum(t) / len(t) for side, t in times.items()}
    load = os.getloadavg()[0]
    print(f"problem set 1, {count} submissions (correct, partial, blank), sandboxed, "
          f"2 workers, {os.cpu_count()} cores, load average {load:.1f} at the end")
    print(f"before ({args.before})   {mean['before']:6.3f} s per submission")
    print(f"after (HEAD)         {mean['after']:6.3f} s per submission")
    print(f"after / before       {mean['after'] / mean['before']:6.3f}   (target <= 1.10)")


if __name__ == "__main__":
    main()
