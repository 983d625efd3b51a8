"""grading.yaml's kernel_setup: read apart from the sandbox limits, part of the fingerprint."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.engine.job import ProblemSetTests
from autograder.errors import ConfigError
from autograder.problem_sets import ProblemSet, grading_limits, kernel_setup

REPO = Path(__file__).resolve().parents[1]


def _ps(tmp_path: Path, text: str) -> ProblemSet:
    folder = tmp_path / "solutions" / "ps-x"
    folder.mkdir(parents=True)
    (folder / "ps-x.py").write_text("")
    (folder / "grading.yaml").write_text(text)
    return ProblemSet("ps-x", folder / "ps-x.py", tmp_path)


def test_kernel_setup_is_read_and_the_limits_ignore_it(tmp_path):
    ps = _ps(tmp_path, "cell_timeout: 12\nkernel_setup: |\n  import random\n  random.seed(0)\n")
    assert kernel_setup(ps.grading_config) == "import random\nrandom.seed(0)\n"
    assert grading_limits(ps).cell_timeout == 12


def test_no_file_or_no_entry_means_no_setup(tmp_path):
    assert kernel_setup(tmp_path / "missing.yaml") == ""
    assert kernel_setup(_ps(tmp_path, "cell_timeout: 5\n").grading_config) == ""


def test_a_setup_that_is_not_text_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="kernel_setup"):
        kernel_setup(_ps(tmp_path, "kernel_setup: [1, 2]\n").grading_config)


def test_unknown_settings_are_still_refused(tmp_path):
    with pytest.raises(ConfigError, match="unknown"):
        grading_limits(_ps(tmp_path, "kernel_stup: x\n"))


def test_ps3_seeds_and_turns_on_op_determinism():
    setup = kernel_setup(REPO / "solutions" / "ps3-keras-mnist" / "grading.yaml")
    assert "keras.utils.set_random_seed(" in setup
    assert "enable_op_determinism()" in setup
    compile(setup, "kernel_setup", "exec")


def test_the_setup_changes_the_fingerprint(tmp_path):
    import zipfile

    archive = tmp_path / "tests.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("tests/q1.py", "test = {}\n")
    plain = ProblemSetTests.from_zip("ps-x", archive)
    seeded = ProblemSetTests.from_zip("ps-x", archive, kernel_setup="import random")
    other = ProblemSetTests.from_zip("ps-x", archive, kernel_setup="import os")
    assert len({plain.fingerprint, seeded.fingerprint, other.fingerprint}) == 3
    assert seeded.kernel_setup == "import random"
