"""The grader's side of the kernel boundary: proxies for the student's globals.

A test parameter named ``forward`` is bound to whatever the student's global ``forward`` is:

* plain data (numbers, strings, lists, numeric arrays, DataFrames) is fetched and decoded;
* anything else (a function, a class, a model) becomes a :class:`RemoteRef`: calling it or
  reading an attribute sends a request to the kernel and brings back data or another handle;
* a module becomes the grader's own module of that name when it is a well-known library,
  else ``None``; a missing global is ``None``, as in otter.

A large numeric array passed as an argument of a call (say the 10,000 MNIST test images for
``model.predict``) does not travel as codec text inside the execute request: the grader writes
it as a ``.npy`` file into the submission's work folder (a fresh name, created exclusively and
never through a symlink) and the agent loads it with ``np.load(..., allow_pickle=False)``. That
is data only in both directions, and much faster than a string literal of tens of megabytes
(``benchmarks/ps3_grading.py`` measures both). The file is removed after the call.

Every failure that is the submission's doing surfaces as an ``AssertionError`` subclass with a
message for the student, so a test that calls student code fails cleanly and the grader's own
traceback is never shown.

**Hidden tests see no text from the student's process.** The student's function receives a
hidden test's inputs and could echo them back in anything it controls: an exception's message,
an exception's or a class's name, the text of a codec error, the tag of a malformed reply. So
from the first hidden test on (:meth:`Remote.withhold_student_text`; the engine runs the public
tests first), messages name the call and what went wrong, never that text: an exception's type
is shown only when it is a built-in one or a type the notebook had defined before any hidden
input was sent (the agent lists them at that moment, and handles received until then add
theirs), and a handle's type likewise. Public tests keep the messages: the student wrote
those inputs.

**Silent requests.** The grader's requests are executed as silent requests (Jupyter's
``silent=True``): the notebook's execution count and history do not move, no
``execute_input`` is broadcast, and IPython fires no ``pre_run_cell``/``post_run_cell``
event, so a hook the notebook registered there is never handed a request's text (which holds
a hidden test's inputs). ``pre_execute``/``post_execute`` still fire, without the text.

**Time.** Every exchange waits at most ``call_timeout`` and never past the submission's
:class:`~autograder.engine.deadline.Deadline`; past it, an exchange raises
:class:`DeadlineExceeded` at once.
"""

from __future__ import annotations

import builtins
import contextlib
import importlib
import os
import secrets
from pathlib import Path
from typing import Any

import numpy as np

from autograder import codec
from autograder.codec import install as codec_install
from autograder.engine.deadline import Deadline
from autograder.engine.sandbox import SandboxedKernel
from autograder.limits import FILE_ARGUMENT_BYTES

__all__ = ["SubmissionFault", "StudentCodeError", "DeadlineExceeded", "Remote", "RemoteRef"]

MIME = "text/x-nngrade-reply"
AGENT_SOURCE = (Path(__file__).with_name("agent.py")).read_text(encoding="utf-8")
#: The codec's modules, ``{name: source}``, and the installer that builds them into a package.
CODEC_SOURCES = codec_install.sources()
CODEC_INSTALLER = Path(codec_install.__file__).read_text(encoding="utf-8")
SHARED_MODULES = {"numpy", "pandas", "math", "scipy", "sklearn", "matplotlib", "statistics"}
#: Exception names a hidden test's message may show: the built-in ones and a few of numpy's.
KNOWN_EXCEPTIONS = frozenset(
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
) | {"LinAlgError", "AxisError", "UFuncTypeError", "IndexingError", "InvalidArgumentError"}
#: At most this many type names, of at most this many characters, from the notebook.
MAX_KNOWN_TYPES, MAX_TYPE_NAME = 4000, 200
NOT_SHOWN = "(not shown for a hidden test)"

# The codec becomes the private package ``_nngrade_codec`` in the kernel (see
# ``autograder/codec/install.py``); ``autograder`` itself stays invisible there.
_INSTALL = """
def _nngrade_install(installer_source, codec_sources, agent_source):
    import sys, types
    installer = {{"__name__": "_nngrade_codec_installer"}}
    exec(compile(installer_source, "<nngrade codec installer>", "exec"), installer)
    codec = installer["install"]("_nngrade_codec", codec_sources)
    agent = types.ModuleType("_nngrade_agent")
    sys.modules["_nngrade_agent"] = agent
    exec(compile(agent_source, "<nngrade agent>", "exec"), agent.__dict__)
    agent.codec = codec
    return agent.Agent(get_ipython().user_ns)
__nngrade_agent__ = _nngrade_install({installer!r}, {codec!r}, {agent!r})
del _nngrade_install
"""


class SubmissionFault(AssertionError):
    """The submission did not give a gradable answer (timeout, crash, undecodable data)."""


class StudentCodeError(SubmissionFault):
    """The student's function raised an exception."""


class DeadlineExceeded(SubmissionFault):
    """The submission's grading deadline passed."""


class RemoteRef:
    """A handle on an object that lives in the student's kernel."""

    __slots__ = ("_remote", "_ref", "_label")

    def __init__(self, remote: Remote, ref: codec.Ref, label: str) -> None:
        self._remote = remote
        self._ref = ref
        self._label = label

    @property
    def _remote_type_name(self) -> str:
        return self._remote.shown_type(self._ref.type_name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._remote.call(self._ref, list(args), kwargs, what=f"{self._label}(...)")

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self._remote.request(
            {"op": "getattr", "ref": self._ref.id, "name": name}, what=f"{self._label}.{name}"
        )

    def __repr__(self) -> str:
        return f"<{self._remote_type_name} {self._label!r} in the submission>"


class Remote:
    """Requests to the agent in one submission's kernel."""

    def __init__(
        self,
        kernel: SandboxedKernel,
        call_timeout: float,
        limits: codec.Limits = codec.DEFAULT_LIMITS,
        file_argument_bytes: int = FILE_ARGUMENT_BYTES,
        deadline: Deadline | None = None,
    ) -> None:
        self.kernel = kernel
        self.call_timeout = call_timeout
        self.limits = limits
        self.file_argument_bytes = file_argument_bytes
        self.deadline = deadline
        #: Whether hidden inputs may have reached the kernel (see the module).
        self.withholding = False
        self._known_types: set[str] = set()

    def install(self) -> None:
        """Start the agent in the kernel (after the student's cells have run)."""
        result = self.kernel.execute(
            _INSTALL.format(installer=CODEC_INSTALLER, codec=CODEC_SOURCES, agent=AGENT_SOURCE),
            timeout=self._timeout(),
            silent=True,
        )
        if result.status == "timeout" and self._past_deadline():
            raise DeadlineExceeded(self.deadline.message())  # type: ignore[union-attr]
        if result.status != "ok":
            raise SubmissionFault(
                f"the grader could not talk to the notebook's kernel ({result.status}"
                + (f": {result.ename}" if result.ename else "")
                + ")"
            )

    def withhold_student_text(self) -> None:
        """From now on (for good), messages carry no text from the student's process. The
        type names the notebook defined so far are learnt first: no hidden input has reached
        the kernel yet, so they cannot encode one."""
        if self.withholding:
            return
        try:
            names = self._exchange({"op": "types"}, what="the notebook's types").get("value")
        except SubmissionFault:  # an agent that does not answer: no names beyond the built-in
            names = None
        if type(names) is list:
            for name in names[:MAX_KNOWN_TYPES]:
                if type(name) is str and len(name) <= MAX_TYPE_NAME:
                    self._known_types.add(name)
        self.withholding = True

    def shown_type(self, name: str) -> str:
        """``name`` (a type's, as the kernel reported it), or a placeholder when withholding
        and the name was not known before."""
        if not self.withholding or name in KNOWN_EXCEPTIONS or name in self._known_types:
            return name
        return NOT_SHOWN

    def global_value(self, name: str) -> Any:
        """What a test parameter called ``name`` is bound to."""
        reply = self._exchange({"op": "get", "name": name}, what=name)
        if reply.get("missing"):
            return None
        if "module" in reply:
            module = str(reply["module"])
            top = module.split(".")[0]
            return importlib.import_module(module) if top in SHARED_MODULES else None
        return self._unwrap(reply, what=name)

    def request(self, payload: dict, what: str) -> Any:
        return self._unwrap(self._exchange(payload, what), what)

    def call(self, ref: codec.Ref, args: list, kwargs: dict, what: str) -> Any:
        """Call the kernel's object ``ref``; large array arguments travel as ``.npy`` files."""
        payload: dict = {"op": "call", "ref": ref.id, "args": list(args), "kwargs": dict(kwargs)}
        files: list[Path] = []
        try:
            for key, container in (
                ("npy_args", payload["args"]),
                ("npy_kwargs", payload["kwargs"]),
            ):
                slots = range(len(container)) if key == "npy_args" else list(container)
                moved = []
                for slot in slots:
                    if self._goes_by_file(container[slot]):
                        path = self._write_npy(container[slot])
                        files.append(path)
                        container[slot] = None
                        moved.append([slot, str(path)])
                if moved:
                    payload[key] = moved
            return self.request(payload, what)
        finally:
            for path in files:
                with contextlib.suppress(OSError):
                    path.unlink()

    # ---------------------------------------------------------------- internals

    def _past_deadline(self) -> bool:
        return self.deadline is not None and self.deadline.expired

    def _timeout(self) -> float:
        """How long the next exchange may wait; raises once the deadline has passed."""
        if self.deadline is None:
            return self.call_timeout
        if self.deadline.expired:
            raise DeadlineExceeded(self.deadline.message())
        return min(self.call_timeout, self.deadline.remaining())

    def _exchange(self, payload: dict, what: str) -> dict:
        text = codec.encode(payload, limits=self.limits, make_ref=self._ref_of, name=what)
        timeout = self._timeout()
        result = self.kernel.execute(f"__nngrade_agent__.handle({text!r})", timeout=timeout,
                                     silent=True)
        if result.status not in ("ok", "error"):  # a limit: the sandbox says which, in words
            if result.status == "timeout" and self._past_deadline():
                raise DeadlineExceeded(self.deadline.message())  # type: ignore[union-attr]
            if result.status == "died" and self.withholding:  # its exit status is the student's
                raise SubmissionFault(f"{what}: the notebook's kernel died")
            raise SubmissionFault(f"{what}: {result.evalue}")
        replies = [d[MIME] for d in result.displays if MIME in d]
        if result.status != "ok" or len(replies) != 1:
            raise SubmissionFault(f"{what} could not be evaluated in the notebook")
        try:
            reply = codec.decode(replies[0], limits=self.limits)
        except codec.CodecError as error:
            detail = "" if self.withholding else f": {error}"  # may quote the reply
            raise SubmissionFault(f"{what} returned data that cannot be graded{detail}") from None
        if self._past_deadline():
            raise DeadlineExceeded(self.deadline.message())  # type: ignore[union-attr]
        if type(reply) is not dict:
            raise SubmissionFault(f"{what} could not be evaluated in the notebook")
        return reply

    def _unwrap(self, reply: dict, what: str) -> Any:
        if "error" in reply:
            error = reply["error"] if type(reply["error"]) is dict else {}
            kind, message = str(error.get("type", "an error"))[:MAX_TYPE_NAME], ""
            if self.withholding:
                shown = self.shown_type(kind)
                kind = "an exception" if shown == NOT_SHOWN else shown
                raise StudentCodeError(f"{what} raised {kind} (its message is {NOT_SHOWN[1:]}")
            message = str(error.get("message", ""))
            raise StudentCodeError(f"{what} raised {kind}" + (f": {message}" if message else ""))
        if "codec_error" in reply:
            if self.withholding:
                raise SubmissionFault(f"{what} returned a value that cannot be graded")
            raise SubmissionFault(str(reply["codec_error"]))
        if "value" not in reply:
            raise SubmissionFault(f"{what} could not be evaluated in the notebook")
        return self._wrap(reply["value"], what)

    def _wrap(self, value: Any, label: str) -> Any:
        """Turn Ref handles inside a decoded value into RemoteRef proxies."""
        if type(value) is codec.Ref:
            if value.type_name == "ellipsis":  # an unanswered `...` placeholder
                return Ellipsis
            if not self.withholding and len(self._known_types) < MAX_KNOWN_TYPES:
                self._known_types.add(value.type_name)
            return RemoteRef(self, value, label)
        if type(value) is list:
            return [self._wrap(v, label) for v in value]
        if type(value) is tuple:
            return tuple(self._wrap(v, label) for v in value)
        if type(value) is dict:
            return {k: self._wrap(v, label) for k, v in value.items()}
        return value

    def _goes_by_file(self, value: Any) -> bool:
        return (
            type(value) is np.ndarray
            and value.dtype.kind in "biuf"
            and value.nbytes >= self.file_argument_bytes
        )

    def _write_npy(self, array: np.ndarray) -> Path:
        """A new file in the work folder: exclusive creation, never through a symlink."""
        path = self.kernel.workdir / f".nngrade-argument-{secrets.token_hex(8)}.npy"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
        with os.fdopen(os.open(path, flags, 0o644), "wb") as handle:
            np.lib.format.write_array(handle, np.ascontiguousarray(array), allow_pickle=False)
        return path

    def _ref_of(self, value: Any) -> codec.Ref:
        if type(value) is RemoteRef and value._remote is self:
            return value._ref
        raise codec.CodecError(f"a {codec.describe_type(value)} cannot be sent to the notebook")
