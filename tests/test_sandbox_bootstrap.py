"""The sandbox's bootstrap program, run as the script it is, with a stand-in for ipykernel.

The bootstrap starts ``python -m ipykernel_launcher``; run from a folder that holds a module of
that name, it starts the stand-in instead, which reports what it was given and then does what
its arguments say. No kernel and no bubblewrap are needed.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from autograder.engine.sandbox import bootstrap

SCRIPT = Path(bootstrap.__file__)

STAND_IN = """
import json, os, resource, signal, subprocess, sys, time
action, *rest = sys.argv[1:]
sleeper = subprocess.Popen(["sleep", "1000"], start_new_session=True)  # detached
with open("seen.json", "w") as seen:
    json.dump({
        "pid": os.getpid(), "ppid": os.getppid(), "argv": sys.argv[1:],
        "core": resource.getrlimit(resource.RLIMIT_CORE), "sleeper": sleeper.pid,
    }, seen)
if action == "exit":
    os._exit(int(rest[0]))
if action == "kill":
    os.kill(os.getpid(), signal.SIGKILL)
time.sleep(1000)
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "ipykernel_launcher.py").write_text(STAND_IN)
    return tmp_path


def run(folder: Path, mode: str, *args: str, grader: int | None = None) -> tuple[int, dict]:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), mode, "0", str(grader or os.getpid()), *args],
        cwd=folder,
        env={"PATH": os.defpath},
        timeout=30,
        capture_output=True,
        text=True,
    )
    seen = folder / "seen.json"  # a stand-in killed early may not have written it
    return done.returncode, json.loads(seen.read_text()) if seen.exists() else {}


def gone(pid: int) -> bool:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


def test_exec_mode_becomes_the_kernel_without_core_dumps(folder):
    process = subprocess.Popen(
        [sys.executable, str(SCRIPT), "exec", "0", str(os.getpid()), "exit", "3"], cwd=folder
    )
    assert process.wait(timeout=30) == 3
    seen = json.loads((folder / "seen.json").read_text())
    assert seen["pid"] == process.pid  # the same process, now the kernel
    assert seen["argv"] == ["exit", "3"] and seen["core"] == [0, 0]
    psutil.Process(seen["sleeper"]).kill()  # exec mode leaves that to bubblewrap


def test_reap_mode_returns_the_kernel_status_and_kills_what_it_left(folder):
    code, seen = run(folder, "reap", "exit", "3")
    assert code == 3
    assert seen["argv"] == ["exit", "3"] and seen["core"] == [0, 0]
    assert gone(seen["sleeper"])  # detached into its own session, and still killed


def test_reap_mode_reports_a_signal_as_128_plus_its_number(folder):
    code, seen = run(folder, "reap", "kill")
    assert code == 128 + 9
    assert gone(seen["sleeper"])


def test_reap_mode_whose_grader_is_gone_kills_the_kernel_at_once(folder):
    # The reaper's parent is not the grader it was told about: the grader died before it
    # could ask for PR_SET_PDEATHSIG, so it waits for nothing and takes everything down.
    began = time.monotonic()
    code, seen = run(folder, "reap", "sleep", grader=1)
    assert code == 137 and time.monotonic() - began < 10
    if seen:
        assert gone(seen["sleeper"])


def test_imports_only_the_standard_library():
    tree = ast.parse(SCRIPT.read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0 and node.module is not None
            imported.add(node.module.split(".")[0])
    assert imported and imported <= sys.stdlib_module_names
