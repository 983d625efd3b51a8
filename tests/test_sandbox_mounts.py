"""The sandbox's mount plan, as bubblewrap's command line, without starting a kernel."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from autograder.engine.sandbox import bootstrap, host
from autograder.engine.sandbox.mounts import MountPlan, SystemPath, bwrap_argv

SECRET = Path("/course/reference_impl")


def plan(**changes) -> MountPlan:
    base = MountPlan(
        bwrap="/usr/bin/bwrap",
        features=frozenset({"--size", "--clearenv", "--disable-userns"}),
        system=(SystemPath("/usr"), SystemPath("/bin", "usr/bin")),
        python_prefixes=(Path("/opt/python"), Path("/venv")),
        nnkit=Path("/pkgs/nnkit"),
        readonly_paths=(Path("/data"),),
        runtime=Path("/tmp/nngrade-kernel-1"),
        workdir=Path("/tmp/grading/work"),
        secret_dirs=(SECRET, Path("/course/solutions")),
        course_repo=Path("/course"),
        env=(("HOME", "/work"), ("LANG", "C.UTF-8")),
        memory_bytes=512 * 2**20,
        command=("python", "bootstrap.py", "exec"),
    )
    return dataclasses.replace(base, **changes)


def mounts(argv: list[str], option: str) -> list[str]:
    """The targets of every ``option`` (``--bind``, ``--ro-bind``: source and target given)."""
    return [argv[i + 2] for i, word in enumerate(argv) if word == option]


def position(argv: list[str], *words: str) -> int:
    for i in range(len(argv) - len(words) + 1):
        if tuple(argv[i : i + len(words)]) == words:
            return i
    raise AssertionError(f"{words} not in {argv}")


def test_the_whole_command_line():
    argv = bwrap_argv(plan())
    assert argv[0] == "/usr/bin/bwrap"
    assert argv[argv.index("--") :] == ["--", "python", "bootstrap.py", "exec"]
    assert argv[position(argv, "--chdir") + 1] == "/tmp/grading/work"
    for option in ("--unshare-all", "--die-with-parent", "--disable-userns", "--clearenv"):
        assert option in argv
    assert argv[position(argv, "--uid") + 1] == argv[position(argv, "--gid") + 1] == "65534"
    assert position(argv, "--setenv", "HOME", "/work") < position(argv, "--setenv", "LANG")
    assert position(argv, "--symlink", "usr/bin", "/bin")
    assert mounts(argv, "--bind") == ["/tmp/nngrade-kernel-1", "/tmp/grading/work"]
    assert set(mounts(argv, "--ro-bind")) == {
        "/usr", "/opt/python", "/venv", "/pkgs/nnkit", "/data", "/etc/passwd", "/etc/group",
    }  # fmt: skip
    assert position(argv, "--ro-bind", "/tmp/nngrade-kernel-1/passwd", "/etc/passwd")
    assert position(argv, "--remount-ro", "/dev", "--remount-ro", "/", "--chdir")


def test_options_this_bubblewrap_lacks_are_left_out():
    argv = bwrap_argv(plan(features=frozenset()))
    assert "--size" not in argv and "--clearenv" not in argv and "--disable-userns" not in argv
    assert position(argv, "--tmpfs", "/dev/shm") and position(argv, "--tmpfs", "/tmp")


def test_tmpfs_size_is_the_memory_limit_when_supported():
    argv = bwrap_argv(plan())
    size = ["--size", str(512 * 2**20)]
    assert position(argv, *size, "--tmpfs", "/dev/shm") < position(argv, *size, "--tmpfs", "/tmp")
    assert argv.count("--size") == 2


def test_the_tmpfs_on_tmp_comes_before_every_bind_below_tmp():
    argv = bwrap_argv(plan(readonly_paths=(Path("/tmp/data"),)))
    tmpfs = position(argv, "--tmpfs", "/tmp")
    for path in ("/tmp/data", "/tmp/grading/work", "/tmp/nngrade-kernel-1"):
        assert tmpfs < argv.index(path)


def test_parents_are_bound_before_their_children():
    # The writable work folder inside a read-only data folder, and a read-only folder given
    # before its parent: each parent's bind comes first, so it cannot cover its child.
    argv = bwrap_argv(
        plan(
            readonly_paths=(Path("/data/a/deeper"), Path("/data")),
            workdir=Path("/data/a/work"),
        )
    )
    data = position(argv, "--ro-bind", "/data", "/data")
    assert data < position(argv, "--ro-bind", "/data/a/deeper", "/data/a/deeper")
    assert data < position(argv, "--bind", "/data/a/work", "/data/a/work")


def test_a_path_given_twice_is_bound_once_writable_when_it_is_the_work_folder():
    argv = bwrap_argv(plan(readonly_paths=(Path("/data"), Path("/data")), workdir=Path("/data")))
    assert mounts(argv, "--bind").count("/data") == 1 and "/data" not in mounts(argv, "--ro-bind")


@pytest.mark.parametrize(
    "change",
    [
        {"readonly_paths": (SECRET,)},
        {"readonly_paths": (SECRET / "losses",)},
        {"readonly_paths": (Path("/course"),)},  # holds the course repository
        {"readonly_paths": (Path("/"),)},
        {"workdir": Path("/course/solutions/ps1")},
        {"runtime": SECRET / "runtime"},
        {"nnkit": Path("/course/solutions")},
        {"python_prefixes": (Path("/course/.venv"), Path("/"))},
    ],
    ids=str,
)
def test_refuses_to_bind_secret_course_material(change):
    with pytest.raises(ValueError, match="refusing to show .* secret course material"):
        bwrap_argv(plan(**change))


def test_the_course_repositorys_own_venv_and_nnkit_may_be_bound():
    argv = bwrap_argv(plan(python_prefixes=(Path("/course/.venv"),), nnkit=Path("/course/nnkit")))
    assert {"/course/.venv", "/course/nnkit"} <= set(mounts(argv, "--ro-bind"))


def test_a_secret_folder_inside_a_bound_folder_is_covered():
    installed = Path("/venv/lib/python3.11/site-packages/autograder")
    argv = bwrap_argv(plan(secret_dirs=(SECRET, installed)))
    cover = position(argv, "--tmpfs", str(installed), "--remount-ro", str(installed))
    assert position(argv, "--ro-bind", "/venv", "/venv") < cover
    assert position(argv, "--bind", "/tmp/grading/work", "/tmp/grading/work") < cover
    assert str(SECRET) not in argv  # outside every bound folder: simply not there


def test_this_machines_engine_is_secret():
    """The bootstrap's own folder (the engine) is a secret: the kernel runs a copy of it."""
    engine = Path(bootstrap.__file__).resolve().parent
    secrets = host.secret_dirs()
    assert any(engine.is_relative_to(secret) for secret in secrets)
    with pytest.raises(ValueError, match="secret"):
        bwrap_argv(plan(secret_dirs=tuple(secrets), readonly_paths=(engine,)))


def test_this_machines_system_paths_keep_symlinks_as_symlinks():
    found = host.system_paths()
    assert "/usr" in [entry.path for entry in found]
    for entry in found:
        path = Path(entry.path)
        assert path.exists()
        if entry.path in host.SYSTEM_DIRS and path.is_symlink():
            assert entry.link == str(path.readlink())
        else:
            assert entry.link is None
