"""Data-only codec for values that cross between the student's kernel and the trusted grader.

The same source text runs in two places. The grader imports it as ``autograder.codec``; the
sandboxed kernel, where ``autograder`` is not importable, receives this file's text and runs it
as code. Each side encodes what it sends (arguments one way, a student's return values the other)
and decodes what it receives. So the module stands alone: standard library and numpy at import
time, pandas imported only when a frame is met, nothing from this project.

Security rests on ``decode``. It reads JSON and only ever builds the types listed below, checks
every field of every tagged object, enforces the size limits before allocating, and raises
``CodecError`` (never another exception) on anything it does not like. No pickle, no eval, no
look-up of a class by a name found in the payload.

``encode`` runs in the student's process, among objects the student defined. It dispatches on
exact types (``type(value) is float``), never on ``isinstance``, and never calls a method that a
student's class could override, so a hostile ``__eq__``, ``__len__``, ``__float__``, ``__iter__``
or ``__reduce__`` is never run. Subclasses of supported types are not supported types.

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

Limits (``Limits``) bound the encoded length, container nesting, container items, array elements,
text characters and integer digits. Both sides enforce them, and decode checks the nesting and
the number of JSON values with a linear scan before ``json.loads`` runs (the json module recurses
once per level and builds the whole tree first). Encode refuses anything decode would refuse.
"""

import base64
import binascii
import json
import math
import re
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "CodecError",
    "DEFAULT_LIMITS",
    "Limits",
    "Ref",
    "decode",
    "describe_type",
    "encode",
]

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


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class Ref:
    """A handle to an object that stays in the kernel (a model, an instance of a student class)."""

    id: int
    type_name: str


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


# --------------------------------------------------------------------------------------------
# The shape of a JSON text, measured without parsing it. ``json.loads`` recurses once per nesting
# level and builds every value before any of our checks can run, so decode bounds both nesting
# and the number of values first; encode applies the same rule to its own output, so whatever
# encode produces, decode accepts.

# A JSON string, or an unterminated one running to the end of the text. Every '"' starts a
# match, so removing strings takes one linear pass whatever the text holds.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*\\?(?:"|\Z)', re.DOTALL)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
_CHUNK = 1 << 20


def _json_depth_limit(limits: Limits) -> int:
    # One container level takes at most 3 JSON levels (a dict written as [key, value] pairs),
    # plus a few for the envelope and for the fields of a tagged value.
    return 3 * limits.max_depth + 8


def _json_piece_limit(limits: Limits) -> int:
    # Commas and opening brackets: about one per list item or dict entry, a few per array or
    # frame. Bounds the work json.loads does on a hostile text (3M empty lists: ~0.5 s, ~250 MB).
    return 3 * limits.max_items + 4096


def _json_structure_problem(text: str, limits: Limits) -> str | None:
    """Why ``text`` is too deep or has too many pieces to parse, or None."""
    depth_limit = _json_depth_limit(limits)
    piece_limit = _json_piece_limit(limits)
    opens = text.count("[") + text.count("{")
    if opens <= depth_limit and opens + text.count(",") <= piece_limit:
        return None  # cannot be too deep or too big, whatever is inside strings
    outside = _JSON_STRING.sub("", text)
    if outside.count(",") + outside.count("[") + outside.count("{") > piece_limit:
        return "too many pieces"
    codes = np.frombuffer(_NOT_BRACKETS.sub("", outside).encode("ascii"), dtype=np.uint8)
    deepest = level = 0
    for start in range(0, len(codes), _CHUNK):
        chunk = codes[start : start + _CHUNK]
        # '[' 0x5b and '{' 0x7b have bit 1 set; ']' 0x5d and '}' 0x7d do not.
        steps = ((chunk & 2).astype(np.int64) - 1).cumsum() + level
        deepest = max(deepest, int(steps.max()))
        level = int(steps[-1])
        if deepest > depth_limit:
            return "too deep"
    return None


# --------------------------------------------------------------------------------------------
# Encoding


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


def _key_text(key: Any) -> str:
    # Only called on keys already checked to be str, int, float, bool, None or tuples of those.
    try:
        return f"[{_shorten(repr(key), 40)}]"
    except ValueError:  # repr() of an int with thousands of digits
        return "[<a large int>]"


_UNSUPPORTED_HINTS = {
    "generator": "; turn it into a list first",
    "map": "; turn it into a list first",
    "filter": "; turn it into a list first",
    "zip": "; turn it into a list first",
    "range": "; turn it into a list first",
    "dict_keys": "; turn it into a list first",
    "dict_values": "; turn it into a list first",
    "dict_items": "; turn it into a list first",
    "numpy.matrix": "; use np.asarray(...) to get a plain array",
    "numpy.ma.MaskedArray": "; use np.asarray(...) to get a plain array",
}


class _EncodeState:
    __slots__ = ("limits", "make_ref", "items", "elements", "chars", "size", "active")

    def __init__(self, limits: Limits, make_ref: Any) -> None:
        self.limits = limits
        self.make_ref = make_ref
        self.items = 0
        self.elements = 0
        self.chars = 0
        self.size = 0  # running estimate of the encoded length
        self.active: set[int] = set()  # ids of the containers being encoded (cycle check)

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


_LOG2_10 = 3.321928094887362


def _too_many_digits(value: int, digits: int) -> bool:
    """Whether ``abs(value)`` has more than ``digits`` decimal digits, without printing it."""
    bits = value.bit_length()  # 2**(bits-1) <= abs(value) < 2**bits
    if bits <= digits * _LOG2_10 - 1:
        return False
    if bits - 1 > digits * _LOG2_10 + 1:
        return True
    return abs(value) >= 10**digits


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


def _enc_list(value: list, depth: int, st: _EncodeState) -> list:
    depth = st.enter(value, depth)
    st.add_items(len(value))
    st.add_size(len(value) + 2)
    out = []
    try:
        for item in value:
            out.append(_enc(item, depth, st))
    except _Refusal as refusal:
        refusal.path.append(f"[{len(out)}]")
        raise
    st.active.discard(id(value))
    return out


def _enc_tuple(value: tuple, depth: int, st: _EncodeState) -> dict:
    return {_TAG: "tuple", "items": _enc_list(value, depth, st)}  # type: ignore[arg-type]


def _enc_set(value: Any, depth: int, st: _EncodeState) -> dict:
    tag = "set" if type(value) is set else "frozenset"
    depth = st.enter(value, depth)
    st.add_items(len(value))
    out = []
    try:
        for item in value:
            out.append(_enc(item, depth, st))
    except _Refusal as refusal:
        refusal.path.append("[<set element>]")
        raise
    st.active.discard(id(value))
    return {_TAG: tag, "items": out}


def _enc_dict(value: dict, depth: int, st: _EncodeState) -> dict:
    depth = st.enter(value, depth)
    st.add_items(len(value))
    # Only exact str keys make a plain JSON object; `in` is evaluated after that is known, so
    # it never compares against a student's key object.
    plain = all(type(k) is str for k in value) and _TAG not in value
    out: dict = {}
    pairs = []
    for key, item in value.items():
        if plain:
            st.add_chars(len(key))
        else:
            encoded_key = _enc_key(key, depth, st, "a dict key")  # refusals name this dict
        try:
            encoded = _enc(item, depth, st)
        except _Refusal as refusal:
            refusal.path.append(_key_text(key))
            raise
        if plain:
            out[key] = encoded
        else:
            pairs.append([encoded_key, encoded])
    st.active.discard(id(value))
    return out if plain else {_TAG: "dict", "items": pairs}


def _enc_ref(ref: Ref, st: _EncodeState) -> dict:
    if type(ref.id) is not int or type(ref.type_name) is not str:
        raise _Refusal("{what} is a malformed handle (Ref with a non-int id or non-str type)")
    st.add_size(len(ref.type_name) + 40)
    return {_TAG: "ref", "id": ref.id, "type": ref.type_name}


# ---- pandas (only reachable when pandas is already imported in this process)


def _enc_label_list(labels: list) -> list[str]:
    return [_shorten(repr(x), 40) if type(x) is str else _shorten(str(x), 40) for x in labels]


def _enc_column(obj: Any, st: _EncodeState, pd: Any, owner: str, part: str) -> dict:
    """Values of a Series or an Index (numeric numpy dtype, object holding only str, or str)."""
    dtype = obj.dtype
    if type(dtype) is pd.StringDtype:
        values = obj.to_numpy(dtype=object, na_value=None)
        allow_missing = True
        wire_dtype = dtype.name  # "str" (missing is NaN) or "string" (missing is pd.NA)
        storage = dtype.storage
    elif isinstance(dtype, np.dtype) and dtype.kind == "O":
        values = obj.to_numpy()
        allow_missing = False
        wire_dtype = "object"
        storage = None
    elif isinstance(dtype, np.dtype) and _wire_dtype(dtype) is not None:
        array = obj.to_numpy()
        if type(array) is not np.ndarray or array.ndim != 1:  # pragma: no cover - pandas
            raise _Refusal(f"{{what}} is {owner}: {part} could not be read as an array")
        return _array_node(array, _wire_dtype(dtype), st)
    else:
        raise _Refusal(
            f"{{what}} is {owner}: {part} has dtype {_shorten(str(dtype))}, which cannot be "
            "graded (only numeric, bool and str data can)"
        )
    if type(values) is not np.ndarray or values.ndim != 1:  # pragma: no cover - pandas
        raise _Refusal(f"{{what}} is {owner}: {part} could not be read as an array")
    st.add_items(len(values))
    st.add_size(3 * len(values))
    out = values.tolist()
    for item in out:
        if type(item) is str:
            st.add_chars(len(item))
        elif not (item is None and allow_missing):
            raise _Refusal(
                f"{{what}} is {owner}: {part} holds a value of type {describe_type(item)}, "
                "which cannot be graded (object data must be all str)"
            )
    return {_TAG: "strcol", "dtype": wire_dtype, "storage": storage, "values": out}


def _enc_index(index: Any, st: _EncodeState, pd: Any, owner: str, part: str) -> dict:
    name = _enc_key(index.name, 0, st, f"a name on {part}")
    if type(index) is pd.RangeIndex:
        start, stop, step = index.start, index.stop, index.step
        st.add_elements(len(range(start, stop, step)))
        return {_TAG: "range", "start": start, "stop": stop, "step": step, "name": name}
    if type(index) is not pd.Index:
        raise _Refusal(
            f"{{what}} is {owner}: {part} is a {describe_type(index)}, which cannot be graded "
            "(only a plain Index or RangeIndex of numbers or str can)"
        )
    return {_TAG: "index", "values": _enc_column(index, st, pd, owner, part), "name": name}


def _enc_frame(frame: Any, st: _EncodeState, pd: Any) -> dict:
    owner = "a DataFrame"
    index = _enc_index(frame.index, st, pd, owner, "its index")
    columns = _enc_index(frame.columns, st, pd, owner, "its column labels")
    ncols = frame.shape[1]
    st.add_items(ncols)
    labels = _enc_label_list(frame.columns.tolist())
    data = [
        _enc_column(frame.iloc[:, i], st, pd, owner, f"column {labels[i]}") for i in range(ncols)
    ]
    return {_TAG: "dataframe", "index": index, "columns": columns, "data": data}


def _enc_series(series: Any, st: _EncodeState, pd: Any) -> dict:
    owner = "a Series"
    return {
        _TAG: "series",
        "name": _enc_key(series.name, 0, st, "a name"),
        "index": _enc_index(series.index, st, pd, owner, "its index"),
        "values": _enc_column(series, st, pd, owner, "its values"),
    }


# ---- dispatch


def _enc_other(value: Any, depth: int, st: _EncodeState) -> Any:
    kind = type(value)
    scalar_type = _NP_SCALAR_TYPES.get(id(kind))
    if scalar_type is not None and scalar_type is kind:
        return _enc_npscalar(value, st)
    pd = sys.modules.get("pandas")
    if pd is not None:
        if kind is getattr(pd, "DataFrame", None):
            return _enc_frame(value, st, pd)
        if kind is getattr(pd, "Series", None):
            return _enc_series(value, st, pd)
    if st.make_ref is not None:
        ref = st.make_ref(value)
        if type(ref) is not Ref:
            raise CodecError(f"make_ref returned {describe_type(ref)}, not a Ref")
        return _enc_ref(ref, st)
    type_name = describe_type(value)
    hint = _UNSUPPORTED_HINTS.get(type_name, "")
    raise _Refusal(f"{{what}} is an object of type {type_name}, which cannot be graded{hint}")


def _enc(value: Any, depth: int, st: _EncodeState) -> Any:
    kind = type(value)
    if kind is float:
        return _enc_float(value)
    if kind is int:
        return _enc_int(value, st)
    if kind is str:
        st.add_chars(len(value))
        return value
    if value is None or kind is bool:
        return value
    if kind is list:
        return _enc_list(value, depth, st)
    if kind is dict:
        return _enc_dict(value, depth, st)
    if kind is tuple:
        return _enc_tuple(value, depth, st)
    if kind is np.ndarray:
        return _enc_ndarray(value, st)
    if kind is complex:
        return {_TAG: "complex", "re": _enc_float(value.real), "im": _enc_float(value.imag)}
    if kind is bytes:
        return _enc_bytes(value, st)
    if kind is set or kind is frozenset:
        return _enc_set(value, depth, st)
    if kind is Ref:
        return _enc_ref(value, st)
    return _enc_other(value, depth, st)


def encode(
    value: Any,
    limits: Limits = DEFAULT_LIMITS,
    make_ref: Any = None,
    name: str = "the value",
) -> str:
    """Encode ``value`` as compact ASCII JSON text, or raise ``CodecError`` saying why not.

    ``make_ref(obj) -> Ref``, when given, is called for each object of an unsupported type, and
    the returned handle is encoded in its place. ``name`` is how messages refer to the value.
    """
    st = _EncodeState(limits, make_ref)
    try:
        node = _enc(value, 0, st)
        text = json.dumps(
            {_ENVELOPE_KEY: FORMAT_VERSION, "value": node},
            ensure_ascii=True,
            allow_nan=False,
            check_circular=False,
            separators=(",", ":"),
        )
        if len(text) > limits.max_bytes:
            raise _too_large(limits)
        if _json_structure_problem(text, limits) is not None:
            raise _Refusal(
                f"{{what}} is made of too many pieces to grade (its encoding has more than "
                f"{_json_piece_limit(limits):,} list items, dict entries and array fields)",
                with_path=False,
            )
    except _Refusal as refusal:
        raise CodecError(refusal.render(name)) from None
    except RecursionError:
        what = "The value" if name == "the value" else f"`{name}`"
        raise CodecError(f"{what} is nested too deeply to be graded") from None
    return text


# --------------------------------------------------------------------------------------------
# Decoding. The text is hostile: every check below raises CodecError.


_HEX_INT = re.compile(r"-?[0-9a-f]+")


def _malformed(detail: str) -> CodecError:
    return CodecError(f"the encoded data is malformed: {detail}")


def _json_object(pairs: list) -> dict:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise _malformed("an object has the same key twice")
    return out


def _json_int(text: str) -> int:
    if len(text) > 21:
        raise _malformed("an integer literal is too long")
    return int(text)


def _json_float(text: str) -> float:
    if len(text) > 32:
        raise _malformed("a number literal is too long")
    return float(text)


def _json_constant(text: str) -> Any:
    raise _malformed(f"{text} is not allowed in the data")


class _DecodeState:
    __slots__ = ("limits", "items", "elements", "chars")

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.items = 0
        self.elements = 0
        self.chars = 0

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


def _dec_tuple(node: dict, depth: int, st: _DecodeState) -> tuple:
    items, depth = _dec_items(node, "tuple", depth, st)
    return tuple([_dec(item, depth, st) for item in items])


def _dec_set(node: dict, depth: int, st: _DecodeState) -> Any:
    tag = node[_TAG]
    items, depth = _dec_items(node, tag, depth, st)
    out = set()
    for item in items:
        try:
            out.add(_dec(item, depth, st))
        except TypeError:
            raise _malformed(f"a {tag} holds an unhashable value") from None
    if len(out) != len(items):
        raise _malformed(f"a {tag} holds the same element twice")
    return out if tag == "set" else frozenset(out)


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


def _dec_dict(node: dict, depth: int, st: _DecodeState) -> dict:
    pairs, depth = _dec_items(node, "dict", depth, st)
    out = {}
    for pair in pairs:
        if type(pair) is not list or len(pair) != 2:
            raise _malformed("dict items must be [key, value] pairs")
        out[_dec_key(pair[0], depth, st)] = _dec(pair[1], depth, st)
    if len(out) != len(pairs):
        raise _malformed("a dict has the same key twice")
    return out


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


# ---- pandas


def _pandas() -> Any:
    try:
        import pandas
    except ImportError:  # pragma: no cover - pandas is a dependency of the grader
        raise CodecError("the data holds a pandas object, but pandas is not installed") from None
    return pandas


def _string_dtype(pd: Any, wire: str, storage: Any) -> Any:
    if storage not in ("python", "pyarrow"):
        raise _malformed("a str column has an unknown storage")
    kwargs = {"na_value": np.nan} if wire == "str" else {}
    try:
        return pd.StringDtype(storage, **kwargs)
    except (ImportError, TypeError, ValueError):
        try:  # e.g. the other side had pyarrow and this one has not
            return pd.StringDtype(**kwargs)
        except (ImportError, TypeError, ValueError):
            raise CodecError(f"this pandas cannot build a column of dtype {wire}") from None


def _dec_column(node: Any, length: int | None, st: _DecodeState, pd: Any) -> Any:
    """A column: a 1-d ndarray, an object ndarray of str, or a pandas string array."""
    if type(node) is not dict:
        raise _malformed("a column must be an object")
    tag = node.get(_TAG)
    if tag == "ndarray":
        array = _dec_ndarray(node, 0, st)
        if array.ndim != 1:
            raise _malformed("a column must be one-dimensional")
        values = array
    elif tag == "strcol":
        _fields(node, "strcol", ("dtype", "storage", "values"))
        wire = node["dtype"]
        items = _expect_list(node["values"], "the values of a str column")
        st.add_items(len(items))
        st.add_elements(len(items))
        if wire == "object":
            if node["storage"] is not None:
                raise _malformed("an object column has no storage")
            for item in items:
                if type(item) is not str:
                    raise _malformed("an object column must hold only str")
                st.add_chars(len(item))
            values = np.empty(len(items), dtype=object)
            values[:] = items
        elif wire == "str" or wire == "string":
            dtype = _string_dtype(pd, wire, node["storage"])
            for item in items:
                if type(item) is str:
                    st.add_chars(len(item))
                elif item is not None:
                    raise _malformed("a str column must hold only str or null")
            values = pd.array(items, dtype=dtype)
        else:
            raise _malformed("a str column has an unknown dtype")
    else:
        raise _malformed("a column must be an ndarray or a strcol")
    if length is not None and len(values) != length:
        raise _malformed("a column's length does not match its index")
    return values


def _dec_index(node: Any, st: _DecodeState, pd: Any) -> Any:
    if type(node) is not dict:
        raise _malformed("an index must be an object")
    tag = node.get(_TAG)
    if tag == "range":
        _fields(node, "range", ("start", "stop", "step", "name"))
        start = _expect_int(node["start"], "a range start")
        stop = _expect_int(node["stop"], "a range stop")
        step = _expect_int(node["step"], "a range step")
        if step == 0 or max(abs(start), abs(stop), abs(step)) >= 2**63:
            raise _malformed("a range index is out of bounds")
        st.add_elements(len(range(start, stop, step)))
        return pd.RangeIndex(start, stop, step, name=_dec_key(node["name"], 0, st))
    if tag == "index":
        _fields(node, "index", ("values", "name"))
        name = _dec_key(node["name"], 0, st)
        values = _dec_column(node["values"], None, st, pd)
        if type(values) is np.ndarray:
            return pd.Index(values, dtype=values.dtype, name=name, copy=False)
        return pd.Index(values, name=name)
    raise _malformed("an index must be a range or an index")


def _dec_series(node: dict, depth: int, st: _DecodeState) -> Any:
    _fields(node, "series", ("name", "index", "values"))
    pd = _pandas()
    name = _dec_key(node["name"], 0, st)
    index = _dec_index(node["index"], st, pd)
    values = _dec_column(node["values"], len(index), st, pd)
    dtype = values.dtype if type(values) is np.ndarray else None
    return pd.Series(values, index=index, dtype=dtype, name=name, copy=False)


def _dec_frame(node: dict, depth: int, st: _DecodeState) -> Any:
    _fields(node, "dataframe", ("index", "columns", "data"))
    pd = _pandas()
    index = _dec_index(node["index"], st, pd)
    columns = _dec_index(node["columns"], st, pd)
    data = _expect_list(node["data"], "the columns of a dataframe")
    if len(data) != len(columns):
        raise _malformed("a dataframe has a different number of columns and column labels")
    st.add_items(len(data))
    series = {}
    for position, column in enumerate(data):
        values = _dec_column(column, len(index), st, pd)
        dtype = values.dtype if type(values) is np.ndarray else None
        # Series that share one index object are not realigned, even with repeated labels, and
        # an explicit object dtype is kept (pandas 3 would otherwise infer str).
        series[position] = pd.Series(values, index=index, dtype=dtype, copy=False)
    frame = pd.DataFrame(series, index=index) if series else pd.DataFrame(index=index)
    frame.columns = columns
    return frame


_DECODERS = {
    "float": _dec_float,
    "int": _dec_int,
    "complex": _dec_complex,
    "bytes": _dec_bytes,
    "tuple": _dec_tuple,
    "set": _dec_set,
    "frozenset": _dec_set,
    "dict": _dec_dict,
    "npscalar": _dec_npscalar,
    "ndarray": _dec_ndarray,
    "dataframe": _dec_frame,
    "series": _dec_series,
    "ref": _dec_ref,
}


def _dec(node: Any, depth: int, st: _DecodeState) -> Any:
    kind = type(node)
    if kind is str:
        st.add_chars(len(node))
        return node
    if kind is float or kind is int or kind is bool or node is None:
        return node
    if kind is list:
        depth = st.enter(depth)
        st.add_items(len(node))
        return [_dec(item, depth, st) for item in node]
    # A JSON object: a plain dict with str keys, or a tagged value.
    if _TAG not in node:
        depth = st.enter(depth)
        st.add_items(len(node))
        out = {}
        for key, item in node.items():
            st.add_chars(len(key))
            out[key] = _dec(item, depth, st)
        return out
    tag = node[_TAG]
    decoder = _DECODERS.get(tag) if type(tag) is str else None
    if decoder is None:
        raise _malformed(f"unknown tag {_shorten(repr(tag), 40)}")
    return decoder(node, depth, st)


def decode(text: str | bytes, limits: Limits = DEFAULT_LIMITS) -> Any:
    """Rebuild a value from ``encode``'s text; ``CodecError`` for anything else."""
    kind = type(text)
    if kind is bytes or kind is bytearray:
        if len(text) > limits.max_bytes:
            raise CodecError(f"the data is larger than {limits.max_bytes:,} bytes")
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise _malformed("the text is not UTF-8") from None
    elif kind is str:
        if len(text) > limits.max_bytes:
            raise CodecError(f"the data is larger than {limits.max_bytes:,} bytes")
    else:
        raise CodecError(f"can only decode str or bytes, not {describe_type(text)}")

    try:
        problem = _json_structure_problem(text, limits)
        if problem == "too deep":
            raise CodecError(f"the data is nested more than {limits.max_depth} levels deep")
        if problem is not None:
            raise CodecError(
                f"the data has more than {_json_piece_limit(limits):,} separate pieces "
                f"(the limit is about {limits.max_items:,} items)"
            )
        document = json.loads(
            text,
            object_pairs_hook=_json_object,
            parse_int=_json_int,
            parse_float=_json_float,
            parse_constant=_json_constant,
        )
    except CodecError:
        raise
    except (ValueError, RecursionError, UnicodeError):
        raise _malformed("it is not valid JSON") from None

    if (
        type(document) is not dict
        or set(document) != {_ENVELOPE_KEY, "value"}
        or type(document[_ENVELOPE_KEY]) is not int
    ):
        raise _malformed("it is not an nngrade codec document")
    if document[_ENVELOPE_KEY] != FORMAT_VERSION:
        raise CodecError(
            f"the data uses codec version {document[_ENVELOPE_KEY]}, "
            f"but this copy of the codec reads version {FORMAT_VERSION}"
        )
    try:
        return _dec(document["value"], 0, _DecodeState(limits))
    except CodecError:
        raise
    except RecursionError:
        raise CodecError(f"the data is nested more than {limits.max_depth} levels deep") from None
    except Exception as exc:  # a safety net: decode must only ever raise CodecError
        raise _malformed(f"{type(exc).__name__} while rebuilding it") from None
