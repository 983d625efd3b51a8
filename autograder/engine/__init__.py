"""The hardened nngrade engine.

A submission's notebook runs in a sandboxed kernel (``autograder.engine.sandbox``); the problem
set's tests run here, in the grader's process, with each test parameter bound to a proxy of the
student global of that name (``autograder.engine.remote``). Values cross the boundary only
through the data-only codec (``autograder.codec``).
"""
