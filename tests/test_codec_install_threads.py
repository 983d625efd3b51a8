"""The codec is installed into a kernel whose other threads (ipykernel's, TensorFlow's) may be
importing at that moment: the install must not walk ``sys.modules`` while it changes.

Before the fix, ``install`` iterated ``sys.modules`` directly and a kernel under load failed
with "RuntimeError: dictionary changed size during iteration", so a correct submission got
"the grader could not talk to the notebook's kernel"."""

import sys
import threading
import types

from autograder.codec import install


def test_install_survives_a_thread_that_imports_meanwhile():
    sources = install.sources()
    stop = threading.Event()

    def churn() -> None:
        i = 0
        while not stop.is_set():
            sys.modules[f"_churn_{i % 64}"] = types.ModuleType("churn")
            sys.modules.pop(f"_churn_{(i + 32) % 64}", None)
            i += 1

    thread = threading.Thread(target=churn, daemon=True)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: the race shows at once
    thread.start()
    try:
        for _ in range(200):
            codec = install.install("_nngrade_codec_race", sources)
            assert codec.decode(codec.encode([1, 2.5, "x"])) == [1, 2.5, "x"]
    finally:
        stop.set()
        thread.join()
        sys.setswitchinterval(interval)
        for name in [n for n in tuple(sys.modules) if n.startswith(("_churn_", "_nngrade_codec"))]:
            sys.modules.pop(name, None)
