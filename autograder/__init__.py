"""The nngrade engine: building problem sets, grading submissions, and the ``nngrade`` CLI."""
