"""Survivors of a SIGKILLed grader: kill a grading process at a random moment, count what lives.

Each trial starts a grading process that opens a work folder and a sandboxed kernel
(``require_sandbox=True``), runs a cell that leaves a double-forked, setsid'd ``sleep``
behind, and then keeps running cells; the trial SIGKILLs it at a random moment between 0.05 s
and 2 s (start-up included) and counts the sandbox user's processes still in that grader's
cgroups once they have had up to 15 seconds to die (``SETTLE``: "right after"), and again
after the next start's sweep.

Target: 0 survivors in 200 trials, right after.

Run as root on a grading host: ``.venv/bin/python benchmarks/sandbox_survivors.py [TRIALS]``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.test_attacks_host import survivors_after_random_kills  # noqa: E402


def main() -> None:
    trials = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    began = time.perf_counter()
    right_after, after_sweep = survivors_after_random_kills(trials, seed=2026)
    seconds = time.perf_counter() - began
    print(f"{trials} trials in {seconds:.0f} s")
    print(f"surviving sandbox processes right after the kill: {right_after}")
    print(f"surviving sandbox processes after the next start's sweep: {after_sweep}")


if __name__ == "__main__":
    main()
