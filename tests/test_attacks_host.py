"""Attacks on the grading host, each run in a real sandboxed kernel and checked from outside.

Every attack cell runs in a :class:`SandboxedKernel` with ``require_sandbox=True`` in a work
folder from :func:`work_folder`, as the grader uses them; the checks read the host: the files'
owners, ``/proc/self/mountinfo``, ``/proc/<pid>/status``, the disk, the cgroups' own counters.
They need what a grading host provides: root, bubblewrap, the sandbox user, cgroups.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import replace
from pathlib import Path

import psutil
import pytest

from autograder.engine.sandbox import SandboxedKernel, SandboxLimits, cgroups, work_folder
from autograder.engine.sandbox.identity import sandbox_user
from autograder.engine.sandbox.workdir import remove_tree

USER, WHY_NOT = sandbox_user()
pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("bwrap") is None or USER is None or cgroups.available(),
    reason=f"needs a grading host (root, bwrap, cgroups, the sandbox user): {WHY_NOT}",
)

LIMITS = SandboxLimits(
    cell_timeout=20, total_timeout=120, memory_mb=1024, max_processes=64, max_tasks=256,
    max_output_bytes=100_000, workdir_mb=256,
)  # fmt: skip


def mount_of(path: Path) -> tuple[str, str, str] | None:
    """(mount point, mount options, filesystem type) of the mount that holds ``path``."""
    best = None
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, _, right = line.partition(" - ")
        fields = left.split()
        point = fields[4]
        if str(path) == point or str(path).startswith(point.rstrip("/") + "/"):
            if best is None or len(point) > len(best[0]):
                best = (point, fields[5], right.split()[0])
    return best


def run(kernel: SandboxedKernel, code: str, timeout: float | None = None):
    return kernel.execute(textwrap.dedent(code), timeout=timeout)


@pytest.fixture
def sandbox():
    """A kernel in a grading work folder: ``(kernel, folder)``."""
    with work_folder(LIMITS.workdir_mb * 2**20) as folder:
        with SandboxedKernel(folder.path, LIMITS, require_sandbox=True) as kernel:
            yield kernel, folder
        assert folder.warnings == []


def test_the_sandbox_runs_as_the_sandbox_user_never_root(sandbox):
    kernel, _ = sandbox
    assert kernel.enforcement["user"] == USER.describe()
    uid = run(kernel, "import os\nprint(os.getuid())").stdout.strip()
    assert uid == "65534"  # inside
    procs = kernel.processes()
    assert len(procs) >= 3  # bwrap, its init, the kernel
    for proc in procs:
        status = Path(f"/proc/{proc.pid}/status").read_text()
        uids = next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1:]
        assert uids == [str(USER.uid)] * 4, (proc, uids)


def test_setuid_shell_in_the_work_folder_gives_nobody_root(sandbox):
    kernel, folder = sandbox
    result = run(
        kernel,
        """
        import os, shutil
        shutil.copy('/bin/bash', 'rootshell')
        os.chmod('rootshell', 0o4755)
        os.chmod('.', 0o777)
        """,
    )
    assert result.status == "ok", result
    shell = folder.path / "rootshell"
    info = shell.stat()
    assert info.st_uid == USER.uid and info.st_uid != 0
    point, options, fstype = mount_of(folder.path)
    assert point == str(folder.path) and fstype == "tmpfs"
    assert {"nosuid", "nodev"} <= set(options.split(","))
    # Another unprivileged user of the host cannot even reach it (private parent)...
    other = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    done = subprocess.run([*other, str(shell), "-p", "-c", "id -u"], capture_output=True)
    assert done.returncode != 0 and done.stdout.strip() != b"0"
    assert not os.access(folder.path.parent, os.X_OK) or os.geteuid() == 0
    assert (folder.path.parent.stat().st_mode & 0o007) == 0
    # ...and even the one user who can reach it does not become root by it.
    mine = ["setpriv", f"--reuid={USER.uid}", f"--regid={USER.gid}", "--clear-groups"]
    done = subprocess.run([*mine, str(shell), "-p", "-c", "id -u"], capture_output=True)
    assert done.stdout.strip() != b"0"


def test_memfd_beyond_the_memory_limit_is_killed_and_named(sandbox):
    kernel, _ = sandbox
    assert kernel.enforcement["memory"].startswith("cgroup")
    result = run(
        kernel,
        """
        import os
        fd = os.memfd_create('hoard')
        chunk = b'x' * 2**24
        for _ in range(3 * 64):  # 3 GiB
            os.write(fd, chunk)
        """,
    )
    assert result.status == "memory", result
    assert "more than 1024 MB of memory" in result.evalue
    assert run(kernel, "1").status == "died"


def _host_tasks() -> int:
    return int(Path("/proc/loadavg").read_text().split()[3].split("/")[1])


def test_two_thousand_threads_stop_at_the_task_limit(sandbox):
    kernel, _ = sandbox
    before, peak = _host_tasks(), [0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.02):
            peak[0] = max(peak[0], _host_tasks())

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        result = run(
            kernel,
            """
            import threading, time
            threads = []
            for _ in range(2000):
                t = threading.Thread(target=time.sleep, args=(60,))
                t.start()
                threads.append(t)
            """,
        )
    finally:
        stop.set()
        sampler.join()
    assert result.status == "processes", result
    assert "more than 256 processes or threads" in result.evalue
    # Other graders on this host start and end tasks too: a margin, far below 2,000.
    assert peak[0] - before < LIMITS.max_tasks + 150


def test_four_gib_in_the_work_folder_stop_at_the_cap(sandbox):
    kernel, folder = sandbox
    free_before = shutil.disk_usage("/").free
    result = run(
        kernel,
        """
        import errno
        chunk = b'x' * 2**24
        written = 0
        try:
            with open('big', 'wb') as f:
                while written < 4 * 2**30:
                    f.write(chunk)
                    written += len(chunk)
        except OSError as error:
            print(errno.errorcode[error.errno], written // 2**20)
        """,
    )
    assert result.status == "ok", result
    code, mib = result.stdout.split()
    assert code == "ENOSPC" and int(mib) <= LIMITS.workdir_mb
    assert shutil.disk_usage("/").free > free_before - 200 * 2**20  # the host's disk untouched
    assert run(kernel, "1").status == "ok"  # the kernel carries on


def test_a_deep_tree_is_cleaned_up_and_nothing_stays_on_the_host():
    with work_folder(LIMITS.workdir_mb * 2**20) as folder:
        with SandboxedKernel(folder.path, LIMITS, require_sandbox=True) as kernel:
            result = run(
                kernel,
                "import os\nfor _ in range(3000):\n    os.mkdir('d')\n    os.chdir('d')\n",
            )
            assert result.status == "ok", result
        parent = folder.path.parent
    assert folder.warnings == []
    assert not parent.exists()
    assert str(parent) not in Path("/proc/self/mountinfo").read_text()


def test_a_deep_plain_folder_is_removed_too(tmp_path):
    # The fallback's clean-up (no mount) on a tree deeper than Python's recursion limit.
    here = tmp_path / "deep"
    here.mkdir()
    fd = os.open(here, os.O_RDONLY)
    for _ in range(3000):
        os.mkdir("d", dir_fd=fd)
        new = os.open("d", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = new
    os.close(fd)
    assert remove_tree(here) is None and not here.exists()


BUSY = """
import os
for _ in range(60):
    if os.fork() == 0:
        os.setsid()
        while True:
            pass
"""
WORK = """
import time
began = time.perf_counter()
x = 0
for i in range({n}):
    x += i * i
print(time.perf_counter() - began)
"""


def test_sixty_busy_processes_do_not_starve_an_honest_kernel():
    n = 3_000_000
    with work_folder(2**26) as honest_dir, work_folder(2**26) as hostile_dir:
        exact = replace(LIMITS, cpu_wait_allowance=0.0)  # only the CPU share helps here
        with SandboxedKernel(honest_dir.path, exact, require_sandbox=True) as honest:
            alone = run(honest, WORK.format(n=n))
            assert alone.status == "ok", alone
            alone_s = float(alone.stdout)
            limits = SandboxLimits(max_processes=70, max_tasks=256, memory_mb=1024)
            with SandboxedKernel(hostile_dir.path, limits, require_sandbox=True) as hostile:
                assert run(hostile, BUSY).status == "ok"
                time.sleep(0.5)
                # Without a CPU share per sandbox it gets 2 of 62 runnable processes' CPU.
                budget = max(8 * alone_s, 3.0)
                loaded = run(honest, WORK.format(n=n), timeout=budget)
                assert loaded.status == "ok", (alone_s, loaded)
                assert float(loaded.stdout) < budget


GRADER = """
import sys, time
from pathlib import Path
from autograder.engine.sandbox import SandboxedKernel, SandboxLimits, work_folder
with work_folder(2**26) as folder:
    with SandboxedKernel(folder.path, SandboxLimits(), require_sandbox=True) as kernel:
        kernel.execute(
            "import os, time\\n"
            "if os.fork() == 0:\\n"
            "    os.setsid()\\n"
            "    if os.fork() == 0:\\n"
            "        time.sleep(1000)\\n"
            "    os._exit(0)\\n"
        )
        while True:
            kernel.execute("sum(range(100000))")
"""


def sandbox_processes_of(grader_pid: int) -> list[int]:
    """The running (not zombie) processes of the sandbox user in a cgroup of the grader
    ``grader_pid``."""
    found = []
    for proc in psutil.process_iter(["uids", "status"]):
        try:
            if proc.info["uids"] is None or proc.info["uids"].real != USER.uid:
                continue
            if proc.info["status"] == psutil.STATUS_ZOMBIE:
                continue  # dead, waiting for the host's init to reap it: nothing runs
            groups = Path(f"/proc/{proc.pid}/cgroup").read_text()
        except (OSError, psutil.Error):
            continue
        if f"/nngrade/{grader_pid}-" in groups:
            found.append(proc.pid)
    return found


#: Seconds a killed grader's sandbox gets to finish dying before what is left counts.
SETTLE = 15.0


def survivors_after_random_kills(trials: int, seed: int = 0) -> tuple[int, int]:
    """SIGKILL a grading process at a random moment, ``trials`` times: (survivors right
    after, survivors after the next start's sweep)."""
    rng = random.Random(seed)
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    right_after = after_sweep = 0
    for _ in range(trials):
        grader = subprocess.Popen([sys.executable, "-c", GRADER], env=env)
        time.sleep(rng.uniform(0.05, 2.0))
        grader.send_signal(signal.SIGKILL)
        grader.wait()
        # The parent-death signals and the PID namespace's teardown are asynchronous: on a
        # host at load 10 they once took more than 2 s. A survivor (the setsid'd sleep of
        # 1000 s) would still be there after SETTLE seconds; a dying sandbox is not.
        deadline = time.monotonic() + SETTLE
        while sandbox_processes_of(grader.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        right_after += len(sandbox_processes_of(grader.pid))
        cgroups.sweep()
        after_sweep += len(sandbox_processes_of(grader.pid))
    return right_after, after_sweep


def test_no_sandbox_survives_a_grader_killed_at_a_random_moment():
    assert survivors_after_random_kills(6) == (0, 0)


CROWDED = """
import os, time
children = []
# 4 busy processes on this host's 2 cores: always one waiting for a CPU. They all stop at the
# same moment: had each spun 1.5 s from its own start, the forks' spread on a loaded host would
# leave a tail with fewer busy processes than cores, which is time the cell is charged.
stop = time.monotonic() + 1.5
for _ in range(4):
    pid = os.fork()
    if pid == 0:
        while time.monotonic() < stop:
            pass
        os._exit(0)
    children.append(pid)
for pid in children:
    os.waitpid(pid, 0)
"""


@pytest.mark.skipif(os.cpu_count() != 2, reason="the crowding is sized for 2 cores")
def test_time_spent_waiting_for_a_cpu_is_not_the_cells():
    exact = SandboxLimits(cell_timeout=1.0, cpu_wait_allowance=0.0)
    fair = SandboxLimits(cell_timeout=1.0, cpu_wait_allowance=3.0)
    with work_folder(2**26) as folder:
        with SandboxedKernel(folder.path, exact, require_sandbox=True) as kernel:
            assert "time" not in kernel.enforcement
            assert run(kernel, CROWDED).status == "timeout"
        with SandboxedKernel(folder.path, fair, require_sandbox=True) as kernel:
            assert "cpu.pressure" in kernel.enforcement["time"]
            result = run(kernel, CROWDED)
            assert result.status == "ok", result
            assert kernel.time_used < result.seconds  # the wait is not charged in total
