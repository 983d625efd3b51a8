"""Run otter itself on one notebook: ``otter.api.grade_submission`` in a child process.

This is otter's own engine, with otter's trust model: the tests run inside the kernel that ran
the student's code. It exists for instructors who already use otter or Gradescope and as the
comparison point for our hardened engine.

Each grading runs in a child Python process, so that nothing one notebook does to the
interpreter can reach the next grading or the caller (``python -m
autograder.engine.otter_runner NOTEBOOK ZIP``). The child prints one JSON document:

    {"total": 37.0, "possible": 38.0,
     "questions": {"q1a": {"score": 3.0, "possible": 3.0,
                           "tests": [{"name": "q1a - 1", "hidden": false, "passed": true,
                                      "points": 0.0, "message": ""}, ...]}, ...}}
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

__all__ = ["OtterGradingError", "grade_with_otter"]

_MODULE = "autograder.engine.otter_runner"  # this file, run as the child


class OtterGradingError(RuntimeError):
    """otter could not grade the notebook at all (not: the notebook scored badly)."""


def grade_with_otter(notebook: Path, autograder_zip: Path, timeout: float = 600,
                     env: Mapping[str, str] | None = None) -> dict:
    """Grade ``notebook`` with otter in a child process and return the JSON document above.
    ``env``: variables added to this process's environment for the child and the kernel otter
    starts (the engine's numeric-library thread counts)."""
    command = [sys.executable, "-m", _MODULE, str(notebook), str(autograder_zip)]
    child_env = {**os.environ, **env} if env else None
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              env=child_env)
    except subprocess.TimeoutExpired:
        raise OtterGradingError(f"otter did not finish grading {notebook} in {timeout} s") from None
    if done.returncode != 0:
        raise OtterGradingError(f"otter failed on {notebook}:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _grade_in_this_process(notebook: str, autograder_zip: str) -> dict:
    import otter.api

    results = otter.api.grade_submission(notebook, ag_path=autograder_zip, quiet=True)
    questions = {}
    for name, result in sorted(results.results.items()):
        questions[name] = {
            "score": float(result.score),
            "possible": float(result.possible),
            "tests": [
                {
                    "name": case.test_case.name,
                    "hidden": bool(case.test_case.hidden),
                    "passed": bool(case.passed),
                    "points": float(case.test_case.points or 0),
                    "message": case.message or "",
                }
                for case in result.test_case_results
            ],
        }
    return {"total": float(results.total), "possible": float(results.possible),
            "questions": questions}


if __name__ == "__main__":
    print(json.dumps(_grade_in_this_process(sys.argv[1], sys.argv[2])))
