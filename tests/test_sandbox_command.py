"""The sandboxed kernel's environment and command line (``sandbox/command.py``): nothing of the
grader's environment leaks in, and the kernel starts from its own copy of the bootstrap."""

from __future__ import annotations

import sys
from pathlib import Path

from autograder.engine.sandbox.command import (
    BOOTSTRAP,
    KERNEL_OPTIONS,
    kernel_command,
    kernel_env,
    private_tmp,
)


def test_in_the_sandbox_the_kernel_uses_its_own_tmp_and_a_read_only_home(tmp_path):
    tmp = private_tmp(tmp_path, sandboxed=True)
    env = kernel_env(tmp, {})
    assert tmp == Path("/tmp") and not (tmp_path / "tmp").exists()
    assert env["HOME"] == "/work" and "TMPDIR" not in env
    assert env["IPYTHONDIR"] == "/tmp/.ipython"


def test_without_the_sandbox_tmp_and_home_are_private_folders_of_the_runtime(tmp_path):
    tmp = private_tmp(tmp_path, sandboxed=False)
    env = kernel_env(tmp, {})
    assert tmp == tmp_path / "tmp" and (tmp / "home").is_dir()
    assert env["HOME"] == str(tmp / "home") and env["TMPDIR"] == str(tmp)


def test_the_environment_is_built_not_inherited(tmp_path, monkeypatch):
    monkeypatch.setenv("NNGRADE_SECRET", "hidden-tests")
    env = kernel_env(Path("/tmp"), {"NNGRADE_DATA": "/data", "JPY_PARENT_PID": "1"})
    assert "NNGRADE_SECRET" not in env and "JPY_PARENT_PID" not in env
    assert env["NNGRADE_DATA"] == "/data"
    # regrades compute the same thing: fixed string hashing, no bytecode written
    assert env["PYTHONHASHSEED"] == "0" and env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["PATH"].startswith(str(Path(sys.prefix) / "bin"))


def test_the_command_runs_a_copy_of_the_bootstrap_from_the_runtime_folder(tmp_path):
    argv = kernel_command(tmp_path, "exec", 0, tmp_path / "kernel.json")
    copy = tmp_path / BOOTSTRAP.name
    assert copy.read_text() == BOOTSTRAP.read_text()
    assert argv[:3] == [sys.executable, str(copy), "exec"]
    assert argv[-len(KERNEL_OPTIONS) - 2:] == ["-f", str(tmp_path / "kernel.json"),
                                              *KERNEL_OPTIONS]
