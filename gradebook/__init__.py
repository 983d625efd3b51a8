"""The course gradebook: a SQLite (or any SQLAlchemy) store read through pandas.

- :mod:`gradebook.schema`: the tables; history is append-only.
- :mod:`gradebook.store`: opening it, and :func:`~gradebook.store.record_run`, the one writer
  of grading results (one transaction per run, idempotent).
- :mod:`gradebook.ingest`: readers for nngrade, otter, nbgrader and GitHub Classroom outputs.
- :mod:`gradebook.views`: the latest run's data as DataFrames.
- :mod:`gradebook.policy` and :mod:`gradebook.totals`: late penalties, drops, weights, letters.
- :mod:`gradebook.exports`: Canvas, a plain CSV, Gradescope-style JSON.
- :mod:`gradebook.report`: the HTML report with its plots.
- :class:`gradebook.api.Gradebook` ties them together.
"""

from gradebook.api import SOURCES, Gradebook
from gradebook.ingest.errors import IngestError
from gradebook.policy import LatePolicy, Policy

__all__ = ["Gradebook", "Policy", "LatePolicy", "IngestError", "SOURCES"]
