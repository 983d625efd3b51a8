"""The shape of a JSON text, measured without parsing it.

``json.loads`` recurses once per nesting level and builds every value before any of our checks
can run, so decode bounds both nesting and the number of values first, with one linear pass
over the text; encode applies the same rule to its own output, so whatever encode produces,
decode accepts.
"""

import re

import numpy as np

from .wire import Limits

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
