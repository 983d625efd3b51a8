"""``decode``: the JSON text of the wire format, checked and rebuilt into a value.

Security rests here. ``decode`` bounds the text's length, then its nesting and number of JSON
values with a linear pre-scan (``scan``) before ``json.loads`` runs, rejects duplicate keys,
long number literals and NaN/Infinity while parsing, and then rebuilds only the types of the
wire format (counting set elements and non-str dict keys before hashing any, so the work is
bounded as well as the size), dispatching on the tag found under ``"$"`` through a fixed
table. Every field of every tagged object is checked and the limits are enforced before
allocating. It raises ``CodecError``, never another exception, on anything it does not like.
No pickle, no eval, no look-up of a class by a name found in the payload.
"""

import json
from typing import Any

from .decode_values import (
    _dec_bytes,
    _dec_complex,
    _dec_float,
    _dec_int,
    _dec_items,
    _dec_key,
    _dec_ndarray,
    _dec_npscalar,
    _dec_ref,
    _DecodeState,
    _malformed,
)
from .frames import _dec_frame, _dec_series
from .scan import _json_piece_limit, _json_structure_problem
from .wire import (
    _ENVELOPE_KEY,
    _TAG,
    DEFAULT_LIMITS,
    FORMAT_VERSION,
    CodecError,
    Limits,
    _shorten,
    describe_type,
)

# --------------------------------------------------------------------------------------------
# Parsing hooks for json.loads


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


# --------------------------------------------------------------------------------------------
# Containers


def _dec_tuple(node: dict, depth: int, st: _DecodeState) -> tuple:
    items, depth = _dec_items(node, "tuple", depth, st)
    return tuple([_dec(item, depth, st) for item in items])


def _dec_set(node: dict, depth: int, st: _DecodeState) -> Any:
    tag = node[_TAG]
    items, depth = _dec_items(node, tag, depth, st)
    st.add_hashed(len(items))
    out = set()
    for item in items:
        try:
            out.add(_dec(item, depth, st))
        except TypeError:
            raise _malformed(f"a {tag} holds an unhashable value") from None
    if len(out) != len(items):
        raise _malformed(f"a {tag} holds the same element twice")
    return out if tag == "set" else frozenset(out)


def _dec_dict(node: dict, depth: int, st: _DecodeState) -> dict:
    pairs, depth = _dec_items(node, "dict", depth, st)
    st.add_hashed(len(pairs))
    out = {}
    for pair in pairs:
        if type(pair) is not list or len(pair) != 2:
            raise _malformed("dict items must be [key, value] pairs")
        out[_dec_key(pair[0], depth, st)] = _dec(pair[1], depth, st)
    if len(out) != len(pairs):
        raise _malformed("a dict has the same key twice")
    return out


# --------------------------------------------------------------------------------------------
# Dispatch


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
