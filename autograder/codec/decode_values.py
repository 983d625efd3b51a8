"""Decoding of the values that hold no other value, and the checks every decoder uses.

The text is hostile: every check here raises ``CodecError``. ``_DecodeState`` counts items,
array elements and characters against the limits, before anything is allocated; ``_fields``,
``_expect_list`` and ``_expect_int`` check the fields of a tagged object; ``_b64`` checks that
base64 data has exactly its declared length. The decoders rebuild floats, ints, complex
numbers, bytes, dict keys and pandas names, numpy arrays and scalars, and ``Ref`` handles.
"""

import binascii
import re
from typing import Any

import numpy as np

from .wire import (
    _DTYPE_FROM_WIRE,
    _MAX_NDIM,
    _TAG,
    CodecError,
    Limits,
    Ref,
    _shorten,
    _too_many_digits,
)

_HEX_INT = re.compile(r"-?[0-9a-f]+")


def _malformed(detail: str) -> CodecError:
    return CodecError(f"the encoded data is malformed: {detail}")


class _DecodeState:
    __slots__ = ("limits", "items", "elements", "chars", "hashed")

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.items = 0
        self.elements = 0
        self.chars = 0
        self.hashed = 0

    def add_hashed(self, count: int) -> None:
        """Count set elements and non-str dict keys before any of them is hashed."""
        self.hashed += count
        if self.hashed > self.limits.max_hashed_items:
            raise CodecError(
                f"the data holds more than {self.limits.max_hashed_items:,} set elements "
                "and dict keys that are not strings"
            )

    def add_items(self, count: int) -> None:
        self.items += count
        if self.items > self.limits.max_items:
            raise CodecError(f"the data holds more than {self.limits.max_items:,} items")

    def add_elements(self, count: int) -> None:
        self.elements += count
        if self.elements > self.limits.max_array_elements:
            raise CodecError(
                f"the data holds more than {self.limits.max_array_elements:,} array elements"
            )

    def add_chars(self, count: int) -> None:
        self.chars += count
        if self.chars > self.limits.max_str_chars:
            raise CodecError(
                f"the data holds more than {self.limits.max_str_chars:,} characters of text"
            )

    def enter(self, depth: int) -> int:
        depth += 1
        if depth > self.limits.max_depth:
            raise CodecError(f"the data is nested more than {self.limits.max_depth} levels deep")
        return depth


def _fields(node: dict, tag: str, names: tuple[str, ...]) -> None:
    if len(node) != len(names) + 1 or any(n not in node for n in names):
        raise _malformed(f"a {tag} must have exactly the fields {', '.join(names)}")


def _expect_list(value: Any, what: str) -> list:
    if type(value) is not list:
        raise _malformed(f"{what} must be a list")
    return value


def _expect_int(value: Any, what: str) -> int:
    if type(value) is not int:
        raise _malformed(f"{what} must be an integer")
    return value


def _b64(text: Any, nbytes: int) -> bytes:
    if type(text) is not str:
        raise _malformed("base64 data must be a string")
    if len(text) != 4 * ((nbytes + 2) // 3):
        raise _malformed("the length of base64 data does not match its declared size")
    try:
        data = binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError):
        raise _malformed("invalid base64 data") from None
    if len(data) != nbytes:
        raise _malformed("the length of base64 data does not match its declared size")
    return data


def _dtype(wire: Any) -> np.dtype:
    dtype = _DTYPE_FROM_WIRE.get(wire) if type(wire) is str else None
    if dtype is None:
        raise _malformed(f"dtype {_shorten(repr(wire), 40)} is not allowed")
    return dtype


def _check_bool_bytes(data: bytes) -> None:
    if data and int(np.frombuffer(data, dtype=np.uint8).max()) > 1:
        raise _malformed("a bool array holds bytes other than 0 and 1")


def _dec_float_field(value: Any, what: str) -> float:
    if type(value) is float:
        return value
    if type(value) is dict:
        return _dec_float(value)
    raise _malformed(f"{what} must be a float")


def _dec_float(node: dict, depth: int = 0, st: Any = None) -> float:
    _fields(node, "float", ("v",))
    text = node["v"]
    if type(text) is not str or text not in ("nan", "inf", "-inf"):
        raise _malformed("a tagged float must be nan, inf or -inf")
    # A new object each time: distinct nan keys of a dict or elements of a set stay distinct.
    return float(text)


def _dec_int(node: dict, depth: int, st: _DecodeState) -> int:
    _fields(node, "int", ("hex",))
    text = node["hex"]
    max_hex = int(st.limits.max_int_digits * 0.8305) + 2  # log(10)/log(16) ~ 0.8305
    if type(text) is not str or len(text) > max_hex or not _HEX_INT.fullmatch(text):
        raise _malformed("a tagged int must be a short hexadecimal string")
    value = int(text, 16)
    if _too_many_digits(value, st.limits.max_int_digits):
        raise CodecError(
            f"the data holds an integer with more than {st.limits.max_int_digits:,} digits"
        )
    return value


def _dec_complex(node: dict, depth: int, st: _DecodeState) -> complex:
    _fields(node, "complex", ("re", "im"))
    return complex(_dec_float_field(node["re"], "re"), _dec_float_field(node["im"], "im"))


def _dec_bytes(node: dict, depth: int, st: _DecodeState) -> bytes:
    _fields(node, "bytes", ("b64",))
    text = node["b64"]
    if type(text) is not str:
        raise _malformed("bytes data must be a string")
    if len(text) % 4:
        raise _malformed("invalid base64 data")
    nbytes = len(text) // 4 * 3 - len(text[-2:]) + len(text[-2:].rstrip("="))
    return _b64(text, nbytes)


def _dec_items(node: dict, tag: str, depth: int, st: _DecodeState) -> tuple[list, int]:
    _fields(node, tag, ("items",))
    items = _expect_list(node["items"], f"the items of a {tag}")
    depth = st.enter(depth)
    st.add_items(len(items))
    return items, depth


def _dec_key(node: Any, depth: int, st: _DecodeState) -> Any:
    kind = type(node)
    if kind is str:
        st.add_chars(len(node))
        return node
    if node is None or kind is bool or kind is int or kind is float:
        return node
    if kind is dict:
        tag = node.get(_TAG)
        if tag == "float":
            return _dec_float(node)
        if tag == "int":
            return _dec_int(node, depth, st)
        if tag == "tuple":
            items, depth = _dec_items(node, "tuple", depth, st)
            return tuple([_dec_key(item, depth, st) for item in items])
    raise _malformed("a dict key or name must be str, int, float, bool, None or a tuple")


def _shape(value: Any, st: _DecodeState) -> tuple[list[int], int]:
    shape = _expect_list(value, "an array shape")
    if len(shape) > _MAX_NDIM:
        raise _malformed(f"an array has more than {_MAX_NDIM} dimensions")
    count = 1
    for n in shape:
        if type(n) is not int or n < 0:
            raise _malformed("an array shape must hold non-negative integers")
        if n > st.limits.max_array_elements:
            raise CodecError(
                f"the data holds more than {st.limits.max_array_elements:,} array elements"
            )
        count *= n
    st.add_elements(count)
    return shape, count


def _dec_ndarray(node: dict, depth: int, st: _DecodeState) -> np.ndarray:
    _fields(node, "ndarray", ("dtype", "shape", "b64"))
    dtype = _dtype(node["dtype"])
    shape, count = _shape(node["shape"], st)
    data = _b64(node["b64"], count * dtype.itemsize)
    if count == 0:
        return np.empty(shape, dtype=dtype)
    if dtype.kind == "b":
        _check_bool_bytes(data)
    return np.frombuffer(data, dtype=dtype).reshape(shape).copy()


def _dec_npscalar(node: dict, depth: int, st: _DecodeState) -> Any:
    _fields(node, "npscalar", ("dtype", "b64"))
    dtype = _dtype(node["dtype"])
    data = _b64(node["b64"], dtype.itemsize)
    if dtype.kind == "b":
        _check_bool_bytes(data)
    return np.frombuffer(data, dtype=dtype)[0]


def _dec_ref(node: dict, depth: int, st: _DecodeState) -> Ref:
    _fields(node, "ref", ("id", "type"))
    ref_id = _expect_int(node["id"], "a ref id")
    type_name = node["type"]
    if type(type_name) is not str or len(type_name) > 1000:
        raise _malformed("a ref type must be a short string")
    return Ref(ref_id, type_name)
