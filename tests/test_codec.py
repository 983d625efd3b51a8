"""The data-only codec between the sandboxed kernel and the trusted grader."""

import ast
import json
import math
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from autograder import codec
from autograder.codec import DEFAULT_LIMITS, CodecError, Limits, Ref, decode, describe_type, encode
from autograder.codec import install as codec_install


def roundtrip(value, **kwargs):
    return decode(encode(value, **kwargs))


def assert_same(got, want):
    """Equal value and exactly the same type, all the way down (nan and -0.0 included)."""
    assert type(got) is type(want), (type(got), type(want))
    if type(want) is float:
        if math.isnan(want):
            assert math.isnan(got)
        else:
            assert got == want and math.copysign(1, got) == math.copysign(1, want)
    elif type(want) is complex:
        assert_same(got.real, want.real)
        assert_same(got.imag, want.imag)
    elif type(want) in (list, tuple):
        assert len(got) == len(want)
        for a, b in zip(got, want, strict=True):
            assert_same(a, b)
    elif type(want) is dict:  # same keys (nan included) in the same order, same values
        assert_same(list(got), list(want))
        assert_same(list(got.values()), list(want.values()))
    elif type(want) is np.ndarray:
        assert got.dtype == want.dtype and got.shape == want.shape
        assert got.tobytes() == np.ascontiguousarray(want).tobytes()
        assert got.flags.writeable
    elif isinstance(want, np.generic):
        assert got.dtype == want.dtype and got.tobytes() == want.tobytes()
    else:
        assert got == want


def refusal(value, **kwargs) -> str:
    with pytest.raises(CodecError) as info:
        encode(value, **kwargs)
    assert type(info.value) is CodecError  # internal subclasses never escape
    return str(info.value)


def envelope(node) -> str:
    return json.dumps({"nngrade_codec": 1, "value": node})


# --------------------------------------------------------------------------------------------
# Round trips


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        False,
        0,
        -7,
        2**63 - 1,
        2**64 - 1,
        2**64,
        -(2**63) - 1,
        -(10**300),
        0.1,
        -0.0,
        1e308,
        5e-324,
        math.nan,
        math.inf,
        -math.inf,
        complex(1.5, -0.0),
        complex(math.nan, math.inf),
        "",
        "plain",
        'quotes " and \\ and [brackets {',
        "unicode é ✓ 𝄞 and a lone surrogate \ud800",
        b"",
        bytes(range(256)),
        [],
        [1, 2.0, "3", None, [True, [False]]],
        (),
        (1,),
        ((1, 2), [3, (4,)]),
        {},
        {"b": 1, "a": 2, "c": [1, {"d": 2}]},
        {"$": "ndarray", "shape": [1], "dtype": "<f8"},  # a plain dict that looks like a tag
        {"x": {"$": 1}, "$$": 2},
        {1: "a", 2.5: "b", False: "c", None: "d", (1, "x", (None, 2.0)): "e", "s": "f"},
        {-(2**80): 1, math.nan: 2, -0.0: 3},
        set(),
        {1, "a", (2, 3), None, 2.5},
        frozenset(),
        frozenset({frozenset({1}), b"x"}),
        {"nested": [{"$": [{"$": ()}]}]},
    ],
)
def test_builtin_round_trip(value):
    assert_same(roundtrip(value), value)


def test_distinct_nans_stay_distinct():
    value = {float("nan"): 1, float("nan"): 2}
    got = roundtrip(value)
    assert len(got) == 2 and all(math.isnan(k) for k in got) and list(got.values()) == [1, 2]
    assert len(roundtrip({float("nan"), float("nan")})) == 2


def test_dict_keys_keep_insertion_order():
    value = {k: k for k in ["z", "a", "m", "$", "b"]}
    assert list(roundtrip(value)) == ["z", "a", "m", "$", "b"]
    value = {3: 0, 1: 0, "x": 0, 2: 0}
    assert list(roundtrip(value)) == [3, 1, "x", 2]


@pytest.mark.parametrize(
    "scalar_type",
    [np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
     np.float16, np.float32, np.float64, np.complex64, np.complex128, np.intc, np.longlong],
)  # fmt: skip
def test_numpy_scalar_round_trip(scalar_type):
    for raw in (0, 1, 3):
        value = scalar_type(raw)
        got = roundtrip(value)
        assert isinstance(got, np.generic) and got.dtype == value.dtype
        assert got.tobytes() == value.tobytes()
    if np.dtype(scalar_type).kind in "fc":
        got = roundtrip(scalar_type(np.nan))
        assert type(got) is scalar_type and np.isnan(got)


def test_numpy_scalar_types_are_exact():
    assert type(roundtrip(np.float64(2.5))) is np.float64
    assert type(roundtrip(np.float32(-0.0))) is np.float32
    assert math.copysign(1, roundtrip(np.float32(-0.0))) == -1
    assert type(roundtrip(np.bool_(True))) is np.bool_


ARRAY_DTYPES = ["?", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8", "c8", "c16"]


@pytest.mark.parametrize("dtype", ARRAY_DTYPES)
@pytest.mark.parametrize("shape", [(), (0,), (5,), (2, 0, 3), (2, 3, 4)])
def test_array_round_trip(dtype, shape):
    rng = np.random.default_rng(0)
    array = (rng.standard_normal(shape) * 50).astype(dtype)
    assert_same(roundtrip(array), array)


def test_array_special_values_and_layouts():
    floats = np.array([np.nan, -0.0, np.inf, -np.inf, 5e-324, 1.0])
    assert_same(roundtrip(floats), floats)
    grid = np.arange(24.0).reshape(4, 6)
    for view in (grid.T, grid[::2, 1::3], grid[..., ::-1], np.broadcast_to(grid[0], (3, 6))):
        got = roundtrip(view)
        assert got.flags.c_contiguous and got.dtype == view.dtype
        np.testing.assert_array_equal(got, view)
    big_endian = np.arange(5, dtype=">i4")
    got = roundtrip(big_endian)
    assert got.dtype == np.dtype("int32") and got.dtype.isnative
    np.testing.assert_array_equal(got, big_endian)
    nested = {"w": [np.eye(2), (np.zeros(0, dtype=np.uint8),)], "b": np.float32(1)}
    assert_same(roundtrip(nested), nested)


def test_ref_round_trip():
    ref = Ref(12, "keras.src.models.sequential.Sequential")
    assert roundtrip(ref) == ref
    assert roundtrip([ref, {"m": ref}]) == [ref, {"m": ref}]
    assert roundtrip({ref}) == {ref}


# ---- pandas


def frame_round_trip(frame):
    got = roundtrip(frame)
    assert type(got) is pd.DataFrame
    pdt.assert_frame_equal(got, frame, check_index_type=True, check_column_type=True)
    assert type(got.index) is type(frame.index)
    assert type(got.columns) is type(frame.columns)
    assert list(got.dtypes) == list(frame.dtypes)
    return got


def test_dataframe_round_trip_mixed_dtypes():
    frame = pd.DataFrame(
        {
            "i8": [1, 2, 3],
            "i32": np.array([4, 5, 6], dtype=np.int32),
            "u8": np.array([7, 8, 9], dtype=np.uint8),
            "f32": np.array([0.5, np.nan, -0.0], dtype=np.float32),
            "f64": [np.inf, 2.5, np.nan],
            "b": [True, False, True],
            "c": [1j, 2, 3 + 4j],
            "s": ["x", "y", "z"],  # the default str dtype under pandas 3
            "o": pd.Series(["p", "q", "r"], dtype=object),
            "nullable_str": pd.Series(["a", None, "c"], dtype="string"),
        }
    )
    frame_round_trip(frame)


def test_dataframe_indexes_and_labels():
    frame = pd.DataFrame(
        {"a": [1.0, 2.0, 3.0], "b": [4, 5, 6]}, index=pd.RangeIndex(10, 1, -3, name="row")
    )
    frame.columns.name = "feature"
    got = frame_round_trip(frame)
    assert got.index.start == 10 and got.index.step == -3 and got.index.name == "row"
    assert got.columns.name == "feature"

    frame_round_trip(pd.DataFrame(np.arange(6).reshape(3, 2)))  # RangeIndex columns
    frame_round_trip(pd.DataFrame({"v": [1, 2]}, index=pd.Index(["p", "q"], name="key")))
    frame_round_trip(pd.DataFrame({"v": [1, 2]}, index=pd.Index(["p", "q"], dtype=object)))
    frame_round_trip(pd.DataFrame({"v": [1, 2]}, index=pd.Index([7, 3], dtype=np.int32)))
    frame_round_trip(pd.DataFrame({3: [1], 1: [2]}))  # int column labels
    duplicated = pd.DataFrame([[1, "a", 2.0]], columns=["x", "x", "y"], index=[5])
    frame_round_trip(duplicated)
    frame_round_trip(pd.DataFrame([[1], [2]], index=[0, 0], columns=["dup_rows"]))


def test_empty_dataframes():
    frame_round_trip(pd.DataFrame())
    frame_round_trip(pd.DataFrame(index=pd.RangeIndex(3)))
    frame_round_trip(pd.DataFrame(columns=["a", "b"]))
    frame_round_trip(pd.DataFrame({"a": np.zeros(0, dtype=np.float32)}))


def test_series_round_trip():
    for series in [
        pd.Series([1.0, np.nan, 3.0], name="loss"),
        pd.Series([1, 2], index=["a", "b"], name=0),
        pd.Series(["x", None], dtype="str"),
        pd.Series(["x", "y"], dtype=object, index=pd.RangeIndex(2, 6, 2)),
        pd.Series([True, False], name=("a", 1)),
        pd.Series([], dtype=np.int16),
    ]:
        got = roundtrip(series)
        assert type(got) is pd.Series
        pdt.assert_series_equal(got, series, check_index_type=True)
        assert type(got.index) is type(series.index)
        assert got.name == series.name and type(got.name) is type(series.name)


def test_pandas_inside_containers():
    frame = pd.DataFrame({"a": [1, 2]})
    got = roundtrip({"frame": frame, "col": frame["a"], "rows": [frame.iloc[0]]})
    pdt.assert_frame_equal(got["frame"], frame)
    pdt.assert_series_equal(got["col"], frame["a"])
    pdt.assert_series_equal(got["rows"][0], frame.iloc[0])


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            pd.DataFrame({"when": pd.to_datetime(["2024-01-01"])}),
            "`df` is a DataFrame: column 'when' has dtype datetime64[us], which cannot be graded",
        ),
        (
            pd.DataFrame({"c": pd.Categorical(["a"])}),
            "`df` is a DataFrame: column 'c' has dtype category, which cannot be graded",
        ),
        (
            pd.DataFrame({"mixed": [1, "a"]}),
            "`df` is a DataFrame: column 'mixed' holds a value of type int, which cannot be",
        ),
        (
            pd.DataFrame({"n": pd.array([1, None], dtype="Int64")}),
            "`df` is a DataFrame: column 'n' has dtype Int64",
        ),
        (
            pd.DataFrame({"v": [1]}, index=pd.MultiIndex.from_tuples([(1, 2)])),
            "`df` is a DataFrame: its index is a pandas.MultiIndex, which cannot be graded",
        ),
        (
            pd.Series([1], index=pd.to_datetime(["2024-01-01"])),
            "`df` is a Series: its index is a pandas.DatetimeIndex, which cannot be graded",
        ),
        (
            pd.Series([{"a": 1}], dtype=object),
            "`df` is a Series: its values holds a value of type dict",
        ),
        (
            pd.DataFrame({object(): [1]}),
            "`df` is a DataFrame: its column labels holds a value of type object",
        ),
    ],
)
def test_pandas_refusals(value, message):
    text = refusal(value, name="df")
    assert text.startswith(message.replace("[us]", text[text.find("[") : text.find("]") + 1]))


# --------------------------------------------------------------------------------------------
# Refusals with messages a student can act on


def test_refusal_messages():
    assert refusal(np.array([1, "a"], dtype=object), name="X") == (
        "`X` is a numpy array of dtype object: numpy arrays of dtype object cannot be graded "
        "(only bool, integer, float and complex arrays can)"
    )
    assert refusal(np.zeros(2, dtype=[("a", "<i4"), ("b", "<f8")]), name="X") == (
        "`X` is a numpy array of dtype [('a', '<i4'), ('b', '<f8')]: structured numpy arrays "
        "cannot be graded (only bool, integer, float and complex arrays can)"
    )
    assert refusal(np.array(["2020-01-01"], dtype="datetime64[D]"), name="X") == (
        "`X` is a numpy array of dtype datetime64[D]: numpy arrays of dtype datetime64 cannot "
        "be graded (only bool, integer, float and complex arrays can)"
    )
    assert "numpy arrays of dtype timedelta64 cannot be graded" in refusal(
        np.array([1], dtype="m8[s]")
    )
    assert "numpy arrays of dtype str cannot be graded" in refusal(np.array(["a"]))
    assert "numpy arrays of dtype bytes cannot be graded" in refusal(np.array([b"a"]))
    assert (
        "numpy arrays of dtype float128 cannot be graded"
        in refusal(np.zeros(1, dtype=np.longdouble))
        or np.dtype(np.longdouble).itemsize == 8
    )

    assert refusal(lambda x: x, name="predict") == (
        "`predict` is an object of type function, which cannot be graded"
    )
    assert refusal(math, name="m") == "`m` is an object of type module, which cannot be graded"
    assert refusal((i for i in range(3)), name="g") == (
        "`g` is an object of type generator, which cannot be graded; turn it into a list first"
    )
    assert refusal(len) == (
        "The value is an object of type builtin_function_or_method, which cannot be graded"
    )


def test_refusal_names_the_element():
    value = {"layers": [1, 2, {"w": print}]}
    assert refusal(value, name="net") == (
        "`net['layers'][2]['w']` is an object of type builtin_function_or_method, "
        "which cannot be graded"
    )
    assert refusal(value).startswith("The value at ['layers'][2]['w'] is an object of type")
    assert refusal((1, np.array([None])), name="pair").startswith(
        "`pair[1]` is a numpy array of dtype object"
    )
    assert refusal({"outer": {1: print}}, name="d") == (
        "`d['outer'][1]` is an object of type builtin_function_or_method, which cannot be graded"
    )
    assert refusal({"outer": {print: 1}}, name="d").startswith("`d['outer']` has a dict key of")
    assert refusal({(10**5000,): print}, name="d").startswith("`d[<a large int>]` is an object")
    assert refusal({len: 1}, name="d") == (
        "`d` has a dict key of type builtin_function_or_method, which cannot be graded "
        "(keys and names must be str, int, float, bool, None or tuples of those)"
    )


def test_reference_cycle_is_refused():
    loop = [1]
    loop.append(loop)
    assert refusal(loop, name="a") == (
        "`a[1]` contains itself (a reference cycle), which cannot be graded"
    )
    shared = [0.5]
    assert_same(roundtrip([shared, shared]), [[0.5], [0.5]])  # sharing is not a cycle


def test_describe_type():
    assert describe_type(1.5) == "float"
    assert describe_type(None) == "NoneType"
    assert describe_type(np.zeros(1)) == "numpy.ndarray"
    assert describe_type(pd.DataFrame()) == "pandas.DataFrame"

    class Local:
        pass

    assert describe_type(Local()) == f"{__name__}.test_describe_type.<locals>.Local"


# --------------------------------------------------------------------------------------------
# Subclasses and hostile objects


CALLS: list[str] = []


class HostileMeta(type):
    def __hash__(cls):
        CALLS.append("meta.__hash__")
        return 0

    def __eq__(cls, other):
        CALLS.append("meta.__eq__")
        return True

    def __getattribute__(cls, name):
        CALLS.append(f"meta.{name}")
        return super().__getattribute__(name)


class Hostile(metaclass=HostileMeta):
    """Every hook it has records that it ran, and __reduce__ would run a shell command."""

    marker = None

    def __eq__(self, other):
        CALLS.append("__eq__")
        return True

    def __hash__(self):
        CALLS.append("__hash__")
        return 0

    def __reduce__(self):
        CALLS.append("__reduce__")
        return (os.system, (f"touch {Hostile.marker}",))

    def __reduce_ex__(self, protocol):
        CALLS.append("__reduce_ex__")
        return self.__reduce__()

    def __getattribute__(self, name):
        CALLS.append(f"getattr {name}")
        return object.__getattribute__(self, name)

    def __getattr__(self, name):
        CALLS.append(f"missing {name}")
        raise AttributeError(name)

    @property
    def __class__(self):
        CALLS.append("__class__")
        return float

    def __len__(self):
        CALLS.append("__len__")
        return 1

    def __iter__(self):
        CALLS.append("__iter__")
        return iter([1])

    def __float__(self):
        CALLS.append("__float__")
        return 1.0

    def __index__(self):
        CALLS.append("__index__")
        return 1

    def __bool__(self):
        CALLS.append("__bool__")
        return True

    def __repr__(self):
        CALLS.append("__repr__")
        return "1.0"

    def __str__(self):
        CALLS.append("__str__")
        return "1.0"

    def __format__(self, spec):
        CALLS.append("__format__")
        return "1.0"

    def __array__(self, *args, **kwargs):
        CALLS.append("__array__")
        return np.zeros(1)


class LyingFloat(float):
    def __repr__(self):
        CALLS.append("LyingFloat.__repr__")
        return "0.5"

    def __float__(self):
        CALLS.append("LyingFloat.__float__")
        return 0.5


class SneakyList(list):
    def __iter__(self):
        CALLS.append("SneakyList.__iter__")
        return iter([])

    def __len__(self):
        CALLS.append("SneakyList.__len__")
        return 0


class SneakyDict(dict):
    def items(self):
        CALLS.append("SneakyDict.items")
        return []

    def keys(self):
        CALLS.append("SneakyDict.keys")
        return []


class MyArray(np.ndarray):
    def tobytes(self, *args, **kwargs):
        CALLS.append("MyArray.tobytes")
        return b""


class MyFrame(pd.DataFrame):
    pass


@pytest.fixture
def hostile(tmp_path):
    Hostile.marker = tmp_path / "pwned"
    evil = Hostile()
    CALLS.clear()
    yield evil
    assert not Hostile.marker.exists()


def test_hostile_objects_never_have_methods_called(hostile):
    values = [
        hostile,
        [1, hostile],
        (hostile,),
        {"k": hostile},
        {hostile},
        np.array([hostile], dtype=object),
        pd.Series([hostile], dtype=object),
    ]
    with_key = {hostile: 1}
    CALLS.clear()
    for value in [*values, with_key]:
        message = refusal(value, name="answer")
        assert "cannot be graded" in message
    assert refusal(hostile, name="answer") == (
        f"`answer` is an object of type {__name__}.Hostile, which cannot be graded"
    )
    assert CALLS == []


def test_hostile_objects_with_make_ref(hostile):
    kept = []

    def make_ref(obj):
        kept.append(obj)
        return Ref(len(kept), describe_type(obj))

    got = roundtrip({"model": hostile, "also": [hostile]}, make_ref=make_ref)
    assert got == {"model": Ref(1, f"{__name__}.Hostile"), "also": [Ref(2, f"{__name__}.Hostile")]}
    assert kept[0] is hostile and kept[1] is hostile
    assert CALLS == []


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # np.matrix
def test_subclasses_do_not_pass_as_builtins():
    CALLS.clear()
    for value, type_name in [
        (LyingFloat(3.0), f"{__name__}.LyingFloat"),
        (SneakyList([1, 2]), f"{__name__}.SneakyList"),
        (SneakyDict(a=1), f"{__name__}.SneakyDict"),
        (np.str_("a"), "numpy.str_"),
        (np.matrix([[1.0]]), "numpy.matrix"),
        (np.ma.masked_array([1.0, 2.0]), "numpy.ma.MaskedArray"),
        (np.zeros(2).view(MyArray), f"{__name__}.MyArray"),
        (MyFrame({"a": [1]}), f"{__name__}.MyFrame"),
    ]:
        assert refusal(value, name="v").startswith(f"`v` is an object of type {type_name}, ")
        assert roundtrip(value, make_ref=lambda obj: Ref(0, describe_type(obj))) == Ref(
            0, type_name
        )
    assert CALLS == []
    assert "np.asarray" in refusal(np.matrix([[1.0]]))


def test_make_ref_is_only_used_for_unsupported_types():
    seen = []

    def make_ref(obj):
        seen.append(obj)
        return Ref(len(seen), describe_type(obj))

    value = [1, "a", np.arange(3), {"x": (2.0,)}, pd.DataFrame({"a": [1]})]
    got = roundtrip(value, make_ref=make_ref)
    assert seen == [] and len(got) == 5
    # Supported types with unsupported contents are refused, not handed out as refs.
    assert "dtype object" in refusal(np.array([None]), make_ref=make_ref)
    assert "dict key" in refusal({print: 1}, make_ref=make_ref)
    assert seen == []
    with pytest.raises(CodecError, match="make_ref returned str, not a Ref"):
        encode(print, make_ref=lambda obj: "nope")


# --------------------------------------------------------------------------------------------
# Limits


def nested_list(depth):
    value = []
    for _ in range(depth - 1):
        value = [value]
    return value


def test_depth_limit_encode():
    assert_same(roundtrip(nested_list(64)), nested_list(64))
    assert refusal(nested_list(65), name="x") == (
        "`x` is nested more than 64 levels deep, which is too deep to grade"
    )
    with pytest.raises(CodecError):
        encode(nested_list(10_000))
    # Even with the depth limit lifted, a deep value is a CodecError, never a RecursionError.
    with pytest.raises(CodecError):
        encode(nested_list(10_000), limits=Limits(max_depth=1_000_000))
    deep_dict = {}
    for _ in range(100):
        deep_dict = {1: deep_dict}
    with pytest.raises(CodecError, match="nested more than 64"):
        encode(deep_dict)


def test_depth_limit_decode():
    # Written by hand: json.dumps of such a value would itself hit the recursion limit.
    text = '{"nngrade_codec":1,"value":' + "[" * 10_000 + "]" * 10_000 + "}"
    with pytest.raises(CodecError, match="nested more than 64 levels deep"):
        decode(text)
    with pytest.raises(CodecError):
        decode(text, limits=Limits(max_depth=1_000_000))
    assert_same(decode(encode(nested_list(64))), nested_list(64))
    with pytest.raises(CodecError, match="nested more than 64 levels deep"):
        decode(encode(nested_list(65), limits=Limits(max_depth=65)))


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000,
        "[" * 100_000 + "]" * 100_000,
        '{"nngrade_codec":1,"value":' + "[" * 100_000 + "]" * 100_000 + "}",
        '{"a":' * 100_000 + "1" + "}" * 100_000,
        '{"nngrade_codec":1,"value":{"$":"tuple","items":' + "[" * 100_000,
    ],
)
def test_deeply_nested_json_is_refused_without_crashing(text):
    start = time.process_time()
    with pytest.raises(CodecError):
        decode(text)
    with pytest.raises(CodecError):
        decode(text.encode())
    assert time.process_time() - start < 1


def test_brackets_inside_strings_do_not_count_as_nesting():
    value = ["[" * 100_000, '{"\\"[[' * 1000, "\\" * 11]
    assert roundtrip(value) == value
    # An unterminated string cannot hide brackets that the parser would see.
    with pytest.raises(CodecError):
        decode('["a\\"' + "[" * 100_000)


def test_number_of_json_values_is_bounded_before_parsing():
    # 3.5M empty lists would cost json.loads seconds and gigabytes; the scan refuses them first.
    text = '{"nngrade_codec":1,"value":[' + "[]," * 3_500_000 + "[]]}"
    start = time.process_time()
    with pytest.raises(CodecError, match="more than 3,004,096 separate pieces"):
        decode(text)
    assert time.process_time() - start < 1
    # Encode applies the same rule, so it never produces a text that decode refuses.
    limits = Limits(max_items=200)
    arrays = [np.zeros((1,) * 32) for _ in range(150)]  # 150 items, ~37 pieces each
    assert "too many pieces" in refusal(arrays, limits=limits)
    with pytest.raises(CodecError, match="separate pieces"):
        decode(encode(arrays), limits=limits)
    assert len(roundtrip(arrays[:100], limits=limits)) == 100


def test_huge_array_is_refused_before_any_copy():
    huge = np.broadcast_to(np.float64(1.0), (10**9,))  # no memory behind it
    start = time.process_time()
    assert refusal(huge, name="big") == (
        "`big` holds more than 20,000,000 array elements in total, which is too many to grade"
    )
    # With the element budget out of the way the encoded size stops it, still before .tobytes().
    lifted = Limits(max_array_elements=10**12)
    assert refusal(huge, name="big", limits=lifted) == (
        "`big` is too large to grade (over 64 MiB once encoded)"
    )
    several = [np.broadcast_to(np.int8(0), (8_000_000,))] * 3
    assert "array elements" in refusal(several)
    assert time.process_time() - start < 1


def test_huge_declared_array_is_refused_before_allocating():
    for shape in ([10**9], [10**5, 10**5], [0, 10**12], [2**62, 2**62, 0]):
        node = {"$": "ndarray", "dtype": "<f8", "shape": shape, "b64": "AAAAAAAAAAA="}
        with pytest.raises(CodecError, match="array elements"):
            decode(envelope(node))
    # A declared size that does not match the data is refused before decoding the base64.
    node = {"$": "ndarray", "dtype": "<f8", "shape": [10**6], "b64": "AAAAAAAAAAA="}
    with pytest.raises(CodecError, match="does not match its declared size"):
        decode(envelope(node), limits=Limits(max_array_elements=10**12))


def test_string_and_item_limits():
    long_text = "x" * (DEFAULT_LIMITS.max_str_chars + 1)
    assert refusal(long_text, name="s") == (
        "`s` holds more than 10,485,760 characters of text, which is too much to grade"
    )
    small = Limits(max_str_chars=10, max_items=5)
    assert "characters of text" in refusal(["abcdef", "ghijk"], limits=small)
    assert "characters of text" in refusal({"abcdef": "ghijk"}, limits=small)
    assert "holds more than 5 items" in refusal([[1, 2, 3], [4, 5]], limits=small)
    assert "holds more than 5 items" in refusal({i: i for i in range(6)}, limits=small)
    assert roundtrip([[1, 2], [3]], limits=small) == [[1, 2], [3]]
    with pytest.raises(CodecError, match="characters of text"):
        decode(encode(["abcdef", "ghijk"]), limits=small)
    with pytest.raises(CodecError, match="more than 5 items"):
        decode(encode([[1, 2, 3], [4, 5]]), limits=small)
    with pytest.raises(CodecError, match="characters of text"):
        decode(encode(pd.Series(["abcdef", "ghijk"])), limits=small)


def test_size_limit():
    small = Limits(max_bytes=1000)
    assert "too large to grade" in refusal(np.zeros(1000), limits=small)
    assert "too large to grade" in refusal(["ab"] * 400, limits=small)
    text = encode(list(range(300)))
    assert len(text) > 1000
    with pytest.raises(CodecError, match="larger than 1,000 bytes"):
        decode(text, limits=small)
    with pytest.raises(CodecError, match="larger than 1,000 bytes"):
        decode(text.encode(), limits=small)


def test_integer_digit_limit():
    assert roundtrip(10**9999) == 10**9999
    assert refusal(10**10_000, name="n") == (
        "`n` is an integer with more than 10,000 digits, which is too large to grade"
    )
    node = {"$": "int", "hex": "f" * 9000}
    with pytest.raises(CodecError):
        decode(envelope(node))
    with pytest.raises(CodecError, match="integer literal is too long"):
        decode('{"nngrade_codec":1,"value":' + "9" * 5000 + "}")


# --------------------------------------------------------------------------------------------
# Hostile payloads


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "not valid JSON"),
        ("{", "not valid JSON"),
        ("[1, 2]", "not an nngrade codec document"),
        ('{"nngrade_codec": 2, "value": 1}', "codec version 2"),
        ('{"nngrade_codec": true, "value": 1}', "not an nngrade codec document"),
        ('{"nngrade_codec": 1, "value": 1, "x": 2}', "not an nngrade codec document"),
        ('{"nngrade_codec": 1, "value": NaN}', "NaN is not allowed"),
        ('{"nngrade_codec": 1, "value": -Infinity}', "-Infinity is not allowed"),
        ('{"nngrade_codec": 1, "value": {"a": 1, "a": 2}}', "same key twice"),
        ('{"nngrade_codec": 1, "value": 1.' + "0" * 100 + "}", "number literal is too long"),
        ('{"nngrade_codec": 1, "value": {"$": "pickle", "data": ""}}', "unknown tag 'pickle'"),
        ('{"nngrade_codec": 1, "value": {"$": 3}}', "unknown tag 3"),
        ('{"nngrade_codec": 1, "value": {"$": "float", "v": "1.5"}}', "nan, inf or -inf"),
        ('{"nngrade_codec": 1, "value": {"$": "float", "v": "nan", "w": 1}}', "exactly the"),
        ('{"nngrade_codec": 1, "value": {"$": "int", "hex": "0x10"}}', "hexadecimal"),
        ('{"nngrade_codec": 1, "value": {"$": "int", "hex": " 1_0"}}', "hexadecimal"),
        ('{"nngrade_codec": 1, "value": {"$": "complex", "re": 1, "im": 0.0}}', "float"),
        ('{"nngrade_codec": 1, "value": {"$": "bytes", "b64": "AP8"}}', "base64"),
        ('{"nngrade_codec": 1, "value": {"$": "bytes", "b64": "A!8="}}', "base64"),
        ('{"nngrade_codec": 1, "value": {"$": "tuple", "items": {}}}', "must be a list"),
        ('{"nngrade_codec": 1, "value": {"$": "set", "items": [[1]]}}', "unhashable"),
        ('{"nngrade_codec": 1, "value": {"$": "set", "items": [1, 1]}}', "twice"),
        ('{"nngrade_codec": 1, "value": {"$": "dict", "items": [[1, 2, 3]]}}', "pairs"),
        ('{"nngrade_codec": 1, "value": {"$": "dict", "items": [[[1], 2]]}}', "dict key"),
        ('{"nngrade_codec": 1, "value": {"$": "dict", "items": [[1, 2], [true, 3]]}}', "twice"),
        ('{"nngrade_codec": 1, "value": {"$": "ref", "id": "1", "type": "x"}}', "integer"),
        ('{"nngrade_codec": 1, "value": {"$": "npscalar", "dtype": "|O", "b64": ""}}', "dtype"),
        ('{"nngrade_codec": 1, "value": {"$": "npscalar", "dtype": "|b1", "b64": "Ag=="}}',
         "bytes other than 0 and 1"),
    ],
)  # fmt: skip
def test_malformed_payloads(text, message):
    with pytest.raises(CodecError) as info:
        decode(text)
    assert type(info.value) is CodecError
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("node", "message"),
    [
        ({"dtype": "|O"}, "dtype '|O' is not allowed"),
        ({"dtype": ">f8"}, "dtype '>f8' is not allowed"),
        ({"dtype": "<M8[ns]"}, "not allowed"),
        ({"dtype": "<U1"}, "not allowed"),
        ({"dtype": "V8"}, "not allowed"),
        ({"dtype": "float64"}, "not allowed"),
        ({"dtype": ["<f8"]}, "not allowed"),
        ({"shape": [-1]}, "non-negative integers"),
        ({"shape": [1.0]}, "non-negative integers"),
        ({"shape": [True]}, "non-negative integers"),
        ({"shape": 1}, "must be a list"),
        ({"shape": [1] * 33}, "more than 32 dimensions"),
        ({"shape": [2]}, "does not match its declared size"),
        ({"b64": "AAAAAAAAAA=="}, "does not match its declared size"),
        ({"b64": "AAAAAAAAAA!="}, "invalid base64"),
        ({"b64": 5}, "must be a string"),
        ({"extra": 1}, "exactly the fields dtype, shape, b64"),
    ],
)
def test_malformed_arrays(node, message):
    valid = {"$": "ndarray", "dtype": "<f8", "shape": [1], "b64": "AAAAAAAA8D8="}
    assert decode(envelope(valid)) == np.array([1.0])
    with pytest.raises(CodecError, match=message.replace("[", r"\[").replace("|", r"\|")):
        decode(envelope({**valid, **node}))
    bool_array = {"$": "ndarray", "dtype": "|b1", "shape": [2], "b64": "AQI="}
    with pytest.raises(CodecError, match="bytes other than 0 and 1"):
        decode(envelope(bool_array))


def test_malformed_pandas():
    good = json.loads(encode(pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})))
    frame = good["value"]

    def attempt(mutate):
        doc = json.loads(json.dumps(good))
        mutate(doc["value"])
        with pytest.raises(CodecError):
            decode(json.dumps(doc))

    attempt(lambda f: f["data"].pop())  # fewer columns than labels
    attempt(lambda f: f["data"][1]["values"].append("z"))  # column longer than the index
    attempt(lambda f: f["data"][1].update(dtype="category"))
    attempt(lambda f: f["data"][1].update(storage="arrow"))
    attempt(lambda f: f["data"][1].update(dtype="object"))  # object columns have no storage
    attempt(lambda f: f["data"][1]["values"].__setitem__(0, 1))
    attempt(lambda f: f["index"].update(step=0))
    attempt(lambda f: f["index"].update(stop=2**70))
    attempt(lambda f: f["index"].update(stop=10**15))  # a range beyond the element budget
    attempt(lambda f: f["index"].update({"$": "multi"}))
    attempt(lambda f: f["columns"].update(name=[1]))
    attempt(lambda f: f["data"].__setitem__(0, {"$": "ndarray", "dtype": "<f8", "shape": [1, 2],
                                                "b64": "A" * 24}))  # fmt: skip
    attempt(lambda f: f.update({"$": "series"}))
    assert frame["$"] == "dataframe"


def test_decode_rejects_non_text_and_bad_utf8():
    for value in (None, 5, ["x"], memoryview(b"{}")):
        with pytest.raises(CodecError):
            decode(value)
    with pytest.raises(CodecError, match="not UTF-8"):
        decode(b'{"nngrade_codec":1,"value":"\xff"}')
    assert decode(bytearray(encode([1, "é"]).encode())) == [1, "é"]


def test_fuzzed_payloads_only_give_codec_errors_or_values():
    samples = [
        {"a": [1, 2.5, None, True, "s"], "$": (1, -0.0), 3: {1, 2}, (1, "k"): b"\x00\x01"},
        [np.arange(6, dtype=np.int16).reshape(2, 3), np.float32(2), np.array([True, False])],
        [complex(1, math.nan), math.inf, 2**70, frozenset({"x"}), Ref(1, "m.T")],
        pd.DataFrame(
            {"a": [1.0, 2.0], "b": ["x", "y"], "c": pd.Series(["p", None], dtype="string")},
            index=pd.Index(["r", "s"], name="row"),
        ),
        pd.Series([1, 2, 3], index=pd.RangeIndex(1, 7, 2), name="s"),
    ]  # fmt: skip
    texts = [encode(sample) for sample in samples]
    rng = random.Random(1234)
    interesting = ['"', "[", "]", "{", "}", ",", ":", "-", "0", "1", "9", "e", ".", "$", "\\"]
    junk_values = [
        None, True, -1, 0, 2**40, 1.5, "", "x", "<f8", "|b1", [], [1], {}, {"$": "x"},
        [2**62, 2**62], "AAAA", {"$": "ndarray"}, {"$": "tuple", "items": []},
    ]  # fmt: skip
    outcomes = {"value": 0, "error": 0}
    start = time.process_time()

    def check(text):
        try:
            decode(text)
        except CodecError:
            outcomes["error"] += 1
        else:
            outcomes["value"] += 1

    def nodes(node, out):
        out.append(node)
        children = node.values() if type(node) is dict else node if type(node) is list else []
        for child in children:
            nodes(child, out)
        return out

    for round_ in range(600):
        text = rng.choice(texts)
        kind = round_ % 3
        if kind == 0:  # character-level damage
            chars = list(text)
            for _ in range(rng.randint(1, 4)):
                at = rng.randrange(len(chars))
                action = rng.random()
                if action < 0.5:
                    chars[at] = rng.choice(interesting)
                elif action < 0.8:
                    del chars[at]
                else:
                    chars.insert(at, rng.choice(interesting))
            check("".join(chars))
        elif kind == 1:  # structure-aware: replace one field or item with junk
            doc = json.loads(text)
            containers = [n for n in nodes(doc["value"], []) if type(n) in (dict, list) and n]
            target = rng.choice(containers)
            if type(target) is dict:
                key = rng.choice(list(target))
                target[key] = rng.choice(junk_values)
            else:
                target[rng.randrange(len(target))] = rng.choice(junk_values)
            check(json.dumps(doc))
        else:  # truncation, or a spliced duplicate of a slice
            cut = rng.randrange(len(text))
            check(text[:cut] if rng.random() < 0.5 else text[:cut] + text[cut // 2 :])
    assert outcomes["error"] > 300 and outcomes["value"] > 10
    assert time.process_time() - start < 2


# --------------------------------------------------------------------------------------------
# The kernel builds the package from its source text


CODEC_SOURCES = codec_install.sources()
INSTALLER_SOURCE = Path(codec_install.__file__).read_text()


def install_from_source(package):
    """The codec as the kernel gets it: the installer's text run in a fresh namespace."""
    namespace = {"__name__": "_nngrade_codec_installer"}
    exec(compile(INSTALLER_SOURCE, "<nngrade codec installer>", "exec"), namespace)
    return namespace["install"](package, CODEC_SOURCES)


def test_every_module_of_the_package_is_shipped():
    folder = Path(codec.__file__).parent
    assert set(codec_install.MODULES) == {p.stem for p in folder.glob("*.py")} - {"install"}
    assert list(CODEC_SOURCES) == list(codec_install.MODULES)
    assert "install" not in CODEC_SOURCES  # the installer is not part of the codec


def test_package_runs_from_source_under_a_private_name():
    for package in ("_nngrade_codec", "nngrade_kernel_codec"):
        try:
            kernel = install_from_source(package)
            assert kernel is sys.modules[package] and kernel.__name__ == package
            assert kernel is not codec and not hasattr(kernel, "__file__")
            kernel_ref = kernel.Ref
            assert kernel_ref is not Ref
            value = {
                "w": np.arange(4.0).reshape(2, 2),
                "loss": [np.float32(0.5), math.nan],
                "frame": pd.DataFrame({"a": [1, 2], "s": ["x", "y"]}),
                "model": print,
                7: (1j, b"x", {1, 2}),
            }
            text = kernel.encode(value, make_ref=lambda obj, r=kernel_ref: r(5, describe_type(obj)))
            got = decode(text)  # decoded by the grader's own copy of the package
            assert got["model"] == Ref(5, "builtin_function_or_method")
            pdt.assert_frame_equal(got["frame"], value["frame"])
            assert_same(got["loss"], value["loss"])
            assert_same(got[7], value[7])
            assert_same(kernel.decode(encode(value["w"])), value["w"])
            with pytest.raises(kernel.CodecError, match="`f` is an object of type function"):
                kernel.encode(lambda: 0, name="f")
            assert issubclass(kernel.CodecError, ValueError)
            assert not issubclass(kernel.CodecError, CodecError)
            assert describe_type(kernel_ref(1, "x")) == f"{package}.Ref"
        finally:
            for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
                del sys.modules[name]
    assert describe_type(Ref(1, "x")) == "autograder.codec.Ref"


def test_installing_again_replaces_the_package():
    try:
        first = install_from_source("_nngrade_codec_again")
        second = install_from_source("_nngrade_codec_again")
        assert first is not second and first.Ref is not second.Ref
        assert sys.modules["_nngrade_codec_again"] is second
        assert not any(type(finder).__name__ == "_SourceFinder" for finder in sys.meta_path)
    finally:
        for name in [n for n in sys.modules if n.startswith("_nngrade_codec_again")]:
            del sys.modules[name]


def test_modules_import_only_stdlib_numpy_and_each_other():
    shipped = set(CODEC_SOURCES) - {"__init__"}
    for module, source in CODEC_SOURCES.items():
        tree = ast.parse(source)
        imported = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level:
                assert node.level == 1, f"{module}: no imports from outside the package"
                siblings = [node.module] if node.module else [a.name for a in node.names]
                assert set(siblings) <= shipped, f"{module}: imports a module that is not shipped"
            elif isinstance(node, ast.ImportFrom):
                imported.add(node.module.split(".")[0])
        assert imported <= {
            "base64", "binascii", "dataclasses", "json", "math", "re", "sys", "typing", "numpy",
            "pandas",
        }, module  # fmt: skip
        top_level = {
            alias.name.split(".")[0]
            for node in tree.body
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module)])
            if alias.name is not None
        }
        assert "pandas" not in top_level, module
        called = {
            node.func.id
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        }
        assert not called & {"eval", "exec", "compile", "__import__"}, module
        assert "pickle" not in imported and "marshal" not in imported, module


def test_installer_imports_only_the_standard_library():
    tree = ast.parse(INSTALLER_SOURCE)
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0
            imported.add(node.module.split(".")[0])
    assert imported <= {"importlib", "pathlib", "sys", "types"}


# The kernel's side, as close as a test gets without a sandbox: a python started with -I (no
# PYTHONPATH, no current folder), where importing `autograder` fails even though the virtualenv
# has it installed, runs the installer's text and gets the codec's sources as data only.
ISOLATED_PRELUDE = """
import json, sys

class _NoAutograder:
    def find_spec(self, fullname, path=None, target=None):
        if fullname == "autograder" or fullname.startswith("autograder."):
            raise ModuleNotFoundError(f"No module named {fullname!r}")
        return None

sys.meta_path.insert(0, _NoAutograder())
job = json.loads(sys.stdin.read())
namespace = {"__name__": "_nngrade_codec_installer"}
exec(compile(job["installer"], "<nngrade codec installer>", "exec"), namespace)
codec = namespace["install"]("_nngrade_codec", job["sources"])
assert not [name for name in sys.modules if name.split(".")[0] == "autograder"]
"""


def run_isolated(script, **job):
    job = {"installer": INSTALLER_SOURCE, "sources": CODEC_SOURCES, **job}
    result = subprocess.run(
        [sys.executable, "-I", "-c", ISOLATED_PRELUDE + script],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(codec.__file__).parent,  # even from inside the package's own folder
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def every_supported_type():
    """One value of each kind the wire format has, in a fixed order (no sets of str)."""
    return [
        None, True, False, 0, -7, 2**64 - 1, -(10**300), 0.1, -0.0, math.nan, math.inf, -math.inf,
        complex(1.5, -0.0), "unicode é ✓ 𝄞 and a lone surrogate \ud800", bytes(range(256)),
        [1, [2.0, "3"]], (), (1, (2,)), {"b": 1, "$$": {"c": []}}, {"$": 1, 2: "x"},
        {1: "a", 2.5: "b", False: "c", None: "d", (1, "x", (None, -(2**80))): "e"},
        {1, 2, (3, 4)}, frozenset({frozenset({1}), 5}),
        *[np.dtype(code).type(3) for code in ARRAY_DTYPES],
        *[(np.arange(6) % 2).astype(code).reshape(2, 3) for code in ARRAY_DTYPES],
        np.zeros((2, 0, 3)),
        pd.DataFrame(
            {
                "i": [1, 2, 3],
                "f": np.array([0.5, np.nan, -0.0], dtype=np.float32),
                "b": [True, False, True],
                "s": ["x", "y", "z"],
                "o": pd.Series(["p", "q", "r"], dtype=object),
                "string": pd.Series(["a", None, "c"], dtype="string"),
            }
        ).set_axis(pd.RangeIndex(10, 1, -3, name="row")),
        pd.DataFrame({3: [1.0], 1: [2]}, index=pd.Index(["k"], name=("a", 1))),
        pd.DataFrame(),
        pd.Series(["x", None], dtype="str", name="s"),
        pd.Series([1, 2], index=pd.Index([7, 3], dtype=np.int32), name=0),
        Ref(12, "keras.src.models.sequential.Sequential"),
        [Ref(1, "function"), {"m": (Ref(2, "x.Y"),)}],
    ]  # fmt: skip


def assert_same_value(got, want):
    if type(want) is pd.DataFrame:
        assert type(got) is pd.DataFrame
        pdt.assert_frame_equal(got, want, check_index_type=True, check_column_type=True)
    elif type(want) is pd.Series:
        assert type(got) is pd.Series
        pdt.assert_series_equal(got, want, check_index_type=True)
    elif type(want) is Ref or (type(want) is list and type(want[0]) is Ref):
        assert got == want
    else:
        assert_same(got, want)


def test_codec_installed_in_an_isolated_python_round_trips_every_type():
    values = every_supported_type()
    texts = [encode(value) for value in values]
    output = run_isolated(
        """
import pandas  # the grader's texts are decoded by the kernel's copy, then encoded again
replies = []
for text in job["texts"]:
    value = codec.decode(text)
    replies.append([codec.encode(value), codec.describe_type(value)])
print(json.dumps(replies))
""",
        texts=texts,
    )
    replies = json.loads(output)
    assert len(replies) == len(values)
    for value, text, (reply, kernel_type) in zip(values, texts, replies, strict=True):
        assert reply == text  # the same wire format, byte for byte
        assert_same_value(decode(reply), value)
        expected_type = describe_type(value)
        assert kernel_type == expected_type.replace("autograder.codec.", "_nngrade_codec.")


def test_codec_installed_in_an_isolated_python_refuses_with_the_same_messages():
    bad = [
        '{"nngrade_codec": 1, "value": {"$": "pickle", "data": ""}}',
        '{"nngrade_codec": 1, "value": {"$": "ndarray", "dtype": "|O", "shape": [], "b64": ""}}',
        '{"nngrade_codec":1,"value":' + "[" * 500 + "]" * 500 + "}",
        "not json",
    ]
    output = run_isolated(
        """
messages = []
for text in job["texts"]:
    try:
        codec.decode(text)
    except codec.CodecError as error:
        messages.append(str(error))
for value in (object(), (lambda: 0), {1: object()}):
    try:
        codec.encode(value, name="answer")
    except codec.CodecError as error:
        messages.append(str(error))
print(json.dumps(messages))
""",
        texts=bad,
    )
    expected = []
    for text in bad:
        with pytest.raises(CodecError) as info:
            decode(text)
        expected.append(str(info.value))
    for value in (object(), (lambda: 0), {1: object()}):
        expected.append(refusal(value, name="answer"))
    assert json.loads(output) == expected


def test_installing_the_codec_does_not_import_pandas():
    output = run_isolated(
        """
print("pandas" in sys.modules)
codec.decode(codec.encode({"x": [1.0, 2.0]}))
print("pandas" in sys.modules)
"""
    )
    assert output.split() == ["False", "False"]
