"""Who the sandbox runs as on the host: the dedicated unprivileged sandbox user.

bubblewrap maps the sandbox's uid 65534 to the uid of the process that started it. Started by
the grader as root, a set-uid file made inside would be root's outside; so bubblewrap is
started as the sandbox user (``nngrade-sandbox``: a system user with no login and no home,
created by ``make setup``), and uid 65534 inside is that user outside, never root.

The engine creates no user itself: :func:`sandbox_user` finds it, or says why not, and the
kernel refuses (``require_sandbox``) or warns loudly. :func:`drop_privileges` is what the
child does between fork and exec; :func:`unreachable` checks, as the user, which folders it
could not reach (bubblewrap resolves every folder it binds as the user that runs it).
"""

from __future__ import annotations

import grp
import os
import pwd
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SANDBOX_USER", "SandboxUser", "drop_privileges", "sandbox_user", "unreachable"]

#: The host user the sandbox runs as (``NNGRADE_SANDBOX_USER`` names another).
SANDBOX_USER = "nngrade-sandbox"


@dataclass(frozen=True)
class SandboxUser:
    """The unprivileged host user and group the sandbox's processes run as."""

    name: str
    uid: int
    gid: int

    def describe(self) -> str:
        return f"{self.name} (uid {self.uid})"


def sandbox_user() -> tuple[SandboxUser | None, str | None]:
    """The sandbox user, or ``None`` and the reason it cannot be used."""
    name = os.environ.get("NNGRADE_SANDBOX_USER", SANDBOX_USER)
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None, f"the sandbox user {name!r} does not exist (run `make setup` as root)"
    if entry.pw_uid == 0 or entry.pw_gid == 0:
        return None, f"the sandbox user {name!r} is root or in group root"
    if os.geteuid() != 0:
        if os.geteuid() == entry.pw_uid:
            return SandboxUser(name, entry.pw_uid, entry.pw_gid), None
        return None, "the grader is not root, so it cannot start bubblewrap as the sandbox user"
    with_members = [g.gr_name for g in grp.getgrall() if name in g.gr_mem]
    if with_members:
        return None, f"the sandbox user {name!r} has extra groups {with_members}"
    return SandboxUser(name, entry.pw_uid, entry.pw_gid), None


def drop_privileges(user: SandboxUser) -> None:
    """In a forked child, before exec: become ``user``, with no supplementary groups."""
    if os.geteuid() == 0:
        os.setgroups([])
        os.setgid(user.gid)
        os.setuid(user.uid)
    if os.getuid() != user.uid or os.geteuid() != user.uid or os.getegid() != user.gid:
        os._exit(126)


def unreachable(user: SandboxUser, read: Iterable[Path], write: Iterable[Path] = ()) -> list[str]:
    """The folders ``user`` cannot enter (``read``) or cannot write in (``write``)."""
    read, write = [str(p) for p in read], [str(p) for p in write]
    if not read and not write:
        return []
    script = (
        'for p in "$@"; do case "$p" in W:*) test -w "${p#W:}" -a -x "${p#W:}" || echo "$p";; '
        '*) test -x "${p#R:}" || echo "$p";; esac; done'
    )
    args = [f"R:{p}" for p in read] + [f"W:{p}" for p in write]
    kwargs: dict = {}
    if os.geteuid() == 0:
        kwargs = {"user": user.uid, "group": user.gid, "extra_groups": []}
    done = subprocess.run(
        ["/bin/sh", "-c", script, "sh", *args],
        capture_output=True, text=True, timeout=30, env={"PATH": os.defpath}, cwd="/",
        **kwargs,
    )  # fmt: skip
    return [line[2:] for line in done.stdout.splitlines() if line[:2] in ("R:", "W:")]
