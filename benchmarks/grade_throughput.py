"""Grading throughput on problem set 1: the nngrade engine against otter, on the same batch.

The batch: 24 submissions, a mix of correct (the solution), partially correct (each declared
mistake of ``solutions/ps1-perceptron/mistakes.yaml``) and blank (the release). Printed:
seconds per submission for

* ``nngrade grade --engine nngrade`` with 2 workers, sandboxed (bubblewrap);
* otter's ``grade_submission`` called in a loop, one notebook after another, as a course
  would script it.

Target: nngrade at least 2x faster than the otter loop on 2 cores.

Run: ``.venv/bin/python benchmarks/grade_throughput.py`` (builds problem set 1 if needed).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import nbformat

from autograder.build import build_problem_set
from autograder.engine.batch import grade_batch
from autograder.engine.otter_runner import grade_with_otter
from autograder.mistakes import apply_mistake, load_mistakes
from autograder.problem_sets import find_problem_sets, repo_root
from nnkit.mnist import course_data_dir

SUBMISSIONS = 24


def make_batch(ps, folder: Path) -> list[str]:
    solution = ps.solution_notebook
    variants = [nbformat.read(solution, as_version=4), nbformat.read(ps.student_notebook, 4)]
    variants += [apply_mistake(variants[0], m) for m in load_mistakes(ps)]
    kinds = ["correct", "blank"] + [m.name for m in load_mistakes(ps)]
    names = []
    for i in range(SUBMISSIONS):
        name = f"s{i:02d}-{kinds[i % len(kinds)]}"
        nbformat.write(variants[i % len(variants)], folder / f"{name}.ipynb")
        names.append(name)
    return names


def main() -> None:
    (ps,) = find_problem_sets(repo_root(), ["ps1-perceptron"])
    zip_path = ps.autograder_zip
    if not ps.is_built:
        build_problem_set(ps)
    data = course_data_dir()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "in"
        folder.mkdir()
        names = make_batch(ps, folder)

        start = time.perf_counter()
        report = grade_batch(ps.name, zip_path, folder, Path(tmp) / "out", workers=2,
                             readonly_paths=(data,), progress=False)
        nngrade = (time.perf_counter() - start) / len(names)
        assert report.ok and len(report.graded) == len(names)

        start = time.perf_counter()
        for name in names:
            grade_with_otter(folder / f"{name}.ipynb", zip_path)
        otter = (time.perf_counter() - start) / len(names)
        shutil.rmtree(folder)

    print(f"problem set 1, {len(names)} submissions (correct, partial, blank), "
          f"{os.cpu_count()} cores")
    print(f"nngrade engine, 2 workers, sandboxed   {nngrade:6.2f} s per submission")
    print(f"otter grade_submission in a loop       {otter:6.2f} s per submission")
    print(f"speed-up                               {otter / nngrade:6.2f} x   (target >= 2)")


if __name__ == "__main__":
    main()
