"""The sandbox's process tree on plain subprocesses: peeking, exit statuses, killing."""

from __future__ import annotations

import subprocess
import time

from autograder.engine.sandbox.supervisor import ProcessTree, describe_exit


def adopted(*argv: str) -> ProcessTree:
    tree = ProcessTree()
    tree.adopt(subprocess.Popen(argv, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE))
    return tree


def until_ended(tree: ProcessTree) -> None:
    deadline = time.monotonic() + 10
    while tree.root_running() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_a_tree_that_was_never_started():
    tree = ProcessTree()
    assert not tree.root_running() and not tree.running() and tree.processes() == []
    assert tree.root_exit_status() is None and tree.exit_description() == "not started"
    tree.shutdown()


def test_an_exit_is_seen_without_reaping_the_root():
    tree = adopted("sh", "-c", "echo oops >&2; exit 3")
    until_ended(tree)
    for _ in range(2):  # peeking does not reap: the status stays readable
        assert tree.root_exit_status() == 3 and tree.exit_description() == "exit status 3"
    assert tree.popen.returncode is None
    tree.shutdown()
    assert tree.popen.returncode == 3 and tree.exit_description() == "exit status 3"
    assert "oops" in tree.stderr_log


def test_kill_records_the_first_reason_and_ends_the_whole_tree():
    tree = adopted("sh", "-c", "sleep 1000 & sleep 1000 & exec sleep 1000")
    deadline = time.monotonic() + 10
    while len(tree.descendants()) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    children = tree.descendants()
    assert tree.running() and tree.exit_description() == "still running"
    assert len(tree.processes()) == 3
    assert tree.kill("memory", "too much") == ("memory", "too much")
    assert tree.kill("output", "later") == ("memory", "too much")
    assert tree.settled_death() == ("memory", "too much")
    assert not tree.root_running() and tree.processes() == []
    assert tree.root_exit_status() == -9 and tree.exit_description() == "signal 9"
    assert all(not child.is_running() or child.status() == "zombie" for child in children)
    tree.shutdown()


def test_exit_statuses_in_words():
    assert describe_exit(None) == "the kernel died"
    assert describe_exit(0) == "the kernel died (exit status 0)"
    assert describe_exit(-11) == describe_exit(128 + 11) == "the kernel died (SIGSEGV)"
    assert describe_exit(128 + 99) == "the kernel died (signal 99)"
