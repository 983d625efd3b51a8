"""Data-only codec for values that cross between the student's kernel and the trusted grader.

The same source text runs in two places. The grader imports it as ``autograder.codec``; the
sandboxed kernel, where ``autograder`` is not importable, receives the text of these modules
and builds them into a private package of its own (``install``). Each side encodes what it
sends (arguments one way, a student's return values the other) and decodes what it receives.
So the package stands alone: standard library and numpy at import time, pandas imported only
when a frame is met, nothing from this project, and only relative imports between its modules.

Security rests on ``decode``. It reads JSON and only ever builds the types of the wire format,
checks every field of every tagged object, enforces the size limits before allocating, and
raises ``CodecError`` (never another exception) on anything it does not like. No pickle, no
eval, no look-up of a class by a name found in the payload.

``encode`` runs in the student's process, among objects the student defined. It dispatches on
exact types, never on ``isinstance``, and never calls a method that a student's class could
override. Subclasses of supported types are not supported types.

Limits (``Limits``) bound the encoded length, container nesting, container items, array elements,
text characters, integer digits, and the set elements and non-str dict keys that decode hashes
(keys chosen to collide make hashing quadratic: the grader's time is bounded, not only memory).
Both sides enforce them, and decode checks the nesting and the number of JSON values with a
linear scan before ``json.loads`` runs (the json module recurses once per level and builds the
whole tree first). Encode refuses anything decode would refuse.

The modules, each imported only by those after it:

* ``wire``: the wire format, ``CodecError``, ``Limits``, ``Ref``, ``describe_type``, dtypes;
* ``scan``: the structure pre-scan of a JSON text;
* ``encode_values`` and ``decode_values``: values without children, and the running budgets;
* ``frames``: pandas DataFrames and Series, both ways;
* ``encoding`` and ``decoding``: the walk over containers, the dispatch, and the two entry points.

``install`` is not part of the codec: the grader uses it to ship these modules' text into the
kernel, where it builds them into a package.
"""

from .decoding import decode
from .encoding import encode
from .wire import DEFAULT_LIMITS, CodecError, Limits, Ref, describe_type
from .wire import FORMAT_VERSION as FORMAT_VERSION

__all__ = [
    "CodecError",
    "DEFAULT_LIMITS",
    "Limits",
    "Ref",
    "decode",
    "describe_type",
    "encode",
]

# The public classes keep the name they are reached by, in tracebacks and type names alike.
for _public in (CodecError, Limits, Ref):
    _public.__module__ = __name__
del _public
