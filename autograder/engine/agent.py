"""The agent that answers the grader's requests from inside the student's kernel.

This file is not imported by the grader: its source text is sent into the sandboxed kernel,
after the student's cells have run, and executed there as a module whose global ``codec`` is
the data-only codec (also sent as source, and built there into the private package
``_nngrade_codec`` by ``autograder/codec/install.py``). It therefore imports nothing from
``autograder``.

Nothing here is trusted. The student's code runs in the same interpreter and may replace the
agent, the codec or anything else; the grader treats every reply as untrusted data, so the
worst a submission can do is reply with wrong data, which is a wrong answer.

Protocol: the grader executes ``__nngrade_agent__.handle("<request>")`` where the request is
codec text for a dict, and the agent publishes exactly one display message of type
``MIME`` whose text is codec text for the reply dict:

    {"op": "get", "name": "forward"}                       -> {"value": <data or Ref>}
                                                               {"missing": True}
                                                               {"module": "numpy"}
    {"op": "call", "ref": 3, "args": [...], "kwargs": {}}  -> {"value": ...} or {"error": {...}}
    {"op": "getattr", "ref": 3, "name": "predict"}         -> {"value": ...} or {"error": {...}}
    {"op": "types"}                                        -> {"value": ["__main__.Net", ...]}

``types`` lists the names of the notebook's classes and of its globals' types; the grader asks
once, before the first hidden test, and names only those (and the built-in exceptions) in a
hidden test's messages.

A call may also carry ``"npy_args": [[0, "/work/.../x.npy"], ...]`` and ``"npy_kwargs":
[["x", path], ...]``: those arguments are large arrays that the grader wrote as ``.npy`` files
in the work folder; they are loaded with ``allow_pickle=False``.

Objects the codec cannot carry (functions, a Keras model, a student's class instance) stay in
the kernel; the reply carries a ``Ref`` handle the grader can call or read attributes from.
"""

import types

codec = None  # replaced by the installer with the codec module before any request

MIME = "text/x-nngrade-reply"
MAX_MESSAGE_CHARS = 2000


class Agent:
    def __init__(self, user_ns):
        self.user_ns = user_ns
        self.objects = {}
        self.next_id = 1

    # ---------------------------------------------------------------- handles

    def make_ref(self, obj):
        ref_id = self.next_id
        self.next_id += 1
        self.objects[ref_id] = obj
        return codec.Ref(ref_id, codec.describe_type(obj))

    def resolve(self, value):
        """Replace Ref handles in decoded arguments by the objects they stand for."""
        if type(value) is codec.Ref:
            return self.objects[value.id]
        if type(value) is list:
            return [self.resolve(v) for v in value]
        if type(value) is tuple:
            return tuple(self.resolve(v) for v in value)
        if type(value) is dict:
            return {k: self.resolve(v) for k, v in value.items()}
        return value

    # ---------------------------------------------------------------- requests

    def answer(self, request):
        op = request["op"]
        if op == "types":
            return {"value": _type_names(self.user_ns)}
        if op == "get":
            name = request["name"]
            if name not in self.user_ns:
                return {"missing": True}
            value = self.user_ns[name]
            if type(value) is types.ModuleType:
                return {"module": value.__name__}
            return {"value": value}
        target = self.objects[request["ref"]]
        if op == "call":
            args = self.resolve(request["args"])
            kwargs = self.resolve(request["kwargs"])
            for index, path in request.get("npy_args", ()):
                args[index] = _load_npy(path)
            for name, path in request.get("npy_kwargs", ()):
                kwargs[name] = _load_npy(path)
            return {"value": target(*args, **kwargs)}
        if op == "getattr":
            return {"value": getattr(target, request["name"])}
        raise ValueError(f"unknown request {op!r}")

    def handle(self, text):
        from IPython.display import publish_display_data

        try:
            reply = self.answer(codec.decode(text))
        except Exception as error:  # the student's code raised: report it as data
            reply = {"error": {"type": type(error).__name__, "message": _safe_str(error)}}
        try:
            payload = codec.encode(reply, make_ref=self.make_ref)
        except codec.CodecError as error:
            payload = codec.encode({"codec_error": str(error)})
        publish_display_data({MIME: payload})


_qualname = type.__dict__["__qualname__"].__get__
_module = type.__dict__["__module__"].__get__


def _type_names(user_ns):
    names = set()
    for value in list(user_ns.values()):
        names.add(codec.describe_type(value))
        if isinstance(value, type):
            try:
                qualname, module = _qualname(value), _module(value)
            except Exception:
                continue
            if type(qualname) is str and type(module) is str:
                names.add(qualname)
                names.add(qualname if module == "builtins" else f"{module}.{qualname}")
    return sorted(names)[:4000]


def _load_npy(path):
    import numpy

    return numpy.load(path, allow_pickle=False)


def _safe_str(error):
    try:
        return str(error)[:MAX_MESSAGE_CHARS]
    except Exception:
        return "(the exception's message could not be read)"
