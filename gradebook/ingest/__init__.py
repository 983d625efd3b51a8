"""Readers that turn each grading source into :class:`gradebook.store.Run` records.

Each reader only reads: it returns plain records and never touches the database, so every
source goes through the same transactional, idempotent writer (:func:`gradebook.store.record_run`).

| source | reader |
|---|---|
| an nngrade results folder (``<student>/results.json``) | :func:`read_nngrade_results` |
| otter's ``final_grades.csv`` | :func:`read_otter_final_grades` |
| otter's ``results.json`` files, one per student | :func:`read_otter_results` |
| nbgrader's ``gradebook.db`` | :func:`read_nbgrader` |
| a GitHub Classroom grades CSV | :func:`read_classroom_csv` |
| Classroom 50's ``scores.csv`` (``gh teacher download``) | :func:`read_classroom50_scores` |
| a roster CSV | :func:`read_roster` |
| assignment due dates (CSV) | :func:`read_assignments` |
"""

from gradebook.ingest.classroom import read_classroom_csv
from gradebook.ingest.classroom50 import read_classroom50_scores
from gradebook.ingest.course import read_assignments, read_roster
from gradebook.ingest.nbgrader_db import read_nbgrader
from gradebook.ingest.nngrade_results import read_nngrade_results
from gradebook.ingest.otter_outputs import read_otter_final_grades, read_otter_results

__all__ = [
    "read_nngrade_results",
    "read_otter_final_grades",
    "read_otter_results",
    "read_nbgrader",
    "read_classroom_csv",
    "read_classroom50_scores",
    "read_roster",
    "read_assignments",
]
