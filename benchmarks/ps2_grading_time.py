"""How long grading one problem-set-2 submission takes, and where the time goes.

Grades the solution notebook (every test runs to the end, so it is the slowest honest case)
once with otter's ``grade_submission`` and once with the nngrade engine, and for the latter
repeats the engine's steps by hand to time them separately:

* starting the sandboxed kernel;
* running the student's cells (the digits training and the grid search among them);
* the hidden tests, each through proxies into the kernel (the training test among them).

Printed: seconds per step, each step's share of the total, and the slowest cells and tests.

Run: ``.venv/bin/python benchmarks/ps2_grading_time.py`` (builds problem set 2 if needed).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from autograder.build import build_problem_set
from autograder.engine.grade import grade_submission, run_test
from autograder.engine.otter_runner import grade_with_otter
from autograder.engine.remote import Remote
from autograder.engine.sandbox import SandboxedKernel
from autograder.engine.submission import read_submission
from autograder.engine.test_files import load_questions
from autograder.problem_sets import find_problem_sets, grading_limits, repo_root


def timed_steps(notebook: Path, questions, limits) -> dict:
    """The engine's steps (see autograder.engine.grade.grade_submission), each timed."""
    code = read_submission(notebook).code_cells
    cells, tests = [], []
    with tempfile.TemporaryDirectory(prefix="nngrade-bench-") as work:
        start = time.perf_counter()
        kernel = SandboxedKernel(Path(work), limits)
        with kernel:
            kernel.execute("1")  # the kernel is up and answering
            started = time.perf_counter() - start
            for number, source in enumerate(code, start=1):
                t = time.perf_counter()
                kernel.execute(source)
                cells.append((time.perf_counter() - t, f"cell {number}: {source.splitlines()[0]}"))
            remote = Remote(kernel, call_timeout=limits.cell_timeout)
            remote.install()
            for question in questions:
                for test in question.tests:
                    t = time.perf_counter()
                    result = run_test(test, remote)
                    tests.append((time.perf_counter() - t, test.name, result.passed))
    return {"start": started, "cells": cells, "tests": tests}


def main() -> None:
    (ps,) = find_problem_sets(repo_root(), ["ps2-backprop"])
    zip_path = ps.autograder_zip
    if not ps.is_built:
        build_problem_set(ps)
    solution = ps.solution_notebook
    questions, limits = load_questions(zip_path), grading_limits(ps)

    t = time.perf_counter()
    result = grade_submission("bench", solution, questions, limits)
    engine_total = time.perf_counter() - t
    assert result.score == result.max_score, "the solution should get full marks"

    t = time.perf_counter()
    grade = grade_with_otter(solution, zip_path)
    otter_total = time.perf_counter() - t
    assert grade["total"] == grade["possible"]

    steps = timed_steps(solution, questions, limits)
    cells = sum(s for s, _ in steps["cells"])
    tests = sum(s for s, _, _ in steps["tests"])
    whole = steps["start"] + cells + tests

    print(f"problem set 2, the solution notebook, {os.cpu_count()} cores, one submission")
    print(f"nngrade engine (grade_submission)   {engine_total:6.2f} s")
    print(f"otter grade_submission              {otter_total:6.2f} s")
    print(f"otter / nngrade                     {otter_total / engine_total:6.2f} x")
    print()
    print("nngrade engine, step by step:")
    for label, seconds in (("start the sandboxed kernel", steps["start"]),
                           ("run the student's cells", cells), ("run the tests", tests)):
        print(f"  {label:32s} {seconds:6.2f} s  {seconds / whole:5.0%}")
    print("  slowest cells:")
    for seconds, label in sorted(steps["cells"], reverse=True)[:3]:
        print(f"    {seconds:6.2f} s  {label[:70]}")
    print("  slowest tests:")
    for seconds, name, _ in sorted(steps["tests"], reverse=True)[:4]:
        print(f"    {seconds:6.2f} s  {name}")


if __name__ == "__main__":
    main()
