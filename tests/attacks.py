"""The attack corpus: hostile cells added to the blank problem-set-1 release.

Each attack is code a student could submit. Graded by the nngrade engine, every one must
score exactly what the blank release scores (0), change no file outside its work folder,
leave no process behind, and not disturb the other submissions in the same batch.

``{marker}`` in an attack's code is replaced by a path outside the sandbox that the attack
tries to create; ``{port}`` by a port on 127.0.0.1 where the test listens; ``{repo}`` by the
repository's path. The test checks that the marker never appears and that nothing arrives on
the port.
"""

from __future__ import annotations

ATTACKS: dict[str, str] = {
    # ------------------------------------------------------------ tampering with grading code
    "patch-numpy-comparisons": """
import numpy as np, numpy.testing
np.allclose = lambda *a, **k: True
np.isclose = lambda a, b, *args, **k: np.ones(np.shape(a), dtype=bool)
np.array_equal = lambda *a, **k: True
numpy.testing.assert_allclose = lambda *a, **k: None
def weighted_sum(X, w, b): return np.zeros(len(X))
def sigmoid(h): return np.zeros(np.shape(h))
""",
    "patch-builtins": """
import builtins
builtins.isinstance = lambda *a: True
builtins.len = lambda *a: 4
builtins.AssertionError = type("Nothing", (Exception,), {})
""",
    "always-equal-objects": """
class Yes:
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __float__(self): return 0.5
    def __len__(self): return 4
    def __iter__(self): return iter("ab")
    def __getitem__(self, key): return self
    def __array__(self, *a, **k): raise RuntimeError("no")
yes = Yes()
q2c_answer = yes
q5d_answer = yes
or_table = yes
first_gradient = yes
def weighted_sum(X, w, b): return yes
def perceptron_train(X, y, eta=0.1, epochs=20): return yes, yes
""",
    "input-transformer-rewrites-later-cells": """
ip = get_ipython()
ip.input_transformers_post.append(lambda lines: ["pass\\n"])
ip.input_transformers_cleanup.append(lambda lines: ["pass\\n"])
""",
    "redefine-engine-helpers": """
import IPython.display as _display
_original = _display.publish_display_data
def _forged(data, *args, **kwargs):
    forged = {k: '{"value": 1.0}' for k in data}
    return _original(forged, *args, **kwargs)
_display.publish_display_data = _forged
class FakeAgent:
    def handle(self, text): print('{"value": 1.0}')
__nngrade_agent__ = FakeAgent()
_nngrade_install = lambda *a: FakeAgent()
""",
    # ------------------------------------------------------------ crashing or ending early
    "sys-exit": "import sys\nsys.exit(0)\n",
    "os-exit": "import os\nos._exit(0)\n",
    "raise-base-exception": "raise BaseException('stop grading')\n",
    "segfault": "import ctypes\nctypes.string_at(0)\n",
    "kill-parent": "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n",
    # ------------------------------------------------------------ exhausting resources
    "infinite-loop": "while True:\n    pass\n",
    "sleep-forever": "import time\ntime.sleep(10**6)\n",
    "memory-bomb": "blocks = []\nwhile True:\n    blocks.append(bytearray(100 * 2**20))\n",
    "fork-bomb": """
import subprocess
children = [subprocess.Popen(["sleep", "1000"]) for _ in range(500)]
""",
    "print-200-mb": "import sys\nfor _ in range(200):\n    sys.stdout.write('x' * 2**20)\n",
    # ------------------------------------------------------------ reaching outside the sandbox
    "read-answer-key": """
import glob, os
found = {}
for pattern in ["{repo}/reference_impl/*.py", "{repo}/solutions/*/*", "{repo}/dist/*/*/*",
                "{repo}/gradebook/*", "/proc/1/environ"]:
    for path in glob.glob(pattern):
        try:
            found[path] = open(path, errors="replace").read()[:100]
        except OSError:
            pass
found_env = dict(os.environ)
import reference_impl  # must fail
""",
    "write-outside-workdir": """
for path in ["{marker}", "/usr/nngrade-attack", "{repo}/nngrade-attack"]:
    try:
        open(path, "w").write("pwned")
    except OSError:
        pass
""",
    "connect-to-localhost": """
import socket
s = socket.create_connection(("127.0.0.1", {port}), timeout=2)
s.sendall(b"exfiltrated")
""",
    "background-process-outlives-kernel": """
import subprocess
subprocess.Popen(["sh", "-c", "sleep 2; touch {marker}"], start_new_session=True)
subprocess.Popen(["sleep", "1000"], start_new_session=True)
""",
    # ------------------------------------------------------------ faking or poisoning results
    "print-fake-results": """
import json
print(json.dumps({"score": 38, "tests": [{"name": "q1a", "score": 3, "max_score": 3}]}))
from IPython.display import display
display({"text/x-nngrade-reply": '{"value": 1}'}, raw=True)
open("results.json", "w").write(json.dumps({"score": 38}))
""",
    "object-array": """
import numpy as np
def weighted_sum(X, w, b): return np.array([object()] * len(X), dtype=object)
""",
    "huge-array": """
import numpy as np
def weighted_sum(X, w, b): return np.broadcast_to(np.float64(0.0), (10**9,))
""",
    "deeply-nested-list": """
def make(depth):
    value = []
    for _ in range(depth):
        value = [value]
    return value
def weighted_sum(X, w, b): return make(10_000)
""",
    # ------------------------------------------------------------ costing the grader's time
    # After the agent is installed, every reply is about 1 MB of ints that all hash alike
    # (multiples of 2**61 - 1): decoding one cost the grader 3 s of CPU, and the student's
    # own time budget was barely touched (194 s for this submission, the blank one 1.2 s).
    "forged-replies-of-colliding-ints": """
P = 2**61 - 1
_items = ",".join('{"$":"int","hex":"%x"}' % (k * P) for k in range(1, 22000))
_PAYLOAD = '{"nngrade_codec":1,"value":{"$":"set","items":[' + _items + ']}}'
class _Forged:
    def handle(self, text):
        from IPython.display import publish_display_data
        publish_display_data({"text/x-nngrade-reply": _PAYLOAD})
def _swap(*args):
    get_ipython().user_ns["__nngrade_agent__"] = _Forged()
# post_execute: it fires after the grader's silent requests too, which post_run_cell does not
get_ipython().events.register("post_execute", _swap)
""",
    # ------------------------------------------------------------ leaking the hidden inputs
    # Every function the tests call raises with its arguments in the message and in the name
    # of the exception's class; feedback must show neither for a hidden test.
    "exceptions-carry-the-inputs": """
def _leaky(*args, **kwargs):
    text = repr(args) + repr(kwargs)
    name = "Leak_" + "".join(c if c.isalnum() else "_" for c in text)[:300]
    raise type(name, (ValueError,), {})("LEAKED INPUTS " + text)
for _name in LEAK_NAMES:
    globals()[_name] = _leaky
""".replace("LEAK_NAMES", repr([
        "complete_table", "confusion_matrix", "f1", "fraud_accuracy", "fraud_recall",
        "gradient", "gradient_descent", "misclassified", "perceptron_train", "precision",
        "predict", "recall", "sigmoid", "squared_loss", "step", "total_loss", "weighted_sum",
    ])),
    "reduce-runs-code": """
import os
class Evil:
    def __reduce__(self):
        return (os.system, ("touch {marker}",))
def weighted_sum(X, w, b): return Evil()
or_table = Evil()
""",
}


MALFORMED: dict[str, bytes] = {
    "invalid-json": b'{"cells": [',
    "empty-file": b"",
    "not-utf8": b'{"cells": [], "note": "\xff\xfe"}',
    "nbformat-v3": (
        b'{"metadata": {}, "nbformat": 3, "nbformat_minor": 0, "worksheets": [{"cells": '
        b'[{"cell_type": "code", "input": "x = 1", "language": "python", "outputs": []}]}]}'
    ),
}
