"""The grading engines, behind one interface: a job in, a ``SubmissionResult`` out.

- ``base``: the :class:`~autograder.engine.base.Engine` protocol; ``registry``: the engines
  by name (the only module that knows them); ``job``: what an engine is given;
  ``runner``: one job graded and written, for any runner; ``batch``: the local process pool.
- The hardened nngrade engine (``grade``): a submission's notebook runs in a sandboxed kernel
  (``sandbox``); the problem set's tests run here, in the grader's process, with
  each test parameter bound to a proxy of the student global of that name (``remote``).
  Values cross the boundary only through the data-only codec (``autograder.codec``).
- The otter engine (``otter_engine``, ``otter_runner``): otter's own grading, for comparison.

What they produce is the results contract, :mod:`autograder.results`.
"""
