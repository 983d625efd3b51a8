"""The vocabulary both directions share: the envelope, the public types, limits and dtypes.

Wire format: compact ASCII JSON, ``{"nngrade_codec": 1, "value": V}``. ``V`` is

* ``null``, ``true``/``false``, a finite float, an int of at most 64 bits, a str, a list, or a
  JSON object whose keys are str (a dict with str keys, none of them ``"$"``);
* otherwise an object with a tag under the reserved key ``"$"``:

  ========== =================================================================================
  float      ``{"$": "float", "v": "nan" | "inf" | "-inf"}``
  int        ``{"$": "int", "hex": "-1f..."}`` (beyond 64 bits)
  complex    ``{"$": "complex", "re": F, "im": F}``
  bytes      ``{"$": "bytes", "b64": ...}``
  tuple      ``{"$": "tuple", "items": [...]}``; ``set`` and ``frozenset`` alike
  dict       ``{"$": "dict", "items": [[K, V], ...]}`` (non-str keys, or a ``"$"`` key)
  npscalar   ``{"$": "npscalar", "dtype": "<f8", "b64": ...}``
  ndarray    ``{"$": "ndarray", "dtype": "<f8", "shape": [2, 3], "b64": ...}`` (C order)
  dataframe  ``{"$": "dataframe", "index": I, "columns": I, "data": [C, ...]}``
  series     ``{"$": "series", "name": K, "index": I, "values": C}``
  ref        ``{"$": "ref", "id": 7, "type": "keras.src.models.sequential.Sequential"}``
  ========== =================================================================================

  where ``I`` is ``{"$": "range", "start", "stop", "step", "name"}`` or
  ``{"$": "index", "values": C, "name": K}`` and a column ``C`` is a one-dimensional ``ndarray``
  object or ``{"$": "strcol", "dtype": "object" | "str" | "string", "storage": ..., "values":
  [...]}``.

numpy arrays and scalars travel with an explicit little-endian dtype string from a fixed list
(``_WIRE_DTYPES``); nothing else is ever turned into a dtype.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np

FORMAT_VERSION = 1
_ENVELOPE_KEY = "nngrade_codec"
_TAG = "$"


class CodecError(ValueError):
    """A value that cannot be encoded, or a text that is not a valid encoding."""


@dataclass(frozen=True)
class Limits:
    """Caps applied to one value, both when encoding and when decoding."""

    max_bytes: int = 64 * 2**20  # length of the encoded text
    max_depth: int = 64  # nesting of containers (list, tuple, dict, set, frozenset)
    max_items: int = 1_000_000  # container items plus dict entries, in total
    max_array_elements: int = 20_000_000  # over all arrays, frames and indexes in the value
    max_str_chars: int = 10 * 2**20  # over all strings, dict keys and str columns
    max_int_digits: int = 10_000  # decimal digits of one int
    # Set and frozenset elements plus the keys of dicts that are not plain JSON objects, in
    # total: each is hashed into a table, and keys chosen to hash alike make that quadratic
    # (22,000 ints in one 1 MB reply: 3 s of the grader's CPU; 4,096: about 0.1 s).
    max_hashed_items: int = 4096


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class Ref:
    """A handle to an object that stays in the kernel (a model, an instance of a student class)."""

    id: int
    type_name: str


# The size of an int against ``Limits.max_int_digits``, checked the same way in both directions.

_LOG2_10 = 3.321928094887362


def _too_many_digits(value: int, digits: int) -> bool:
    """Whether ``abs(value)`` has more than ``digits`` decimal digits, without printing it."""
    bits = value.bit_length()  # 2**(bits-1) <= abs(value) < 2**bits
    if bits <= digits * _LOG2_10 - 1:
        return False
    if bits - 1 > digits * _LOG2_10 + 1:
        return True
    return abs(value) >= 10**digits


# --------------------------------------------------------------------------------------------
# Type names, read without running anything a student's class (or metaclass) defines.

_type_qualname = type.__dict__["__qualname__"].__get__
_type_module = type.__dict__["__module__"].__get__


def describe_type(value: Any) -> str:
    """``module.QualName`` of ``type(value)``; builtins without the module."""
    kind = type(value)
    try:
        qualname = _type_qualname(kind)
        module = _type_module(kind)
    except Exception:
        return "<unknown type>"
    if type(qualname) is not str:
        qualname = "<unknown type>"
    if type(module) is not str or module == "builtins":
        return qualname
    return f"{module}.{qualname}"


# --------------------------------------------------------------------------------------------
# numpy dtypes on the wire: explicit little-endian strings from a fixed list.

_WIRE_DTYPES = {
    "b1": "|b1",
    "i1": "|i1",
    "u1": "|u1",
    "i2": "<i2",
    "u2": "<u2",
    "i4": "<i4",
    "u4": "<u4",
    "i8": "<i8",
    "u8": "<u8",
    "f2": "<f2",
    "f4": "<f4",
    "f8": "<f8",
    "c8": "<c8",
    "c16": "<c16",
}
_DTYPE_FROM_WIRE = {wire: np.dtype(wire) for wire in _WIRE_DTYPES.values()}
_DTYPE_KIND_NAMES = {
    "O": "object",
    "U": "str",
    "S": "bytes",
    "V": "void",
    "M": "datetime64",
    "m": "timedelta64",
    "T": "StringDType",
}
_NUMERIC_HINT = "only bool, integer, float and complex arrays can"
_MAX_NDIM = 32


def _wire_dtype(dtype: np.dtype) -> str | None:
    return _WIRE_DTYPES.get(f"{dtype.kind}{dtype.itemsize}")


def _dtype_short_name(dtype: np.dtype) -> str:
    if dtype.names is not None:
        return "structured"
    return _DTYPE_KIND_NAMES.get(dtype.kind, dtype.name)


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


# numpy scalar types, keyed by id() so that dispatch never hashes a student's type object.
_NP_SCALAR_TYPES = {}
for _code in "?bBhHiIlLqQefdFD":
    _scalar_type = np.dtype(_code).type
    _NP_SCALAR_TYPES[id(_scalar_type)] = _scalar_type
del _code, _scalar_type
