"""The shared helpers of hidden tests (``autograder/checks.py``): what each accepts, what it
refuses, and that a failure tells the student what is wrong without the expected value."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from autograder.checks import (
    as_choice_set,
    as_float,
    as_float_array,
    assert_choice_credit,
    assert_close,
    choice_credit,
    keras_name,
)


def failure(call, *args, **kwargs) -> str:
    """The message of the AssertionError that ``call`` must raise."""
    with pytest.raises(AssertionError) as raised:
        call(*args, **kwargs)
    return str(raised.value)


def numbers_in(message: str) -> set[float]:
    return {float(n) for n in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", message)}


# ------------------------------------------------------------------ as_float_array


@pytest.mark.parametrize(
    "value",
    [3, 2.5, [1, 2, 3], (1.0, 2.0), np.arange(4), np.float32(1.5), pd.Series([1, 2]),
     pd.DataFrame({"a": [1.0, 2.0]}), [[1, 2], [3, 4]], True],
    ids=["int", "float", "list", "tuple", "array", "float32", "series", "frame", "nested", "bool"],
)
def test_as_float_array_reads_numbers_in_any_container(value):
    array = as_float_array(value, "x")
    assert array.dtype == np.float64
    np.testing.assert_array_equal(array, np.asarray(value, dtype=float))


def test_as_float_array_checks_the_shape_exactly():
    assert as_float_array([[1, 2, 3]], "W", shape=(1, 3)).shape == (1, 3)
    message = failure(as_float_array, [1, 2, 3], "W", shape=(1, 3))
    assert message == "W should have shape (1, 3); yours has (3,)"
    assert "shape (2, 2)" in failure(as_float_array, 5.0, "W", shape=(2, 2))  # no broadcast


@pytest.mark.parametrize("value", [None, Ellipsis], ids=["None", "Ellipsis"])
def test_as_float_array_says_an_unanswered_question_has_no_answer(value):
    assert failure(as_float_array, value, "q1_answer") == (
        f"q1_answer has no answer yet (it is {value!r})"
    )


@pytest.mark.parametrize(
    ("value", "type_name"),
    [("abc", "str"), ({"a": 1}, "dict"), ([1, "x"], "list"), (object(), "object")],
)
def test_as_float_array_names_the_type_it_cannot_read(value, type_name):
    assert failure(as_float_array, value, "h") == (
        f"h is of type {type_name}, which cannot be read as numbers"
    )


def test_a_type_outside_builtins_is_named_with_its_module():
    class Weights:
        pass

    message = failure(as_float_array, Weights(), "w")
    assert f"{__name__}." in message and "Weights" in message


def test_a_handle_on_a_remote_object_is_named_by_the_students_type():
    class Handle:
        @property
        def _remote_type_name(self) -> str:
            return "keras.Sequential"

        def __array__(self, *args, **kwargs):
            raise TypeError("a handle is not data")

    assert "of type keras.Sequential," in failure(as_float_array, Handle(), "model")


# ------------------------------------------------------------------ as_float


def test_as_float_accepts_a_number_or_one_element():
    assert as_float(2, "p") == 2.0
    assert as_float([0.25], "p") == 0.25
    assert as_float(np.array([[7.0]]), "p") == 7.0
    assert isinstance(as_float(np.float32(0.5), "p"), float)


def test_as_float_refuses_several_numbers():
    assert failure(as_float, [1.0, 2.0], "p") == "p should be a single number; yours has shape (2,)"
    assert "no answer yet" in failure(as_float, None, "p")


# ------------------------------------------------------------------ assert_close


def test_assert_close_passes_within_the_tolerances():
    assert_close([1.0, 2.0], [1.0, 2.0 + 1e-7], "g")  # relative 5e-8 < 1e-6
    assert_close(1e-10, 0.0, "g")  # absolute 1e-10 < 1e-9
    assert_close(1.05, 1.0, "g", rtol=0.1)
    assert_close([[3.0]], 3.0, "g")  # one element of any shape is one number
    assert_close(np.float32(0.1), 0.1, "g")  # float32 rounding is within 1e-6


def test_assert_close_counts_the_wrong_entries_without_showing_them():
    expected = np.array([0.123456, 0.654321, 0.777777, 0.314159])
    got = expected.copy()
    got[[1, 3]] += 0.5
    message = failure(assert_close, got, expected, "dW")
    assert message == "dW: 2 of 4 entries are wrong"
    assert not numbers_in(message) & set(expected)


def test_assert_close_on_one_number_says_only_that_it_is_wrong():
    message = failure(assert_close, 0.5, 0.731058, "p")
    assert message == "p is not the right value"
    assert "0.73" not in message


def test_assert_close_reports_a_wrong_shape_and_nan():
    message = failure(assert_close, [1.0, 2.0], [[1.0, 2.0]], "W_h")
    assert message == "W_h should have shape (1, 2); yours has (2,)"
    assert failure(assert_close, [1.0, np.nan], [1.0, 2.0], "h") == "h contains NaN"
    assert "no answer yet" in failure(assert_close, ..., [1.0], "h")


def test_assert_close_never_prints_the_expected_values():
    rng = np.random.default_rng(0)
    expected = rng.normal(size=(3, 4)).round(6)
    for got in (expected + 1, expected[:2], np.full((3, 4), np.nan), expected.sum()):
        message = failure(assert_close, got, expected, "grad")
        for value in expected.ravel():
            assert f"{value:g}"[:6] not in message, message


# ------------------------------------------------------------------ multiple choice


@pytest.mark.parametrize(
    ("answer", "letters"),
    [("a", {"a"}), ("AC", {"a", "c"}), ("a, c", {"a", "c"}), ({"b", "D"}, {"b", "d"}),
     (["a"], {"a"}), (("c", " d "), {"c", "d"}), (frozenset(), set()), ("", set())],
)
def test_as_choice_set_reads_letters_in_any_form(answer, letters):
    assert as_choice_set(answer, "q2c", "abcd") == letters


@pytest.mark.parametrize("answer", [1, None, [1, 2], {"a": True}, 0.5])
def test_as_choice_set_refuses_what_is_not_letters(answer):
    message = failure(as_choice_set, answer, "q2c", "abcd")
    assert message.startswith("q2c should be a set of option letters such as {'a', 'c'}")
    assert "yours is of type" in message


def test_as_choice_set_lists_the_valid_options_for_an_unknown_one():
    assert failure(as_choice_set, {"a", "z"}, "q2c", "abcd") == (
        "q2c: unknown option(s) ['z']; choose from ['a', 'b', 'c', 'd']"
    )


@pytest.mark.parametrize(
    ("chosen", "credit"),
    [({"a", "c"}, 2), ({"a"}, 1), ({"a", "b"}, 0), ({"b", "d"}, 0), (set(), 0),
     ({"a", "b", "c", "d"}, 0), ({"a", "c", "d"}, 1)],
)
def test_choice_credit_is_right_minus_wrong_never_negative(chosen, credit):
    assert choice_credit(chosen, {"a", "c"}) == credit


def test_assert_choice_credit_passes_each_point_earned():
    for point in (1, 2):
        assert_choice_credit({"a", "c"}, "q2c", "abcd", "ac", point)
    assert_choice_credit("A", "q2c", "abcd", "ac", 1)


def test_assert_choice_credit_fails_without_revealing_the_right_options():
    message = failure(assert_choice_credit, {"a", "b"}, "q2c", "abcd", "ac", 1)
    assert message == "q2c: this selection does not earn point 1"
    assert failure(assert_choice_credit, "a", "q2c", "abcd", "ac", 2) == (
        "q2c: this selection does not earn point 2"
    )
    assert failure(assert_choice_credit, set(), "q2c", "abcd", "ac", 1) == (
        "q2c: no option selected"
    )


def test_keras_name_reads_a_setting_however_the_config_holds_it():
    assert keras_name("rmsprop") == keras_name("RMSprop") == "rmsprop"
    assert keras_name({"class_name": "MeanSquaredError", "config": {}}) == "meansquarederror"
    assert keras_name("mean_squared_error") == "meansquarederror"
    assert keras_name(None) == keras_name(3) == keras_name({"config": {}}) == ""
