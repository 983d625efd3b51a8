"""What the sandboxed kernel is started with: its private temporary folder, its environment
variables and its command line (the bootstrap program, then ipykernel's options).

Pure apart from writing the bootstrap's copy into the kernel's runtime folder: the package's
own folder is not visible inside the sandbox, so the kernel runs that copy.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

#: The program the sandbox (or the fallback subprocess) starts with, ahead of ipykernel.
BOOTSTRAP = Path(__file__).with_name("bootstrap.py")

#: ipykernel options: no history database, no connection banner, only errors in its log (the
#: log goes to the kernel's stderr, which ipykernel forwards to the cell's stderr).
KERNEL_OPTIONS = ("--HistoryManager.enabled=False", "--IPKernelApp.log_level=ERROR")


def private_tmp(runtime: Path, sandboxed: bool) -> Path:
    """The kernel's temporary folder: the sandbox's own ``/tmp``, else one in ``runtime``
    (with an empty ``home`` in it)."""
    if sandboxed:
        return Path("/tmp")
    tmp = runtime / "tmp"
    (tmp / "home").mkdir(parents=True, exist_ok=True)
    return tmp


def kernel_env(tmp: Path, extra: Mapping[str, str]) -> dict[str, str]:
    """The kernel's whole environment (nothing is inherited from the grader's), given its
    temporary folder from :func:`private_tmp` and the grader's ``extra`` variables."""
    sandboxed = tmp == Path("/tmp")
    env = {
        "PATH": f"{Path(sys.prefix) / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        # In the sandbox /work holds nothing but mount points and is read-only. Without the
        # sandbox that /work would be the grading machine's, so an empty folder instead.
        "HOME": "/work" if sandboxed else str(tmp / "home"),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        # Fixed string hashing, so that a regrade of the same notebook computes the same
        # thing (set iteration order, and seeds derived from hashes).
        "PYTHONHASHSEED": "0",
        "MPLBACKEND": "Agg",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        # Writable places for the caches and settings of IPython, matplotlib and
        # fontconfig: without them each warns on stderr at import that HOME is read-only.
        "IPYTHONDIR": str(tmp / ".ipython"),
        "MPLCONFIGDIR": str(tmp / ".config" / "matplotlib"),
        "XDG_CACHE_HOME": str(tmp / ".cache"),
        "XDG_CONFIG_HOME": str(tmp / ".config"),
    }
    if not sandboxed:
        env["TMPDIR"] = str(tmp)
    env.update(extra)
    env.pop("JPY_PARENT_PID", None)
    return env


def kernel_command(runtime: Path, mode: str, nproc: int, connection_file: Path) -> list[str]:
    """The bootstrap's command line (``mode`` ``exec`` in the sandbox, ``reap`` without it;
    ``nproc`` the fallback's process limit), after copying the bootstrap into ``runtime``."""
    bootstrap = runtime / BOOTSTRAP.name
    bootstrap.write_text(BOOTSTRAP.read_text())
    return [
        sys.executable, str(bootstrap), mode, str(nproc), str(os.getpid()),
        "-f", str(connection_file), *KERNEL_OPTIONS,
    ]  # fmt: skip
