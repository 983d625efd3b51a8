"""Grading through students' own repositories: the template repository a problem set is
released as (GitHub Actions with GitHub Classroom's actions, and Classroom 50), the public
checks it runs on every push, and collecting the commit each student submitted.

- :mod:`autograder.classroom.template`: ``nngrade release PS --template DIR``.
- :mod:`autograder.classroom.workflow`: the workflow and Classroom 50's tests.
- :mod:`autograder.classroom.public_checks`: the runner the template ships (student side).
- :mod:`autograder.classroom.collect`: ``nngrade collect``, from cloned repositories to grades.
"""
