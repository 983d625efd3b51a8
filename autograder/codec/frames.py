"""pandas DataFrames and Series, both ways: frames, series, their indexes and columns.

pandas is never imported to encode: a frame can only be met when the process has imported
pandas already. Decode imports it the first time a frame or series is met, so the kernel side
of the codec does not import pandas for a submission that never uses it.

Only a plain ``Index`` or ``RangeIndex`` and columns of a numeric numpy dtype, of object dtype
holding only str, or of a pandas str dtype travel; anything else is refused.
"""

from typing import Any

import numpy as np

from .decode_values import (
    _dec_key,
    _dec_ndarray,
    _DecodeState,
    _expect_int,
    _expect_list,
    _fields,
    _malformed,
)
from .encode_values import _array_node, _enc_key, _EncodeState, _Refusal
from .wire import _TAG, CodecError, _shorten, _wire_dtype, describe_type

# --------------------------------------------------------------------------------------------
# Encoding (only reachable when pandas is already imported in this process)


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


# --------------------------------------------------------------------------------------------
# Decoding


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
