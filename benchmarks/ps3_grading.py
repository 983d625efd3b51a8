"""Where the time goes when the nngrade engine grades one problem-set-3 submission.

Grades the solution notebook (built first if ``dist/`` does not hold it) step by step, the way
``autograder.engine.grade.grade_submission`` does, and prints the split:

* sandbox start: bubblewrap and the ipykernel, until the kernel answers;
* TensorFlow import: ``import keras`` alone, in a cell of its own before the notebook's;
* kernel setup: ``grading.yaml``'s ``kernel_setup`` (seeds, TensorFlow's op determinism),
  which the engine runs before the first cell; ``--no-setup`` leaves it out, to measure what
  determinism costs the training;
* notebook without training: every other cell that does not train (data loading included);
* the student's training: the cells that call ``fit_or_load``;
* evaluation: the agent's installation and every test, run on the grader's side
  (``model.predict`` on the 10,000 test images goes through ``.npy`` files);

then the ratio of the total to the training alone. With ``--saved`` the models are trained
once first and the submission is graded as a folder holding them, so no cell trains.



    .venv/bin/python benchmarks/ps3_grading.py [--saved] [--no-setup] [--runs N]

Timings on a shared 2-core machine are noisy: run it a few times.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from autograder.build import build_problem_set
from autograder.engine.grade import copy_submission_files, run_test
from autograder.engine.remote import Remote
from autograder.engine.sandbox import SandboxedKernel
from autograder.engine.submission import read_submission
from autograder.engine.test_files import load_questions
from autograder.problem_sets import find_problem_sets, grading_limits, kernel_setup, repo_root
from nnkit.mnist import DATA_ENV_VAR, course_data_dir

PS = "ps3-keras-mnist"


def grade_timed(
    notebook: Path, questions, limits, files_from: Path | None, setup: str = ""
) -> dict[str, float]:
    split = dict.fromkeys(
        ["sandbox start", "TensorFlow import", "kernel setup", "other cells", "training",
         "evaluation"],
        0.0,
    )
    score = 0.0
    cells = read_submission(notebook).code_cells
    with tempfile.TemporaryDirectory() as work:
        if files_from is not None:
            copy_submission_files(files_from, notebook, Path(work), patterns=("*.keras",))
        began = time.perf_counter()
        kernel = SandboxedKernel(
            Path(work), limits, readonly_paths=(course_data_dir(),),
            env={DATA_ENV_VAR: str(course_data_dir())},
        )
        with kernel:
            split["sandbox start"] = time.perf_counter() - began
            t = time.perf_counter()
            kernel.execute("import keras")
            split["TensorFlow import"] = time.perf_counter() - t
            if setup:
                t = time.perf_counter()
                assert kernel.execute(setup).status == "ok"
                split["kernel setup"] = time.perf_counter() - t
            for source in cells:
                t = time.perf_counter()
                result = kernel.execute(source)
                assert result.status == "ok", (result.ename, result.evalue)
                trains = "fit_or_load(" in source and "def " not in source
                key = "training" if trains else "other cells"
                split[key] += time.perf_counter() - t
            t = time.perf_counter()
            remote = Remote(kernel, call_timeout=limits.cell_timeout)
            remote.install()
            for question in questions:
                for test in question.tests:
                    score += run_test(test, remote).score
            split["evaluation"] = time.perf_counter() - t
    split["score"] = score
    return split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saved", action="store_true", help="grade a folder with saved models")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--no-setup", action="store_true", help="leave out the kernel setup")
    args = parser.parse_args()
    (ps,) = find_problem_sets(repo_root(), [PS])
    if not ps.autograder_zip.exists():  # a fresh clone: build it (the grading is timed, not this)
        build_problem_set(ps, run_solution=False)
    notebook = ps.solution_notebook
    questions = load_questions(ps.autograder_zip)
    limits = grading_limits(ps)
    with tempfile.TemporaryDirectory() as folder:
        files_from = None
        if args.saved:  # train once, keep the .keras files next to a copy of the notebook
            files_from = Path(folder)
            (files_from / notebook.name).write_bytes(notebook.read_bytes())
            with SandboxedKernel(
                files_from, limits, readonly_paths=(course_data_dir(),),
                env={DATA_ENV_VAR: str(course_data_dir())},
            ) as kernel:  # fmt: skip
                for source in read_submission(notebook).code_cells:
                    kernel.execute(source)
            print("saved:", sorted(p.name for p in files_from.glob("*.keras")))
        for run in range(args.runs):
            setup = "" if args.no_setup else kernel_setup(ps.grading_config)
            split = grade_timed(notebook, questions, limits, files_from, setup)
            score = split.pop("score")
            total = sum(split.values())
            print(f"run {run + 1}: score {score:g}, total {total:.1f} s")
            for name, seconds in split.items():
                print(f"  {name:<18} {seconds:6.1f} s  {100 * seconds / total:4.0f} %")
            if split["training"] > 0:
                print(f"  total / training   {total / split['training']:.2f}x")


if __name__ == "__main__":
    main()
