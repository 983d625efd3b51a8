"""Helpers for hidden tests: turn an untrusted answer into plain numbers, compare it with the
reference, and fail with a message that says what is wrong without revealing the expected value.

Hidden tests import these on the grading side. Public tests never do (they run in the student's
environment, which has neither this package nor ``reference_impl``).

Every function raises ``AssertionError`` with a student-facing message; the grader turns that
message into feedback. Messages name the quantity and what is off (shape, range, value), e.g.
"row 3: p should be in (0, 1); yours is 1.7", and never print the expected array.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = [
    "as_float_array",
    "as_float",
    "as_choice_set",
    "assert_close",
    "choice_credit",
    "assert_choice_credit",
    "keras_name",
]


def _type_name(value: Any) -> str:
    remote = getattr(type(value), "_remote_type_name", None)
    if isinstance(remote, property):  # a handle on an object left in the student's kernel
        return value._remote_type_name
    kind = type(value)
    if kind.__module__ == "builtins":
        return kind.__qualname__
    return f"{kind.__module__}.{kind.__qualname__}"


def as_float_array(value: Any, name: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """``np.asarray(value, dtype=float64)``, or a clear failure.

    Accepts numbers, lists, tuples, numpy arrays and pandas objects with numeric values.
    ``shape`` (when given) must match exactly after conversion; a 1-element answer is not
    broadcast.
    """
    if value is None or value is Ellipsis:
        raise AssertionError(f"{name} has no answer yet (it is {value!r})")
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise AssertionError(
            f"{name} is of type {_type_name(value)}, which cannot be read as numbers"
        ) from None
    if shape is not None and array.shape != tuple(shape):
        raise AssertionError(f"{name} should have shape {tuple(shape)}; yours has {array.shape}")
    return array


def as_float(value: Any, name: str) -> float:
    """A single real number, or a clear failure (a 1-element array or list is accepted)."""
    array = as_float_array(value, name)
    if array.size != 1:
        raise AssertionError(f"{name} should be a single number; yours has shape {array.shape}")
    return float(array.reshape(()))


def assert_close(
    got: Any,
    expected: Any,
    name: str,
    rtol: float = 1e-6,
    atol: float = 1e-9,
) -> None:
    """Fail unless ``got`` has the expected shape and |got − expected| ≤ atol + rtol·|expected|.

    The message reports the shape, NaNs, and how many entries are off, never ``expected``.
    """
    expected = np.asarray(expected, dtype=np.float64)
    got = as_float_array(got, name)
    if got.shape != expected.shape:
        if got.size == expected.size == 1:
            got = got.reshape(expected.shape)
        else:
            raise AssertionError(
                f"{name} should have shape {expected.shape}; yours has {got.shape}"
            )
    if np.any(np.isnan(got)):
        raise AssertionError(f"{name} contains NaN")
    wrong = ~np.isclose(got, expected, rtol=rtol, atol=atol)
    if np.any(wrong):
        if got.size == 1:
            raise AssertionError(f"{name} is not the right value")
        raise AssertionError(f"{name}: {int(wrong.sum())} of {got.size} entries are wrong")


def as_choice_set(value: Any, name: str, options: Iterable[str]) -> set[str]:
    """A multiple-choice answer as a set of option letters; anything else fails.

    Accepts a set, list or tuple of strings, or a single string such as "a" or "ac".
    Letters are case-insensitive. Unknown letters fail with the list of valid ones.
    """
    options = {o.lower() for o in options}
    if isinstance(value, str):
        letters = [c for c in value.lower() if not c.isspace() and c != ","]
    elif isinstance(value, (set, frozenset, list, tuple)) and all(
        isinstance(v, str) for v in value
    ):
        letters = [v.strip().lower() for v in value]
    else:
        raise AssertionError(
            f"{name} should be a set of option letters such as {{'a', 'c'}}; "
            f"yours is of type {_type_name(value)}"
        )
    unknown = sorted(set(letters) - options)
    if unknown:
        raise AssertionError(f"{name}: unknown option(s) {unknown}; choose from {sorted(options)}")
    return set(letters)


def choice_credit(chosen: set[str], correct: set[str]) -> int:
    """Right minus wrong, never below zero: |chosen ∩ correct| − |chosen − correct|.

    A problem set splits a question worth k points into k hidden tests, the i-th passing when
    the credit is at least i. An empty selection earns nothing, and so does ticking every box
    when there are as many wrong options as right ones.
    """
    return max(0, len(chosen & correct) - len(chosen - correct))


def assert_choice_credit(
    answer: Any, name: str, options: Iterable[str], correct: Iterable[str], at_least: int
) -> None:
    """Pass when the answer's right-minus-wrong credit is at least ``at_least``."""
    chosen = as_choice_set(answer, name, options)
    if not chosen:
        raise AssertionError(f"{name}: no option selected")
    credit = choice_credit(chosen, {c.lower() for c in correct})
    if credit < at_least:
        raise AssertionError(f"{name}: this selection does not earn point {at_least}")


def keras_name(value: Any) -> str:
    """The name of a Keras setting as a compiled model's config holds it, lowercased and
    without underscores: ``"rmsprop"`` from ``"rmsprop"``, ``"RMSprop"`` or a serialised
    ``{"class_name": "RMSprop", ...}``; ``""`` for anything else."""
    if isinstance(value, str):
        return value.lower().replace("_", "")
    if isinstance(value, dict):
        return str(value.get("class_name", "")).lower().replace("_", "")
    return ""
