"""Attacks on the grader's side that need a folder layout or the grader's clock: notebooks that
are links (to a classmate's, to the solution under ``dist/``, to ``/dev/zero``), FIFOs, linked
folders, files swapped for links while the grader copies them, and grader-side work that runs
past the submission's deadline.

The layouts are graded in one batch with honest students among them: each attack scores what
the blank release scores as a malformed submission (0, with the reason), no text of the
classmate's reaches the attacker's files, and the batch finishes quickly.
"""

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograder import codec
from autograder.engine.deadline import Deadline
from autograder.engine.grade import copy_submission_files, run_tests
from autograder.engine.remote import MIME, Remote
from autograder.engine.sandbox import CellResult, SandboxLimits
from autograder.engine.submission import (
    MalformedSubmission,
    read_notebook_bytes,
    read_submission,
)
from autograder.engine.test_files import GradingTest, Question
from nnkit.mnist import course_data_dir

PS1 = "ps1-perceptron"
NB = f"{PS1}.ipynb"
LIMITS = SandboxLimits(cell_timeout=4, total_timeout=60, memory_mb=768, max_processes=48)

NNKIT_THAT_STEALS = '''
# Imported by whatever notebook runs next to it: raises with the cells it can see.
from IPython import get_ipython
raise RuntimeError("STOLEN " + "\\n".join(get_ipython().user_ns.get("In", [])))
'''


def with_cell(notebook: Path, code: str, dest: Path) -> Path:
    nb = nbformat.read(notebook, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(code))
    dest.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, dest)
    return dest


# ------------------------------------------------------------------ reading one notebook


def test_a_link_to_dev_zero_is_refused_without_reading(tmp_path):
    (tmp_path / "x.ipynb").symlink_to("/dev/zero")
    with pytest.raises(MalformedSubmission, match="symbolic link; submit the file itself"):
        read_notebook_bytes(tmp_path / "x.ipynb")


def test_a_fifo_is_refused_at_once(tmp_path):
    os.mkfifo(tmp_path / "x.ipynb")  # nobody writes: an open without O_NONBLOCK would block
    start = time.monotonic()
    with pytest.raises(MalformedSubmission, match="FIFO"):
        read_notebook_bytes(tmp_path / "x.ipynb")
    assert time.monotonic() - start < 1


def test_a_device_is_refused(tmp_path):
    with pytest.raises(MalformedSubmission, match="character device"):
        read_notebook_bytes(Path("/dev/zero"), within=Path("/dev"))


def test_a_linked_folder_on_the_way_is_refused(tmp_path):
    (tmp_path / "bob").mkdir()
    (tmp_path / "bob" / NB).write_text("{}")
    (tmp_path / "eve").symlink_to(tmp_path / "bob")
    with pytest.raises(MalformedSubmission, match="folder 'eve' is a symbolic link"):
        read_notebook_bytes(tmp_path / "eve" / NB, within=tmp_path)
    assert read_notebook_bytes(tmp_path / "bob" / NB, within=tmp_path) == b"{}"
    with pytest.raises(MalformedSubmission, match="not inside the submissions folder"):
        read_notebook_bytes(tmp_path / "bob" / NB, within=tmp_path / "eve")


def test_the_cap_is_on_what_is_read_not_on_stat(tmp_path):
    big = tmp_path / "big.ipynb"
    with big.open("wb") as handle:  # sparse: 1 GB by stat, nothing on disk
        handle.truncate(2**30)
    start = time.monotonic()
    with pytest.raises(MalformedSubmission, match="1024.0 MB; notebooks over 20 MB"):
        read_submission(big)
    assert time.monotonic() - start < 2
    (tmp_path / "ten.ipynb").write_bytes(b"x" * 10)
    assert read_notebook_bytes(tmp_path / "ten.ipynb", max_bytes=10) == b"x" * 10
    with pytest.raises(MalformedSubmission):
        read_notebook_bytes(tmp_path / "ten.ipynb", max_bytes=9)


def test_a_file_swapped_for_a_link_or_fifo_after_listing_is_not_copied(tmp_path, monkeypatch):
    import autograder.engine.grade as grade

    folder, work = tmp_path / "student", tmp_path / "work"
    folder.mkdir()
    work.mkdir()
    (folder / NB).write_text("{}")
    (folder / "model.keras").write_bytes(b"mine")
    secret = tmp_path / "classmate.ipynb"
    secret.write_text("the classmate's work")
    (folder / "stolen.keras").symlink_to(secret)
    os.mkfifo(folder / "pipe.keras")
    # the listing happened before the swap: it names the link and the FIFO as files
    monkeypatch.setattr(grade, "regular_files", lambda fd, exclude: sorted(
        ["model.keras", "pipe.keras", "stolen.keras"]))
    notes = copy_submission_files(folder, folder / NB, work, within=tmp_path,
                                  patterns=("*.keras",))
    assert sorted(p.name for p in work.iterdir()) == ["model.keras"]
    assert notes[-1] == "Not copied (too many, too large or unreadable): pipe.keras, stolen.keras."
    (tmp_path / "linked").symlink_to(folder)
    notes = copy_submission_files(tmp_path / "linked", folder / NB, work, within=tmp_path)
    assert "symbolic link" in notes[0]


# ------------------------------------------------------------------ one batch of layouts


ATTACKERS = {
    # student: (what they submitted, what the refusal says)
    "link-to-classmate": "symbolic link",
    "link-to-dist": "symbolic link",
    "link-plus-nnkit": "symbolic link",
    "link-to-dev-zero": "symbolic link",
    "lone-link-to-classmate": "symbolic link",
    "lone-link-to-dev-zero": "symbolic link",
    "fifo-in-folder": "FIFO",
    "lone-fifo": "FIFO",
    "linked-folder": "folder 'linked-folder' is a symbolic link",
    "linked-subfolder": "No notebook was found",
}


_GRADE_AND_MEASURE = f"""
import json, resource, sys
from pathlib import Path
from autograder.engine.batch import grade_batch
from autograder.engine.sandbox import SandboxLimits
zip_path, subs, out, data = map(Path, sys.argv[1:])
limits = {LIMITS!r}
report = grade_batch({PS1!r}, zip_path, subs, out, workers=2, limits=limits,
                     readonly_paths=(data,), progress=False)
peak = max(resource.getrusage(who).ru_maxrss
           for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
print(json.dumps({{"failed": report.failed, "peak_mb": peak / 1024}}))
"""


@pytest.fixture(scope="module")
def layout_batch(ps1_built, ps1_solution, ps1_zip, tmp_path_factory):
    ps, _ = ps1_built
    secret = f"CLASSMATE-{uuid.uuid4().hex}"
    root = tmp_path_factory.mktemp("layouts")
    subs = root / "submissions"
    classmate = with_cell(ps1_solution, f"# {secret}\nclassmate_note = {secret!r}\n",
                          subs / "classmate" / NB)
    dist = with_cell(ps1_solution, f"# {secret} (the solution)\n", root / "dist" / PS1 / NB)
    for name in ("link-to-classmate", "link-plus-nnkit"):
        (subs / name).mkdir()
        (subs / name / NB).symlink_to(Path("..") / "classmate" / NB)
    (subs / "link-plus-nnkit" / "nnkit.py").write_text(NNKIT_THAT_STEALS)
    (subs / "link-to-dist").mkdir()
    (subs / "link-to-dist" / NB).symlink_to(dist)
    (subs / "link-to-dev-zero").mkdir()
    (subs / "link-to-dev-zero" / NB).symlink_to("/dev/zero")
    (subs / "lone-link-to-classmate.ipynb").symlink_to(classmate)
    (subs / "lone-link-to-dev-zero.ipynb").symlink_to("/dev/zero")
    (subs / "fifo-in-folder").mkdir()
    os.mkfifo(subs / "fifo-in-folder" / "x.ipynb")
    os.mkfifo(subs / "lone-fifo.ipynb")
    (subs / "linked-folder").symlink_to(subs / "classmate")
    (subs / "linked-subfolder").mkdir()
    (subs / "linked-subfolder" / "work").symlink_to(subs / "classmate")
    # honest students: a folder with its own nnkit.py (not a file problem set 1 grades: it
    # stays out of the sandbox, and the feedback says so) and a blank one
    with_cell(ps.student_notebook, "x = 1\n", subs / "own-nnkit" / NB)
    (subs / "own-nnkit" / "nnkit.py").write_text("SHADOW = 'mine'\n")
    shutil.copy(ps.student_notebook, subs / "honest-blank.ipynb")

    out = root / "out"
    # In a process of its own, so that the peak memory measured is this batch's alone (the
    # test process's other children, a build that trained networks say, are not counted).
    ran = subprocess.run([sys.executable, "-c", _GRADE_AND_MEASURE, str(ps1_zip), str(subs),
                          str(out), str(course_data_dir())],
                         capture_output=True, text=True, check=True)
    measured = json.loads(ran.stdout.splitlines()[-1])
    return {"report": measured, "out": out, "secret": secret,
            "classmate_sha": json.loads((out / "classmate" / "results.json").read_text())[
                "extra_data"]["sha256"]}


def files_of(batch, student):
    folder = batch["out"] / student
    return json.loads((folder / "results.json").read_text()), (folder / "feedback.md").read_text()


def test_the_batch_finishes_without_grader_failures(layout_batch):
    assert layout_batch["report"]["failed"] == {}, layout_batch["report"]["failed"]
    # nothing read /dev/zero without bound: the grader and its workers stayed small
    assert layout_batch["report"]["peak_mb"] < 1536


def test_honest_students_are_graded_as_usual(layout_batch):
    assert files_of(layout_batch, "classmate")[0]["score"] == 38
    blank, _ = files_of(layout_batch, "honest-blank")
    own, feedback = files_of(layout_batch, "own-nnkit")
    assert blank["score"] == own["score"] == 0
    assert own["extra_data"]["status"] == "graded"
    assert "Not used for grading: nnkit.py." in feedback


@pytest.mark.parametrize("student", sorted(ATTACKERS))
def test_each_layout_attack_is_malformed_with_its_reason(layout_batch, student):
    document, feedback = files_of(layout_batch, student)
    assert document["score"] == 0
    assert document["extra_data"]["status"] == "malformed"
    assert ATTACKERS[student] in document["output"]
    assert document["extra_data"]["sha256"] != layout_batch["classmate_sha"]
    for text in (json.dumps(document), feedback):
        assert layout_batch["secret"] not in text
        assert "STOLEN" not in text and "classmate_note" not in text


# ------------------------------------------------------------------ the grader's own time


class InstantKernel:
    """Answers every request at once with the value 1.0, and notes how long it may wait."""

    workdir = Path("/nonexistent")

    def __init__(self) -> None:
        self.timeouts: list[float] = []

    def execute(self, code: str, timeout: float | None = None, silent: bool = False) -> CellResult:
        self.timeouts.append(timeout)
        reply = codec.encode({"value": 1.0})
        return CellResult("ok", "", "", [{MIME: reply}], None, None, 0.0, False)


def slow_test(name: str, hidden: bool = False, ran: list | None = None) -> GradingTest:
    def check(answer):
        if ran is not None:
            ran.append(name)
        time.sleep(0.3)  # the grader's own work on the answer
        assert answer == 1.0

    return GradingTest("q1", name, 1.0, hidden, check)


def test_grader_side_work_past_the_deadline_scores_zero_and_stops():
    kernel = InstantKernel()
    remote = Remote(kernel, call_timeout=30, deadline=Deadline(1.0))
    ran: list[str] = []
    questions = [Question("q1", tuple(slow_test(f"t{i}", ran=ran) for i in range(10)))]
    results = run_tests(questions, remote)
    assert results[0].score == 1.0
    # 0.3 s each: at most four start before the deadline, and none after it
    assert len(ran) <= 4 and sum(r.score for r in results) <= 4
    late = [r for r in results if r.score == 0]
    assert late and all("grading deadline of 1 s" in r.message for r in late)
    assert max(kernel.timeouts) <= 1.0  # never waits for the kernel past the deadline


def test_public_tests_run_before_hidden_ones_and_keep_their_order():
    order = []

    def make(name, hidden):
        def check(answer):
            order.append(name)

        return GradingTest("q1", name, 1.0, hidden, check)

    tests = (make("h1", True), make("p1", False), make("h2", True), make("p2", False))
    remote = Remote(InstantKernel(), call_timeout=30)
    results = run_tests([Question("q1", tests)], remote)
    assert order == ["p1", "p2", "h1", "h2"]
    assert [r.name for r in results] == ["h1", "p1", "h2", "p2"]
    assert remote.withholding


def test_withholding_names_only_types_known_before_hidden_inputs():
    remote = Remote(InstantKernel(), call_timeout=30)
    remote._known_types.add("__main__.Mine")
    remote.withholding = True
    assert remote.shown_type("__main__.Mine") == "__main__.Mine"
    assert remote.shown_type("ValueError") == "ValueError"
    assert remote.shown_type("Leak_0_3172") == "(not shown for a hidden test)"
    with pytest.raises(AssertionError) as raised:
        remote._unwrap({"error": {"type": "Leak_0_3172", "message": "X=0.3172"}}, "f(...)")
    assert str(raised.value) == (
        "f(...) raised an exception (its message is not shown for a hidden test)")
    with pytest.raises(AssertionError, match=r"^f\(\.\.\.\) returned a value that cannot"):
        remote._unwrap({"codec_error": "X=0.3172"}, "f(...)")
    np.testing.assert_equal(remote._unwrap({"value": 1.0}, "f(...)"), 1.0)


def test_the_deadline_comes_from_the_problem_sets_limits(ps1_built):
    from autograder.problem_sets import grading_limits

    ps, _ = ps1_built
    limits = grading_limits(ps)
    assert limits.grader_margin == 120
    assert limits.deadline_seconds == limits.total_timeout + 120 == 420
