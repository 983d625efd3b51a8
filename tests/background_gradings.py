"""The suite's variant gradings, started early in a process of their own.

Grading every declared variant of every problem set under every engine is most of the
suite's work, and the rest of the suite leaves one of the two cores idle most of the time.
So ``conftest.py`` prepares each (problem set, engine) batch's folders in the test process
and hands the list to :func:`grade_in_background`, which runs in a *spawned* process (never
forked from the test process and its threads) and grades them one after the other, each with
the same :func:`grade_batch` call a test would make.

Each batch is claimed before it is graded: whoever creates its claim file first (this
process, or a test that needs the batch before its turn came) grades it, and the other waits
for its status file. The status file (``.batch.json`` in the results folder) is written last,
atomically, and holds the batch's grader failures or the exception that stopped it.
"""

from __future__ import annotations

import json
import os
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

CLAIM = ".claimed"
STATUS = ".batch.json"


@dataclass(frozen=True)
class Batch:
    """One (problem set, engine) batch: everything :func:`grade` needs, as plain data."""

    course_root: str
    ps_name: str
    autograder_zip: str
    submissions: str
    out: str
    engine: str
    workers: int
    readonly: str

    def claim(self) -> bool:
        """True for the one caller that may grade this batch."""
        try:
            os.close(os.open(Path(self.out) / CLAIM, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return False
        return True

    def status(self) -> dict | None:
        path = Path(self.out) / STATUS
        return json.loads(path.read_text()) if path.exists() else None

    def wait(self, alive=lambda: True, poll: float = 0.5) -> dict:
        """The batch's status once it is graded (``alive``: whether its grader still runs)."""
        while (status := self.status()) is None:
            if not alive():
                return {"error": "the background grading process ended before this batch"}
            time.sleep(poll)
        return status

    def grade(self) -> dict:
        """Grade the batch and write its status; return the status."""
        from autograder.engine.batch import grade_batch
        from autograder.problem_sets import find_problem_sets, grading_limits

        try:
            (ps,) = find_problem_sets(Path(self.course_root), [self.ps_name])
            report = grade_batch(
                self.ps_name, Path(self.autograder_zip), Path(self.submissions), Path(self.out),
                workers=self.workers, limits=grading_limits(ps),
                readonly_paths=(Path(self.readonly),), engine=self.engine, progress=False,
            )  # fmt: skip
            status = {"failed": report.failed}
        except Exception as error:  # reported to every test that reads this batch
            status = {"error": f"{type(error).__name__}: {error}\n{traceback.format_exc()}"}
        temporary = Path(self.out) / f"{STATUS}.tmp"
        temporary.write_text(json.dumps(status))
        temporary.replace(Path(self.out) / STATUS)
        return status


def grade_in_background(batches: list[Batch]) -> None:
    """The spawned process's work: every batch not claimed by someone else, in order."""
    for batch in batches:
        if batch.claim():
            batch.grade()
