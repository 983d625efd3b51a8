"""The sandboxed kernel as the engine uses it: :class:`SandboxedKernel`, one per submission.

A thin facade. It decides between bubblewrap and the loudly reported fallback, prepares the
private runtime folder (passwd and group), and then leaves the work to the parts: the kernel's
environment and command line (:mod:`.command`), the mount plan (:mod:`.mounts`), the process
tree and the watchdog (:mod:`.supervisor`) and the message channel (:mod:`.channel`). What is
enforced and how is described in the package documentation (:mod:`autograder.engine.sandbox`).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import psutil

from autograder.engine.sandbox import cgroups, host, workdir
from autograder.engine.sandbox.cell import died
from autograder.engine.sandbox.channel import Channel
from autograder.engine.sandbox.command import kernel_command, kernel_env, private_tmp
from autograder.engine.sandbox.identity import SandboxUser, sandbox_user
from autograder.engine.sandbox.launch import child_setup
from autograder.engine.sandbox.mounts import SANDBOX_UID, MountPlan, bwrap_argv
from autograder.engine.sandbox.output import CellResult
from autograder.engine.sandbox.supervisor import (
    ProcessTree,
    SamplingWatchdog,
    SandboxLimits,
    Watchdog,
    fallback_nproc,
)

__all__ = [
    "BWRAP",
    "NOT_LIMITED_WARNING",
    "NOT_SANDBOXED_WARNING",
    "ROOT_MAPPED_WARNING",
    "SandboxUnavailable",
    "SandboxedKernel",
]

log = logging.getLogger(__name__)

#: The bubblewrap executable; ``None`` when it is not installed. Read here, at each start:
#: tests set this to ``None`` (or to a program that fails) to exercise the unsandboxed fallback.
BWRAP: str | None = shutil.which("bwrap")

NOT_SANDBOXED_WARNING = (
    "NOT SANDBOXED: bubblewrap is not available; the submission runs with the grader's privileges"
)

NOT_LIMITED_WARNING = (
    "LIMITS SAMPLED, NOT ENFORCED: no cgroup for this sandbox; a watchdog samples memory and "
    "processes every 50 ms (memfd, threads and short bursts escape it)"
)
ROOT_MAPPED_WARNING = (
    "SANDBOX UID IS ROOT'S: bubblewrap runs as the grader (root), so the sandbox's uid maps to "
    "root on the host"
)


class SandboxUnavailable(RuntimeError):
    """The sandbox was required but bubblewrap is missing or cannot create its namespaces."""


class SandboxedKernel:
    """One ipykernel for one submission. See the package documentation."""

    def __init__(
        self,
        workdir: Path,
        limits: SandboxLimits = SandboxLimits(),  # noqa: B008 (frozen, so shared is fine)
        readonly_paths: Sequence[Path] = (),
        require_sandbox: bool = False,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.workdir = Path(workdir).resolve()
        if not self.workdir.is_dir():
            raise FileNotFoundError(f"work folder {self.workdir} does not exist")
        self.limits = limits
        self.readonly_paths = [Path(p).resolve() for p in readonly_paths]
        for path in self.readonly_paths:
            if not path.exists():
                raise FileNotFoundError(f"read-only path {path} does not exist")
        self.require_sandbox = require_sandbox
        self.extra_env = {str(k): str(v) for k, v in (env or {}).items()}
        self.sandboxed = False
        self.warnings: list[str] = []
        #: The command line that started the kernel (bwrap's, when sandboxed).
        self.argv: list[str] = []
        #: Seconds from :meth:`start` until the kernel answered.
        self.start_seconds: float | None = None

        self._started = False
        self._closed = False
        self._runtime: Path | None = None
        self._tree = ProcessTree()
        self._channel = Channel(limits, self._tree)
        self._watchdog: Watchdog | None = None
        self._lock = threading.RLock()
        self._used = 0.0
        self._user: SandboxUser | None = None
        self._limiter: cgroups.CgroupLimiter | None = None
        self._loan: workdir.Loan | None = None
        self._lifeline: int | None = None
        #: Which limit is enforced and how, in words (for the results).
        self.enforcement: dict[str, str] = {}

    # ------------------------------------------------------------------ public API

    def __enter__(self) -> SandboxedKernel:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()

    @property
    def alive(self) -> bool:
        """Whether the kernel runs and can take the next cell."""
        return (
            self._started
            and not self._closed
            and self._tree.death is None
            and self._tree.root_running()
            and self._tree.kernel_running()
        )

    @property
    def time_used(self) -> float:
        """Seconds of execution used so far (counted against ``total_timeout``)."""
        return self._used

    def start(self) -> None:
        """Start the kernel and wait until it answers (about 0.3 s).

        Raises :class:`SandboxUnavailable` when the sandbox is required and cannot be had,
        :class:`KernelStartError` when the kernel does not come up, and ``ValueError`` when a
        folder to bind would show course material. Nothing is left running after a failure.
        """
        if self._started:
            raise RuntimeError("the kernel was already started")
        self._started = True
        began = time.monotonic()
        try:
            use_bwrap = self._choose_sandbox()
            self._runtime = Path(tempfile.mkdtemp(prefix="nngrade-kernel-")).resolve()
            self._choose_limiter(use_bwrap)
            self._launch(use_bwrap)
            self._channel.wait_until_ready(began)
            self._tree.note_started()
            self._channel.watch_connection()
        except BaseException:
            self.shutdown()
            raise
        self.start_seconds = time.monotonic() - began
        drain = self._channel.drain_when_idle
        if self._limiter is not None:
            self._limiter.tree, self._limiter.between_cells = self._tree, drain
            self._watchdog = self._limiter
        else:
            self._watchdog = SamplingWatchdog(
                self._tree, self.limits, self.sandboxed, between_cells=drain
            )
        self._watchdog.start()

    def execute(self, code: str, timeout: float | None = None, silent: bool = False) -> CellResult:
        """Run ``code`` as one cell and return what it did. Never raises for the cell's sake.
        ``silent``: the grader's own request (see :meth:`Channel.execute`)."""
        if not self._started:
            raise RuntimeError("start() the kernel first")
        if self._closed:
            return died("the kernel was shut down")
        tree = self._tree
        if tree.death is None and not (tree.root_running() and tree.kernel_running()):
            tree.on_death()
        if tree.death is not None:
            return died(tree.settled_death()[1])  # type: ignore[index]
        limits = self.limits
        result = self._channel.execute(
            code,
            limits.cell_timeout if timeout is None else timeout,
            remaining=max(limits.total_timeout - self._used, 0.0),
            silent=silent,
        )
        # The time the sandbox waited for a CPU (other gradings) is not the notebook's.
        self._used += max(result.seconds - self._channel.last_stalled, 0.0)
        if tree.death is None and self._used >= limits.total_timeout:
            tree.kill("timeout", self._channel.total_message())
        return result

    def shutdown(self) -> None:
        """Kill the kernel and everything it started, and remove the runtime folder.

        Idempotent. Afterwards no process of the kernel's tree exists.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if self._watchdog is not None:
            self._watchdog.stop()
        self._tree.shutdown()
        if self._lifeline is not None:
            os.close(self._lifeline)
            self._lifeline = None
        self._channel.close()
        if self._limiter is not None:
            self.warnings.extend(self._limiter.remove())
        if self._loan is not None:
            self.warnings.extend(self._loan.end(self.workdir))
        if self._runtime is not None:
            problem = workdir.remove_tree(self._runtime)  # never crosses into a mount
            if problem:
                self.warnings.append(problem)

    def processes(self) -> list[psutil.Process]:
        """The processes of the kernel's tree right now (bubblewrap's own included)."""
        return self._tree.processes()

    @property
    def stderr_log(self) -> str:
        """The first 64 KiB the kernel process wrote to its own stderr (start-up errors)."""
        return self._tree.stderr_log

    # ------------------------------------------------------------------ starting

    def _choose_sandbox(self) -> bool:
        problem = "bubblewrap (bwrap) is not installed" if not BWRAP else host.bwrap_problem(BWRAP)
        if problem is None:
            self._choose_user()
            return True
        if self.require_sandbox:
            raise SandboxUnavailable(f"the grading sandbox is required, but {problem}")
        self.warnings.append(NOT_SANDBOXED_WARNING)
        self.warnings.append(f"reason: {problem}")
        log.warning("%s (%s)", NOT_SANDBOXED_WARNING, problem)
        return False

    def _choose_user(self) -> None:
        """The sandbox user bubblewrap runs as; without one, refuse or warn loudly."""
        user, problem = sandbox_user()
        if user is not None and os.geteuid() == 0:
            assert BWRAP is not None
            problem = host.bwrap_problem(BWRAP, user.uid, user.gid)
        if problem is None and user is not None:
            self._user = user
            self.enforcement["user"] = user.describe()
            return
        if self.require_sandbox:
            raise SandboxUnavailable(f"the grading sandbox is required, but {problem}")
        self.warnings.append(ROOT_MAPPED_WARNING if os.geteuid() == 0 else f"user: {problem}")
        self.warnings.append(f"reason: {problem}")
        log.warning("sandbox user: %s", problem)
        self.enforcement["user"] = f"the grader's own uid {os.geteuid()} (NOT a sandbox user)"

    def _choose_limiter(self, use_bwrap: bool) -> None:
        """The sandbox's cgroups, after killing what dead graders left; else the watchdog."""
        problem = cgroups.available()
        if problem is None:
            try:
                cgroups.sweep()
                self._limiter = cgroups.CgroupLimiter(self.limits)
            except OSError as error:
                problem = f"the sandbox's cgroups could not be made: {error}"
        if self._limiter is not None:
            self._limiter.overhead = 2 if use_bwrap else 1  # bwrap and its init; the reaper
            self._tree.explain = self._limiter.verdict
            if self._limiter.cpu_stall() is not None and self.limits.cpu_wait_allowance > 0:
                self._channel.stall = self._limiter.cpu_stall
                self._channel.stall_allowance = self.limits.cpu_wait_allowance
            self._tree.kill_rest = self._limiter.kill_all
            self.enforcement.update(self._limiter.enforcement)
            return
        if self.require_sandbox:
            raise SandboxUnavailable(f"the grading sandbox is required, but {problem}")
        self.warnings.append(NOT_LIMITED_WARNING)
        self.warnings.append(f"reason: {problem}")
        log.warning("%s (%s)", NOT_LIMITED_WARNING, problem)
        self.enforcement.update(
            memory=f"sampled every 50 ms, {self.limits.memory_mb} MB (NOT enforced)",
            processes=f"sampled every 50 ms, {self.limits.max_processes} (NOT enforced)",
            cpu="not limited",
        )

    def _bwrap_command(self, env: Mapping[str, str], inner: list[str]) -> list[str]:
        assert BWRAP is not None and self._runtime is not None
        plan = MountPlan(
            bwrap=BWRAP,
            features=host.bwrap_features(BWRAP),
            system=host.system_paths(),
            python_prefixes=host.python_prefixes(),
            nnkit=host.nnkit_dir(),
            readonly_paths=tuple(self.readonly_paths),
            runtime=self._runtime,
            workdir=self.workdir,
            sources=tuple(self._loan.sources.items()) if self._loan is not None else (),
            secret_dirs=tuple(host.secret_dirs()),
            course_repo=host.course_repo(),
            env=tuple(env.items()),
            memory_bytes=self.limits.memory_mb * 1024 * 1024,
            command=tuple(inner),
        )
        return bwrap_argv(plan)

    def _launch(self, use_bwrap: bool) -> None:
        assert self._runtime is not None
        runtime = self._runtime
        connection_file = runtime / "kernel.json"
        # The numeric libraries' thread counts, unless the grader's own variables set them.
        env = kernel_env(private_tmp(runtime, use_bwrap),
                         {**self.limits.thread_env, **self.extra_env})
        lifeline: tuple[int, ...] = ()
        if use_bwrap:  # see bootstrap.lifeline_cut: the grader keeps the only write end
            read_end, self._lifeline = os.pipe()
            lifeline = (read_end,)
            env["NNGRADE_LIFELINE_FD"] = str(read_end)
        gid = None
        if use_bwrap and self._user is not None:
            user = self._user
            gid = user.gid
            os.chown(runtime, 0, user.gid)
            os.chmod(runtime, 0o770)  # the grader and the sandbox user, no one else
            self._loan = loan = workdir.Loan(runtime)
            reachable = not host.unreachable_for(user, [], [self.workdir])
            loan.lend_workdir(self.workdir, user, reachable)
            shown = [*host.python_prefixes(), *self.readonly_paths]
            if (nnkit := host.nnkit_dir()) is not None:
                shown.append(nnkit)
            for folder in host.unreachable_for(user, shown):
                loan.bridge(Path(folder), writable=False)
        seen = self._loan.sources.get(self.workdir, self.workdir) if self._loan else self.workdir
        self.enforcement["workdir"] = workdir.describe(seen)
        if use_bwrap:
            (runtime / "passwd").write_text(
                f"sandbox:x:{SANDBOX_UID}:{SANDBOX_UID}:sandbox:/work:/usr/sbin/nologin\n"
            )
            (runtime / "group").write_text(f"sandbox:x:{SANDBOX_UID}:\n")
            argv = self._bwrap_command(env, kernel_command(runtime, "exec", 0, connection_file))
            # bwrap itself gets nothing from the grader's environment: its init process
            # (pid 1 in the sandbox) keeps this environment, readable in /proc/1/environ.
            launch_env = {"PATH": os.defpath}
        else:
            nproc = fallback_nproc(self.limits.max_processes)
            argv = kernel_command(runtime, "reap", nproc, connection_file)
            launch_env = env
        self.argv = argv
        self.sandboxed = use_bwrap
        cwd = Path("/") if self._user is not None else self.workdir
        setup = child_setup(self._limiter, self._loan, self._user)
        try:
            popen = self._channel.launch(
                argv, launch_env, cwd, connection_file, setup, gid, pass_fds=lifeline
            )
        finally:
            for fd in lifeline:
                os.close(fd)
        self._tree.adopt(popen)
