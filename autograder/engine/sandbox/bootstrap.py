"""The first program of the sandbox: start ipykernel, and keep what it starts together.

Run as a script, never imported by the grader::

    python bootstrap.py MODE NPROC GRADER_PID <ipykernel arguments...>

It switches core dumps off (and, when NPROC > 0, sets RLIMIT_NPROC), then either becomes the
kernel (MODE ``exec``: under bubblewrap, whose PID namespace already holds everything together;
first it exits if the grader is already gone, see :func:`lifeline_cut`)
or (MODE ``reap``: the unsandboxed fallback) stays as a small init: a child subreaper, so that
processes the student detaches are reparented to it and stay inside the tree the watchdog sees
and kills. When the kernel ends, or the grader dies (SIGTERM through PR_SET_PDEATHSIG), the
reaper kills whatever is left below it and exits with the kernel's exit status.

The grader copies this file's text into the kernel's private runtime folder and runs that copy:
the engine's own folder is never visible inside the sandbox. So this file imports nothing but
the standard library.
"""

import ctypes
import os
import resource
import select
import signal
import sys

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36


class GraderGone(Exception):
    """The grader died: SIGTERM arrived through PR_SET_PDEATHSIG."""


def grader_gone(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise GraderGone


def children(me: int) -> list[int]:
    """The processes whose parent is ``me``, read from /proc."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open("/proc/" + name + "/stat", "rb") as stat:
                    fields = stat.read().rsplit(b")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[1]) == me:
                found.append(int(name))
    return found


def reap(command: list[str], grader: int) -> int:
    """Run ``command`` as a child, wait for it, then kill all that is left; its exit status."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    me = os.getpid()
    kernel = os.fork()
    if kernel == 0:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        os.execv(sys.executable, command)

    code = 137
    signal.signal(signal.SIGTERM, grader_gone)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    try:
        if os.getppid() == grader:
            while True:
                pid, status = os.wait()
                if pid == kernel:
                    code = os.waitstatus_to_exitcode(status)
                    break
    except GraderGone:
        pass
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        for pid in children(me):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            os.wait()
        except ChildProcessError:
            break
    return code if code >= 0 else 128 - code


def lifeline_cut() -> None:
    """Exit when the grader is already gone; then close the lifeline.

    The grader holds the only write end of a pipe whose read end it passes down
    (``NNGRADE_LIFELINE_FD``) and never writes to it: readable means end of file, the grader
    died. bubblewrap's init asks for SIGKILL when the outer bubblewrap dies, but only once it
    runs; a grader killed before that would leave the sandbox running. By the time this runs
    the init has asked, so after this check the chain of parent-death signals holds.
    """
    fd = os.environ.pop("NNGRADE_LIFELINE_FD", None)
    if fd is None:
        return
    ready, _, _ = select.select([int(fd)], [], [], 0)
    if ready:
        os._exit(1)
    os.close(int(fd))


def main(argv: list[str]) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    mode, nproc, grader = argv[1], int(argv[2]), int(argv[3])
    if nproc > 0:
        try:
            resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
        except (OSError, ValueError):
            pass
    command = [sys.executable, "-m", "ipykernel_launcher"] + argv[4:]
    if mode == "exec":
        lifeline_cut()
        os.execv(sys.executable, command)
    os._exit(reap(command, grader))


if __name__ == "__main__":
    main(sys.argv)
