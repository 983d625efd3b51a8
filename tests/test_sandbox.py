"""The grading sandbox, with real kernels under real bubblewrap.

Read-only checks share one kernel; every test that breaks a kernel starts its own (about 0.4 s
each). Limits are small so that the whole module runs in well under a minute. After every test
no process started by it may be left.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

import reference_impl
from autograder.engine.sandbox import (
    NOT_SANDBOXED_WARNING,
    CellResult,
    KernelStartError,
    SandboxedKernel,
    SandboxLimits,
    SandboxUnavailable,
)
from autograder.engine.sandbox import kernel as sandbox  # where BWRAP is read
from autograder.engine.sandbox.channel import INTERRUPT_GRACE
from autograder.limits import THREAD_VARIABLES

pytestmark = pytest.mark.skipif(
    shutil.which("bwrap") is None and os.geteuid() != 0,
    reason="bubblewrap (bwrap) is not installed; `make test` installs it when run as root",
)

# Plain wall-clock time limits (no allowance for waiting for a CPU on a busy host): these
# tests time the interrupt and the kill themselves. The allowance has its own test.
FAST = SandboxLimits(
    cell_timeout=3,
    total_timeout=60,
    memory_mb=512,
    max_processes=64,
    max_output_bytes=100_000,
    cpu_wait_allowance=0.0,
)
SECRET_VAR = "NNGRADE_SANDBOX_TEST_SECRET"
SECRET = "do-not-show-this-to-students"
REPO = Path(reference_impl.__file__).resolve().parent.parent


def _children() -> dict[int, psutil.Process]:
    return {p.pid: p for p in psutil.Process().children(recursive=True)}


@pytest.fixture(autouse=True)
def no_stray_processes():
    before = set(_children())
    yield
    deadline = time.monotonic() + 3
    while True:
        stray = [p for pid, p in _children().items() if pid not in before]
        if not stray or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert stray == [], f"processes left behind: {stray}"


def ok(kernel: SandboxedKernel, code: str) -> CellResult:
    result = kernel.execute(code)
    assert result.status == "ok", result
    return result


def value(kernel: SandboxedKernel, expression: str):
    """The JSON value of ``expression``, evaluated in the kernel."""
    result = ok(kernel, f"import json as _json\nprint(_json.dumps({expression}))")
    return json.loads(result.stdout)


def gone(procs: list[psutil.Process]) -> bool:
    for proc in procs:
        try:
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                return False
        except psutil.NoSuchProcess:
            pass
    return True


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("data")
    (folder / "numbers.txt").write_text("1 2 3\n")
    # Data folders are readable by everyone (the sandbox user among them), as the data cache
    # is; pytest makes its folders private.
    folder.chmod(0o755)
    return folder


@pytest.fixture(scope="module")
def shared(tmp_path_factory, data_dir):
    """One sandboxed kernel for the checks that do not break it."""
    work = tmp_path_factory.mktemp("work")
    os.environ[SECRET_VAR] = SECRET
    try:
        kernel = SandboxedKernel(
            work, FAST, readonly_paths=[data_dir], env={"NNGRADE_DATA": str(data_dir)}
        )
        kernel.start()
    finally:
        del os.environ[SECRET_VAR]
    procs = kernel.processes()
    yield kernel
    kernel.shutdown()
    assert gone(procs)


def test_runs_cells_and_captures_their_output(shared):
    assert shared.sandboxed and shared.warnings == []
    assert shared.argv[0] == sandbox.BWRAP
    result = ok(
        shared,
        "import sys\nfrom IPython.display import HTML, display\n"
        "print('to stdout')\nprint('to stderr', file=sys.stderr)\n"
        "display(HTML('<b>bold</b>'))\nanswer = 41\nanswer + 1",
    )
    assert result.stdout == "to stdout\n"
    assert result.stderr == "to stderr\n"
    assert result.displays[0]["text/html"] == "<b>bold</b>"
    assert result.displays[-1] == {"text/plain": "42"}
    assert not result.truncated and result.ename is None and result.seconds < 5

    failed = shared.execute("answer / 0")
    assert failed.status == "error"
    assert (failed.ename, failed.evalue) == ("ZeroDivisionError", "division by zero")
    assert "answer / 0" in failed.traceback and "\x1b[" not in failed.traceback
    no_input = shared.execute("input('name? ')")
    assert no_input.status == "error" and no_input.ename == "StdinNotImplementedError"
    assert shared.alive


def test_a_silent_request_shows_the_notebooks_run_cell_hooks_nothing_and_moves_no_count(
        shared):
    """The grader's requests are silent: IPython's ``pre_run_cell`` and ``post_run_cell``
    hooks, which are handed each cell's text (a request's text holds a hidden test's inputs),
    never fire for them, and the execution count does not move; errors and displays still
    come back."""
    ok(shared, "cells = []\n"
               "def _seen(info=None, *rest):\n"
               "    cells.append(getattr(info, 'raw_cell', None) or\n"
               "                 getattr(getattr(info, 'info', None), 'raw_cell', None))\n"
               "get_ipython().events.register('pre_run_cell', _seen)\n"
               "get_ipython().events.register('post_run_cell', _seen)\n"
               "count = get_ipython().execution_count")
    quiet = shared.execute("from IPython.display import display\ndisplay({'text/plain': 'x'}, "
                           "raw=True)\nhidden_input = 12345", silent=True)
    assert quiet.status == "ok" and quiet.displays == [{"text/plain": "x"}]
    failed = shared.execute("1 / 0", silent=True)
    assert failed.status == "error" and failed.ename == "ZeroDivisionError"
    after = ok(shared, "print(any('hidden_' + 'input' in (c or '') for c in cells), len(cells), "
                       "get_ipython().execution_count - count)")
    assert after.stdout.split() == ["False", "2", "1"], after.stdout  # this cell's pre and post
    ok(shared, "get_ipython().events.unregister('pre_run_cell', _seen)\n"
               "get_ipython().events.unregister('post_run_cell', _seen)")


def test_numpy_and_nnkit_import(shared):
    assert value(shared, "__import__('numpy').arange(4).sum().item()") == 6
    ok(shared, "import nnkit, nnkit.mnist")


_COUNT_THREADS = """
import os
def threads():
    return int(open("/proc/self/status").read().split("Threads:")[1].split()[0])
before = threads()
import numpy
numpy.ones((300, 300)) @ numpy.ones((300, 300))
"""


@pytest.mark.skipif(os.cpu_count() < 2, reason="one core: OpenBLAS starts no thread anyway")
@pytest.mark.parametrize("compute_threads, blas_threads", [(1, 0), (2, 1)])
def test_the_numeric_libraries_get_compute_threads_each(tmp_path, compute_threads,
                                                        blas_threads):
    """One thread per kernel by default (a batch runs a kernel per core): OpenBLAS then starts
    no thread of its own; with two it starts one, so the setting is what does it."""
    limits = dataclasses.replace(FAST, compute_threads=compute_threads)
    with SandboxedKernel(tmp_path, limits) as kernel:
        ok(kernel, _COUNT_THREADS)
        assert value(kernel, "threads() - before") == blas_threads
        assert value(kernel, f"[os.environ[v] for v in {list(THREAD_VARIABLES)!r}]") == [
            str(compute_threads)] * len(THREAD_VARIABLES)


def test_course_code_and_repository_are_invisible(shared):
    for module in ("reference_impl", "autograder", "gradebook"):
        result = shared.execute(f"import {module}")
        assert result.status == "error" and result.ename == "ModuleNotFoundError", result
    answer_key = REPO / "reference_impl" / "__init__.py"
    assert answer_key.is_file()  # here, outside
    seen = value(
        shared,
        f"[__import__('os').path.exists(p) for p in "
        f"{[str(answer_key), str(REPO / 'solutions'), str(REPO / 'tests'), str(REPO / 'dist')]}]",
    )
    assert seen == [False, False, False, False]
    # Only the mount points of the venv and nnkit exist under the repository.
    listing = value(shared, f"sorted(__import__('os').listdir({str(REPO)!r}))")
    assert set(listing) <= {".venv", "assignments"}


def test_grader_environment_does_not_leak(shared, data_dir):
    env = value(shared, "dict(__import__('os').environ)")
    assert SECRET_VAR not in env and "JPY_PARENT_PID" not in env
    assert env["HOME"] == "/work" and env["MPLBACKEND"] == "Agg"
    assert env["NNGRADE_DATA"] == str(data_dir)
    # bubblewrap's own init (pid 1 in the sandbox, readable there) was given only PATH
    init_env = value(shared, "open('/proc/1/environ').read()")
    assert SECRET not in init_env
    assert value(shared, "(__import__('os').getuid(), __import__('os').getgid())") == [65534, 65534]
    # its own PID namespace: only the sandbox's processes exist
    pids = value(shared, "[p for p in __import__('os').listdir('/proc') if p.isdigit()]")
    assert len(pids) < 5


def test_only_the_work_folder_is_writable(shared, data_dir):
    attempts = {
        "/": "/planted",
        "/usr": "/usr/planted",
        "venv": str(Path(sys.prefix) / "planted"),
        "/etc": "/etc/planted",
        "data": str(data_dir / "planted"),
    }
    for where, path in attempts.items():
        result = shared.execute(f"open({path!r}, 'w').write('x')")
        # Read-only (OSError: EROFS), or not the sandbox user's to write (PermissionError).
        assert result.status == "error" and result.ename in ("OSError", "PermissionError"), (
            where,
            result,
        )
        assert not Path(path).exists()
    assert value(shared, f"open({str(data_dir / 'numbers.txt')!r}).read()") == "1 2 3\n"

    ok(shared, "open('answer.txt', 'w').write('mine')")
    assert (shared.workdir / "answer.txt").read_text() == "mine"
    # /tmp is private to the sandbox
    probe = f"nngrade-sandbox-probe-{os.getpid()}"
    ok(shared, f"open('/tmp/{probe}', 'w').write('x')")
    assert not (Path("/tmp") / probe).exists()


def test_no_network_not_even_loopback(shared):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    try:
        outcome = value(
            shared,
            "(lambda s: (s.settimeout(2), s.connect_ex(('127.0.0.1', "
            f"{port}))))(__import__('socket').socket())[1]",
        )
        assert outcome != 0  # refused: nothing listens in the sandbox's own network
        with pytest.raises(TimeoutError):
            listener.accept()
    finally:
        listener.close()
    assert value(shared, "[name for _, name in __import__('socket').if_nameindex()]") == ["lo"]


def test_timeout_interrupts_and_the_kernel_stays_usable(tmp_path):
    with SandboxedKernel(tmp_path, FAST) as kernel:
        ok(kernel, "kept = 'state'")
        spin = kernel.execute("while True:\n    pass", timeout=1)
        assert spin.status == "timeout" and 1 <= spin.seconds < 2.5
        assert "time limit of 1 s" in spin.evalue
        assert kernel.alive
        sleep = kernel.execute("import time\ntime.sleep(10**6)", timeout=1)
        assert sleep.status == "timeout" and sleep.seconds < 2.5
        assert value(kernel, "kept") == "state"


def test_timeout_kills_a_cell_that_ignores_the_interrupt(tmp_path):
    with SandboxedKernel(tmp_path, FAST) as kernel:
        procs = kernel.processes()
        result = kernel.execute(
            "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass",
            timeout=1,
        )
        assert result.status == "timeout" and result.seconds < 1 + INTERRUPT_GRACE + 1
        assert "did not stop" in result.evalue
        assert not kernel.alive and gone(procs)
        later = kernel.execute("1 + 1")
        assert later.status == "died" and later.seconds == 0


def test_total_time_limit(tmp_path):
    limits = SandboxLimits(
        cell_timeout=3, total_timeout=1.5, memory_mb=512, cpu_wait_allowance=0.0
    )
    with SandboxedKernel(tmp_path, limits) as kernel:
        ok(kernel, "import time\ntime.sleep(1)")
        result = kernel.execute("time.sleep(5)")
        assert result.status == "timeout" and result.seconds < 1.5
        assert "total time limit" in result.evalue
        assert kernel.execute("1").status == "died"
        assert 1.4 < kernel.time_used < 2.5


@pytest.mark.parametrize(
    "bomb",
    [
        "x = bytearray(10**10)",
        "chunks = []\nwhile True:\n    chunks.append(bytearray(100 * 2**20))",
        # files in the private /tmp live in memory too
        "with open('/tmp/big', 'wb') as f:\n    for _ in range(100):\n"
        "        f.write(bytes(10 * 2**20))",
    ],
    ids=["one-allocation", "growing", "tmpfs"],
)
def test_memory_bomb_is_stopped(tmp_path, bomb):
    with SandboxedKernel(tmp_path, FAST) as kernel:
        procs = kernel.processes()
        result = kernel.execute(bomb)
        assert result.status == "memory", result
        assert "512 MB" in result.evalue and result.seconds < 3
        assert gone(procs)
        assert kernel.execute("1").status == "died"


@pytest.mark.parametrize(
    "bomb",
    [
        "import subprocess\nkids = [subprocess.Popen(['sleep', '1000']) for _ in range(500)]",
        "import os, time\nfor _ in range(500):\n    if os.fork() == 0:\n"
        "        time.sleep(1000)\n        os._exit(0)",
    ],
    ids=["subprocesses", "forks"],
)
def test_fork_bomb_is_stopped(tmp_path, bomb):
    with SandboxedKernel(tmp_path, FAST) as kernel:
        result = kernel.execute(bomb)
        assert result.status == "processes", result
        assert "64 processes" in result.evalue
        assert kernel.processes() == []


def test_output_beyond_the_cap_is_truncated(tmp_path):
    with SandboxedKernel(tmp_path, FAST) as kernel:
        result = kernel.execute(
            "from IPython.display import HTML, display\n"
            "for _ in range(30):\n    print('y' * 9_999)\n"
            "for _ in range(3):\n    display(HTML('z' * 1000))"
        )
        assert result.status == "ok" and result.truncated
        assert len(result.stdout) == FAST.max_output_bytes and result.displays == []
        assert kernel.alive


@pytest.mark.parametrize(
    "flood",
    ["print('x' * 200_000_000)", "for _ in range(200_000):\n    print('y' * 1000)"],
    ids=["one-200MB-print", "200MB-of-lines"],
)
def test_huge_output_kills_the_kernel_without_reaching_the_grader(tmp_path, flood):
    limits = SandboxLimits(cell_timeout=20, memory_mb=4096, max_output_bytes=100_000)
    me = psutil.Process()
    with SandboxedKernel(tmp_path, limits) as kernel:
        before = me.memory_info().rss
        result = kernel.execute(flood)
        grew = me.memory_info().rss - before
        assert result.status == "output", result
        assert result.truncated and len(result.stdout) <= limits.max_output_bytes
        assert grew < 50 * 2**20
        assert kernel.execute("1").status == "died"


DETACH = """
import os, subprocess, time
subprocess.Popen(["sleep", "1000"], start_new_session=True)
if os.fork() == 0:  # double fork: the grandchild is orphaned and in a session of its own
    os.setsid()
    if os.fork() == 0:
        os.execvp("sleep", ["sleep", "1001"])
    os._exit(0)
time.sleep(0.5)
"""


@pytest.mark.parametrize("sandboxed", [True, False], ids=["bwrap", "fallback"])
def test_detached_processes_die_with_the_kernel(tmp_path, monkeypatch, sandboxed):
    if not sandboxed:
        monkeypatch.setattr(sandbox, "BWRAP", None)
    kernel = SandboxedKernel(tmp_path, FAST)
    kernel.start()
    assert kernel.sandboxed is sandboxed
    ok(kernel, DETACH)
    procs = kernel.processes()
    sleepers = [p for p in procs if p.name() == "sleep"]
    assert len(sleepers) == 2  # both still counted in the kernel's tree
    runtime = kernel._runtime
    kernel.shutdown()
    kernel.shutdown()  # idempotent
    assert gone(procs) and not kernel.alive
    assert not runtime.exists()
    assert kernel.execute("1").status == "died"


def test_kernel_outlives_the_thread_that_started_it(tmp_path):
    started = []
    thread = threading.Thread(
        target=lambda: started.append(SandboxedKernel(tmp_path, FAST).__enter__())
    )
    thread.start()
    thread.join()
    kernel = started[0]
    try:
        time.sleep(0.3)
        assert kernel.alive and value(kernel, "6 * 7") == 42
    finally:
        kernel.shutdown()


GRADER = """
import sys, time
from pathlib import Path
from autograder.engine.sandbox import kernel as sandbox
if sys.argv[1] == "fallback":
    sandbox.BWRAP = None
kernel = sandbox.SandboxedKernel(Path(sys.argv[2]))
kernel.start()
kernel.execute("import subprocess\\nsubprocess.Popen(['sleep', '999'], start_new_session=True)")
print(kernel._runtime, *(p.pid for p in kernel.processes()), flush=True)
time.sleep(60)
"""


@pytest.mark.parametrize("mode", ["bwrap", "fallback"])
def test_everything_dies_with_the_grader(tmp_path, mode):
    grader = subprocess.Popen(
        [sys.executable, "-c", GRADER, mode, str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        runtime, *pids = grader.stdout.readline().split()
    finally:
        grader.kill()
        grader.wait()
        grader.stdout.close()
    shutil.rmtree(runtime)  # the grader had no chance to
    assert len(pids) >= 3  # bwrap or the reaper, the kernel, the detached sleep
    procs = []
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            procs.append(psutil.Process(int(pid)))
    deadline = time.monotonic() + 5
    while not gone(procs) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gone(procs)


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("import os\nos._exit(0)", "died"),
        ("import ctypes\nctypes.string_at(0)", "died"),
        ("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", "died"),
        ("import sys\nsys.exit(3)", "error"),
        ("import os\nos.kill(os.getppid(), 9)", "ok"),
    ],
    ids=["os._exit", "segfault", "SIGKILL-self", "sys.exit", "kill-parent"],
)
def test_kernel_that_ends_by_itself(tmp_path, code, status):
    with SandboxedKernel(tmp_path, FAST) as kernel:
        procs = kernel.processes()
        result = kernel.execute(code)
        assert result.status == status, result
        assert result.seconds < 3
        if status == "died":
            assert result.evalue.startswith("the kernel died")
            assert gone(procs)
            assert kernel.execute("1").status == "died"
        elif status == "error":
            # ipykernel catches SystemExit: an error in the cell, and the kernel carries on.
            assert (result.ename, result.evalue) == ("SystemExit", "3")
            assert kernel.alive and value(kernel, "1 + 1") == 2
        else:
            # The kernel's parent is pid 1 of the sandbox's PID namespace, which cannot be
            # killed from inside it.
            assert kernel.alive and value(kernel, "1 + 1") == 2


def test_segfault_message_names_the_signal(tmp_path):
    with SandboxedKernel(tmp_path, FAST) as kernel:
        result = kernel.execute("import ctypes\nctypes.string_at(0)")
        assert result.status == "died" and "SIGSEGV" in result.evalue


def test_fallback_without_bubblewrap_says_so_loudly(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "BWRAP", None)
    monkeypatch.setenv(SECRET_VAR, SECRET)
    with SandboxedKernel(tmp_path, FAST) as kernel:
        assert kernel.sandboxed is False
        assert kernel.warnings[0] == NOT_SANDBOXED_WARNING
        assert "bwrap" in kernel.warnings[1]
        env = value(kernel, "dict(__import__('os').environ)")
        assert SECRET_VAR not in env and env["MPLBACKEND"] == "Agg"
        assert value(kernel, "__import__('os').getcwd()") == str(tmp_path.resolve())
        assert kernel.execute("while True:\n    pass", timeout=1).status == "timeout"
        assert kernel.alive
        # without the PID namespace the kernel's parent is the reaper: killing it ends all
        assert kernel.execute("import os\nos.kill(os.getppid(), 9)").status == "died"


@pytest.mark.parametrize("bwrap", [None, "/bin/false"], ids=["missing", "broken"])
def test_require_sandbox_refuses_to_run_unsandboxed(tmp_path, monkeypatch, bwrap):
    monkeypatch.setattr(sandbox, "BWRAP", bwrap)
    kernel = SandboxedKernel(tmp_path, FAST, require_sandbox=True)
    with pytest.raises(SandboxUnavailable):
        kernel.start()
    assert not kernel.alive


def test_a_broken_bwrap_falls_back(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "BWRAP", "/bin/false")
    with SandboxedKernel(tmp_path, FAST) as kernel:
        assert not kernel.sandboxed and kernel.warnings[0] == NOT_SANDBOXED_WARNING
        assert "cannot create the sandbox" in kernel.warnings[1]
        assert value(kernel, "6 * 7") == 42


def test_a_kernel_that_cannot_start_raises(tmp_path):
    kernel = SandboxedKernel(tmp_path, FAST, env={"PYTHONHOME": "/nowhere"})
    with pytest.raises(KernelStartError, match="exited during start-up"):
        kernel.start()
    assert "nowhere" in kernel.stderr_log or "encodings" in kernel.stderr_log
    assert not kernel.alive


@pytest.mark.skipif(sandbox.BWRAP is None, reason="only the sandbox binds folders")
@pytest.mark.parametrize(
    "folder", [REPO / "solutions", REPO / "reference_impl", REPO, REPO.parent], ids=str
)
def test_refuses_to_bind_course_material(tmp_path, folder):
    kernel = SandboxedKernel(tmp_path, FAST, readonly_paths=[folder])
    with pytest.raises(ValueError, match="secret"):
        kernel.start()
    assert kernel.execute("1").status == "died"
