"""nbgrader's ``autograde`` against the nngrade engine on the same class of problem set 1.

The class: the first 10 submissions of ``nngrade sample-class`` for problem set 1 (correct,
partially correct, written differently, blank, hostile). Printed: seconds per submission for

* ``nngrade grade --engine nbgrader``: nbgrader's ``autograde`` through ``NbGraderAPI``, one
  notebook after another (nbgrader has no parallelism, its issue #174); the worker's
  scratch course and its one ``generate_assignment`` are included;
* ``nngrade grade --engine nngrade`` with 2 workers, sandboxed;

and the points each engine gave, student by student, so a disagreement shows.

Run: ``.venv/bin/python benchmarks/nbgrader_vs_nngrade.py`` (builds problem set 1 if needed).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from autograder.build import build_problem_set
from autograder.engine.batch import grade_batch
from autograder.engine.test_files import load_questions
from autograder.problem_sets import find_problem_sets, grading_limits, repo_root
from autograder.results import read_results
from autograder.sample_class import make_sample_class
from autograder.sample_roster import roster
from nnkit.mnist import course_data_dir

SUBMISSIONS = 10


def main() -> None:
    (ps,) = find_problem_sets(repo_root(), ["ps1-perceptron"])
    if not ps.is_built:
        build_problem_set(ps)
    limits = grading_limits(ps)
    data = course_data_dir()
    readonly = (data,) if data.is_dir() else ()
    with tempfile.TemporaryDirectory(prefix="nngrade-bench-") as tmp_name:
        tmp = Path(tmp_name)
        total = sum(q.points for q in load_questions(ps.autograder_zip))
        make_sample_class(ps, 0, tmp / "class", ps.solution_notebook, roster(), total)
        batch = tmp / "batch"
        batch.mkdir()
        for path in sorted((tmp / "class" / "submissions").glob("*.ipynb"))[:SUBMISSIONS]:
            shutil.copy2(path, batch / path.name)
        count = len(list(batch.glob("*.ipynb")))

        seconds, points = {}, {}
        for engine, workers in (("nbgrader", 1), ("nngrade", 2)):
            out = tmp / f"out-{engine}"
            started = time.perf_counter()
            report = grade_batch(ps.name, ps.autograder_zip, batch, out, workers=workers,
                                 limits=limits, readonly_paths=readonly, engine=engine,
                                 progress=False)
            seconds[engine] = time.perf_counter() - started
            assert report.ok, report.failed
            points[engine] = {
                s: sum(t.score for t in read_results(out / s / "results.json").tests)
                for s in report.graded
            }
    print(f"problem set 1, {count} submissions from the sample class")
    print(f"nbgrader autograde (1 worker): {seconds['nbgrader'] / count:6.2f} s per submission")
    print(f"nngrade sandboxed (2 workers): {seconds['nngrade'] / count:6.2f} s per submission")
    for student in sorted(points["nngrade"]):
        a, b = points["nngrade"][student], points["nbgrader"].get(student)
        flag = "" if a == b else "   <- differ"
        print(f"  {student:12s} nngrade {a:5g}  nbgrader {b if b is not None else '-':>5}{flag}")


if __name__ == "__main__":
    main()
