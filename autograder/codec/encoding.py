"""``encode``: a value walked by exact type into the JSON text of the wire format.

``encode`` runs in the student's process, among objects the student defined. It dispatches on
exact types (``type(value) is float``), never on ``isinstance``, and never calls a method that a
student's class could override, so a hostile ``__eq__``, ``__len__``, ``__float__``,
``__iter__`` or ``__reduce__`` is never run. Subclasses of supported types are not supported
types. Containers are walked here; the values without children are in ``encode_values`` and
pandas objects in ``frames``. Encode refuses anything decode would refuse, with a message that
says which element and why.
"""

import json
import sys
from typing import Any

import numpy as np

from .encode_values import (
    _enc_bytes,
    _enc_float,
    _enc_int,
    _enc_key,
    _enc_ndarray,
    _enc_npscalar,
    _enc_ref,
    _EncodeState,
    _Refusal,
    _too_large,
)
from .frames import _enc_frame, _enc_series
from .scan import _json_piece_limit, _json_structure_problem
from .wire import (
    _ENVELOPE_KEY,
    _NP_SCALAR_TYPES,
    _TAG,
    DEFAULT_LIMITS,
    FORMAT_VERSION,
    CodecError,
    Limits,
    Ref,
    _shorten,
    describe_type,
)


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


# --------------------------------------------------------------------------------------------
# Containers


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
    st.add_hashed(len(value))
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
    if not plain:
        st.add_hashed(len(value))
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


# --------------------------------------------------------------------------------------------
# Dispatch


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
