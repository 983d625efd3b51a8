"""Encoding of the values that hold no other value, and the budget one encoding spends.

``_EncodeState`` counts items, array elements, characters and the estimated encoded length as
the value is walked, and refuses as soon as a limit is passed. ``_Refusal`` carries a message
still to be completed with the name of the refused value and its path inside it.

The encoders here take values whose exact type the caller has already checked: floats, ints,
bytes, numpy arrays and scalars, dict keys and pandas names, and ``Ref`` handles. None of them
calls a method that a student's class could override.
"""

import base64
import math
from typing import Any

import numpy as np

from .wire import (
    _MAX_NDIM,
    _NUMERIC_HINT,
    _TAG,
    CodecError,
    Limits,
    Ref,
    _dtype_short_name,
    _shorten,
    _too_many_digits,
    _wire_dtype,
    describe_type,
)


class _Refusal(CodecError):
    """Internal: a refusal whose message still has ``{what}`` to fill in with the value's name.

    Containers add their index to ``path`` while the exception passes through them, so the
    final message can say which element was refused (``result[2]['w']``).
    """

    def __init__(self, template: str, with_path: bool = True) -> None:
        super().__init__(template)
        self.template = template
        self.with_path = with_path
        self.path: list[str] = []

    def render(self, name: str) -> str:
        where = "".join(reversed(self.path)) if self.with_path else ""
        if len(where) > 120:
            where = where[:60] + "..." + where[-50:]
        if name == "the value":
            what = f"the value at {where}" if where else "the value"
        else:
            what = f"`{name}{where}`"
        message = self.template.replace("{what}", what, 1)
        return message[:1].upper() + message[1:]


class _EncodeState:
    __slots__ = ("limits", "make_ref", "items", "elements", "chars", "size", "active", "hashed")

    def __init__(self, limits: Limits, make_ref: Any) -> None:
        self.limits = limits
        self.make_ref = make_ref
        self.items = 0
        self.elements = 0
        self.chars = 0
        self.size = 0  # running estimate of the encoded length
        self.active: set[int] = set()  # ids of the containers being encoded (cycle check)
        self.hashed = 0

    def add_hashed(self, count: int) -> None:
        self.hashed += count
        if self.hashed > self.limits.max_hashed_items:
            raise _Refusal(
                f"{{what}} holds more than {self.limits.max_hashed_items:,} set elements and "
                "dict keys that are not strings, which is too many to grade",
                with_path=False,
            )

    def add_items(self, count: int) -> None:
        self.items += count
        if self.items > self.limits.max_items:
            raise _Refusal(
                f"{{what}} holds more than {self.limits.max_items:,} items in its lists, "
                "tuples, sets and dicts, which is too many to grade",
                with_path=False,
            )

    def add_elements(self, count: int) -> None:
        self.elements += count
        if self.elements > self.limits.max_array_elements:
            raise _Refusal(
                f"{{what}} holds more than {self.limits.max_array_elements:,} array elements "
                "in total, which is too many to grade",
                with_path=False,
            )

    def add_chars(self, count: int) -> None:
        self.chars += count
        self.add_size(count)
        if self.chars > self.limits.max_str_chars:
            raise _Refusal(
                f"{{what}} holds more than {self.limits.max_str_chars:,} characters of text, "
                "which is too much to grade",
                with_path=False,
            )

    def add_size(self, count: int) -> None:
        self.size += count
        if self.size > self.limits.max_bytes:
            raise _too_large(self.limits)

    def enter(self, value: Any, depth: int) -> int:
        if id(value) in self.active:
            raise _Refusal("{what} contains itself (a reference cycle), which cannot be graded")
        depth += 1
        if depth > self.limits.max_depth:
            raise _Refusal(
                f"{{what}} is nested more than {self.limits.max_depth} levels deep, "
                "which is too deep to grade",
                with_path=False,
            )
        self.active.add(id(value))
        return depth


def _too_large(limits: Limits) -> _Refusal:
    return _Refusal(
        f"{{what}} is too large to grade (over {limits.max_bytes / 2**20:g} MiB once encoded)",
        with_path=False,
    )


def _enc_float(value: float) -> Any:
    if math.isfinite(value):
        return value
    if value != value:
        return {_TAG: "float", "v": "nan"}
    return {_TAG: "float", "v": "inf" if value > 0 else "-inf"}


def _enc_int(value: int, st: _EncodeState) -> Any:
    if -(2**63) <= value < 2**64:
        return value
    digits = st.limits.max_int_digits
    if _too_many_digits(value, digits):
        raise _Refusal(
            f"{{what}} is an integer with more than {digits:,} digits, which is too large to grade"
        )
    text = format(value, "x")
    st.add_size(len(text) + 20)
    return {_TAG: "int", "hex": text}


def _enc_bytes(value: bytes, st: _EncodeState) -> Any:
    st.add_size(4 * ((len(value) + 2) // 3) + 20)
    return {_TAG: "bytes", "b64": base64.b64encode(value).decode("ascii")}


def _array_refusal(dtype: np.dtype, prefix: str) -> _Refusal:
    shown = _shorten(str(dtype))
    short = _dtype_short_name(dtype)
    kind = "structured numpy arrays" if short == "structured" else f"numpy arrays of dtype {short}"
    return _Refusal(f"{prefix} of dtype {shown}: {kind} cannot be graded ({_NUMERIC_HINT})")


def _array_node(array: np.ndarray, wire: str, st: _EncodeState) -> dict:
    # Budgets come from .size before anything is copied, so a huge broadcast view is refused
    # without materialising it.
    size = int(array.size)
    st.add_elements(size)
    if array.ndim > _MAX_NDIM:
        raise _Refusal(
            f"{{what}} is a numpy array with {array.ndim} dimensions, "
            f"more than the {_MAX_NDIM} that can be graded"
        )
    nbytes = size * array.dtype.itemsize
    st.add_size(4 * ((nbytes + 2) // 3) + 40 + 12 * array.ndim)
    if array.dtype.str != wire:
        array = array.astype(wire)
    data = array.tobytes(order="C")
    return {
        _TAG: "ndarray",
        "dtype": wire,
        "shape": [int(n) for n in array.shape],
        "b64": base64.b64encode(data).decode("ascii"),
    }


def _enc_ndarray(array: np.ndarray, st: _EncodeState) -> dict:
    dtype = array.dtype
    wire = _wire_dtype(dtype)
    if wire is None:
        raise _array_refusal(dtype, "{what} is a numpy array")
    return _array_node(array, wire, st)


def _enc_npscalar(value: Any, st: _EncodeState) -> dict:
    dtype = value.dtype
    wire = _wire_dtype(dtype)
    if wire is None:  # not reachable for the scalar types in the table; kept as a guard
        raise _array_refusal(dtype, "{what} is a numpy scalar")
    st.add_size(40)
    data = np.asarray(value).astype(wire).tobytes()
    return {_TAG: "npscalar", "dtype": wire, "b64": base64.b64encode(data).decode("ascii")}


def _enc_key(key: Any, depth: int, st: _EncodeState, role: str) -> Any:
    """Dict keys and pandas names: str, int, float, bool, None or tuples of those."""
    kind = type(key)
    if kind is str:
        st.add_chars(len(key))
        return key
    if key is None or kind is bool:
        return key
    if kind is int:
        return _enc_int(key, st)
    if kind is float:
        return _enc_float(key)
    if kind is tuple:
        depth = st.enter(key, depth)
        try:
            st.add_items(len(key))
            return {_TAG: "tuple", "items": [_enc_key(k, depth, st, role) for k in key]}
        finally:
            st.active.discard(id(key))
    raise _Refusal(
        f"{{what}} has {role} of type {describe_type(key)}, which cannot be graded "
        "(keys and names must be str, int, float, bool, None or tuples of those)"
    )


def _enc_ref(ref: Ref, st: _EncodeState) -> dict:
    if type(ref.id) is not int or type(ref.type_name) is not str:
        raise _Refusal("{what} is a malformed handle (Ref with a non-int id or non-str type)")
    st.add_size(len(ref.type_name) + 40)
    return {_TAG: "ref", "id": ref.id, "type": ref.type_name}
