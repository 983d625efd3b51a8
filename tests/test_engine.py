"""The hardened engine end to end: real bubblewrap kernels, the problem-set-1 tests run on the
grader's side, batch grading with resume, and the attack corpus of ``tests/attacks.py``.

Reading order for a newcomer: the honest submissions first (the solution, the blank release,
the declared mistakes), then the agreement with otter, then the attacks, then the batch's
robustness (malformed files, a SIGKILL half-way).
"""

import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import nbformat
import psutil
import pytest
from attacks import ATTACKS, MALFORMED
from conftest import BLANK, PS1, SOLUTION, mistake_student

from autograder.engine.batch import grade_batch
from autograder.engine.grade import grade_submission
from autograder.engine.sandbox import SandboxLimits
from autograder.engine.test_files import load_questions
from autograder.mistakes import apply_mistake, load_mistakes
from autograder.problem_sets import find_problem_sets
from nnkit.mnist import course_data_dir

REPO = Path(__file__).resolve().parents[1]
FULL = 38.0
LIMITS = SandboxLimits(cell_timeout=4, total_timeout=60, memory_mb=768, max_processes=48)
DATA = (course_data_dir(),)


@pytest.fixture(scope="module")
def questions(ps1_zip):
    return load_questions(ps1_zip)


def grade(notebook, questions):
    return grade_submission("student", notebook, questions, LIMITS, readonly_paths=DATA)


def with_cell(notebook: Path, code: str, dest: Path) -> Path:
    """The notebook with one more cell at the end, where tampering is most potent: nothing
    of the student's runs after it, only the grader."""
    nb = nbformat.read(notebook, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(code))
    nbformat.write(nb, dest)
    return dest


# ------------------------------------------------------------------ honest submissions


def test_solution_scores_full_marks_in_the_sandbox(ps1_solution, questions):
    result = grade(ps1_solution, questions)
    assert result.sandboxed
    assert result.max_score == FULL
    assert result.score == FULL, [(t.name, t.message) for t in result.tests if not t.passed]


@pytest.fixture(scope="module")
def blank_result(ps1_built, questions):
    """The blank release graded through ``grade_submission`` itself."""
    ps, _ = ps1_built
    return grade(ps.student_notebook, questions)


def test_blank_release_scores_zero_with_messages(blank_result):
    assert blank_result.score == 0
    messages = {t.name: t.message for t in blank_result.tests}
    assert "has no answer yet" in messages["test_q1a_weighted_sum"]


# Each declared mistake losing exactly its points, under this engine and every other, is the
# specification's (tests/test_problem_sets.py), graded once per session in one batch.


def test_grading_twice_gives_identical_results(ps1_solution, questions, tmp_path):
    nb = apply_mistake(nbformat.read(ps1_solution, as_version=4),
                       load_mistakes(find_problem_sets(REPO, ["ps1-perceptron"])[0])[1])
    nbformat.write(nb, tmp_path / "s.ipynb")
    first, second = grade(tmp_path / "s.ipynb", questions), grade(tmp_path / "s.ipynb", questions)
    assert [(t.name, t.score, t.message) for t in first.tests] == [
        (t.name, t.score, t.message) for t in second.tests]


def test_feedback_never_shows_test_source_or_expected_values(blank_result):
    from autograder.engine.feedback import feedback_markdown

    text = feedback_markdown(blank_result) + blank_result.dumps()
    for leak in ("reference_impl", "assert_close(", "default_rng", "Traceback", "autograder/"):
        assert leak not in text


# ------------------------------------------------------------------ the attacks


@pytest.fixture(scope="module")
def listener():
    """A TCP server on 127.0.0.1 that records anything that reaches it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    received: list[bytes] = []
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            received.append(conn.recv(100) or b"<connected>")
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], received
    stop.set()
    thread.join()
    server.close()


def stray_sleepers() -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["cmdline"])
            if (p.info["cmdline"] or [])[:2] == ["sleep", "1000"]]


@pytest.fixture(scope="module")
def attack_batch(ps1_built, ps1_solution, ps1_zip, listener, tmp_path_factory):
    """Every attack and every malformed file in ONE batch, with two honest students among
    them, graded with two workers."""
    ps, _ = ps1_built
    port, received = listener
    marker = Path(f"/tmp/nngrade-attack-{uuid.uuid4().hex}")
    folder = tmp_path_factory.mktemp("submissions")
    for name, code in ATTACKS.items():
        code = code.replace("{marker}", str(marker)).replace("{port}", str(port))
        code = code.replace("{repo}", str(REPO))
        with_cell(ps.student_notebook, code, folder / f"attack-{name}.ipynb")
    for name, raw in MALFORMED.items():
        (folder / f"malformed-{name}.ipynb").write_bytes(raw)
    blank = json.loads(ps.student_notebook.read_text())
    blank["cells"][1]["id"] = blank["cells"][2]["id"]
    (folder / "malformed-duplicate-cell-ids.ipynb").write_text(json.dumps(blank))
    padding = {"cell_type": "raw", "metadata": {}, "source": "x" * (50 * 2**20)}
    (folder / "malformed-50-mb.ipynb").write_text(json.dumps({**blank, "cells": [padding]}))
    (folder / "honest-solution.ipynb").write_bytes(ps1_solution.read_bytes())
    (folder / "honest-blank.ipynb").write_bytes(ps.student_notebook.read_bytes())

    # what the attacks aim at: the answer key, the masters and the release
    repo_files_before = {p: p.stat().st_mtime_ns
                         for folder in ("reference_impl", "solutions", "assignments")
                         for p in (REPO / folder).rglob("*")
                         if p.is_file() and "__pycache__" not in p.parts}
    out = tmp_path_factory.mktemp("results")
    start = time.perf_counter()
    report = grade_batch("ps1-perceptron", ps1_zip, folder, out, workers=2, limits=LIMITS,
                         readonly_paths=DATA, progress=False)
    seconds = time.perf_counter() - start
    time.sleep(2.5)  # the background attack would touch its marker after 2 s
    return {"report": report, "out": out, "marker": marker, "received": received,
            "repo_files_before": repo_files_before, "seconds": seconds}


def results_of(batch, student):
    return json.loads((batch["out"] / student / "results.json").read_text())


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_attack_scores_what_the_blank_scores(attack_batch, attack):
    assert results_of(attack_batch, f"attack-{attack}")["score"] == 0


def test_forged_replies_cost_the_grader_seconds_not_minutes(attack_batch):
    """Before the codec bounded its work, this submission took 194 s (the blank one 1.2 s).
    The bound is on work, not time: every forged reply is refused before a key is hashed, and
    the submission ends inside its one deadline (no timing below the deadline is asserted)."""
    document = results_of(attack_batch, "attack-forged-replies-of-colliding-ints")
    assert document["extra_data"]["seconds"] < LIMITS.deadline_seconds
    assert any("4,096 set elements" in t["output"] for t in document["tests"])


def hidden_inputs(questions) -> list[str]:
    """How numpy prints the numbers the hidden tests pass to the student's functions: each
    hidden test run here with every parameter bound to a recorder that raises."""
    import numpy as np

    seen: list = []

    def recorder(*args, **kwargs):
        seen.extend([*args, *kwargs.values()])
        raise AssertionError("recorded")

    for question in questions:
        for test in question.tests:
            if test.hidden:
                try:
                    test.function(**{name: recorder for name in test.parameters})
                except Exception:
                    pass
    tokens = set()
    for value in seen:
        try:
            text = repr(np.asarray(value, dtype=float))
        except (TypeError, ValueError):
            continue
        for token in text.replace("[", " ").replace("]", " ").replace(",", " ").split():
            if "." in token and sum(c.isdigit() for c in token) >= 4:
                tokens.add(token.strip("()"))
    return sorted(tokens)


def test_hidden_inputs_in_exceptions_never_reach_feedback(attack_batch, questions):
    student = "attack-exceptions-carry-the-inputs"
    tokens = hidden_inputs(questions)
    assert len(tokens) > 50  # the recorder saw the hidden inputs
    document = results_of(attack_batch, student)
    document["extra_data"].pop("seconds")
    texts = {"results.json": json.dumps(document),
             "feedback.md": (attack_batch["out"] / student / "feedback.md").read_text()}
    for where, text in texts.items():
        leaked = [token for token in tokens if token in text]
        assert leaked == [], f"{where} shows hidden inputs {leaked[:5]}"
    hidden = [t for t in document["tests"] if t["visibility"] != "visible"]
    assert hidden and all("LEAK" not in t["output"].upper() for t in hidden)
    # what a hidden test does say: the call and that it raised, the message withheld
    assert any("weighted_sum(...) raised an exception (its message is not shown" in t["output"]
               for t in hidden)
    # a public test keeps the student's own message: the student chose its inputs
    public = {t["name"]: t["output"] for t in document["tests"] if t["visibility"] == "visible"}
    assert "LEAKED INPUTS" in public["q1a: test_q1a_public"]


@pytest.mark.parametrize("name", sorted([*MALFORMED, "duplicate-cell-ids", "50-mb"]))
def test_malformed_notebook_scores_zero_with_a_reason(attack_batch, name):
    document = results_of(attack_batch, f"malformed-{name}")
    assert document["score"] == 0
    if name in ("duplicate-cell-ids", "nbformat-v3"):
        # nbformat reads these (converting v3), so they are graded, as notebooks without answers
        assert document["extra_data"]["status"] == "graded"
    else:
        assert "could not be graded" in document["output"]


def test_honest_students_in_the_same_batch_are_unaffected(attack_batch):
    assert results_of(attack_batch, "honest-solution")["score"] == FULL
    assert results_of(attack_batch, "honest-blank")["score"] == 0


def test_each_result_records_how_its_limits_were_enforced(attack_batch):
    """results.json says, per limit, what enforced it on this host (cgroups, the tmpfs work
    folder, the sandbox user), or that it was only sampled."""
    enforcement = results_of(attack_batch, "honest-solution")["extra_data"]["enforcement"]
    assert {"user", "memory", "workdir"} <= set(enforcement), enforcement
    assert all(isinstance(how, str) and how for how in enforcement.values())
    assert attack_batch["report"].ok, attack_batch["report"].failed


def test_no_file_changed_outside_the_work_folders(attack_batch):
    assert not attack_batch["marker"].exists()
    assert not Path("/usr/nngrade-attack").exists()
    assert not (REPO / "nngrade-attack").exists()
    after = {p: p.stat().st_mtime_ns for p in attack_batch["repo_files_before"] if p.exists()}
    assert after == attack_batch["repo_files_before"]


def test_nothing_reached_the_local_listener(attack_batch):
    assert attack_batch["received"] == []


def test_no_process_is_left_behind(attack_batch):
    assert stray_sleepers() == []


def test_summary_lists_every_student_once(attack_batch):
    with open(attack_batch["out"] / "summary.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    students = [r["student"] for r in rows]
    assert len(students) == len(set(students)) == len(ATTACKS) + len(MALFORMED) + 4
    assert {r["student"]: float(r["total"]) for r in rows}["honest-solution"] == FULL


# ------------------------------------------------------------------ otter and nngrade


def test_engines_agree_on_honest_work_and_disagree_on_tampering(ps1_built, ps1_zip,
                                                                 variant_gradings, tmp_path):
    """The honest work is the specification's: problem set 1's solution, blank and every
    declared mistake, graded once per engine for the whole session; only the tampering
    notebook is graded here, under both engines."""
    ps, _ = ps1_built
    honest = {engine: {student: result["score"] for student, result
                       in variant_gradings.get(PS1, engine).results.items()}
              for engine in ("nngrade", "otter")}  # fmt: skip
    mistakes = {mistake_student(m.name) for m in load_mistakes(ps)}
    assert mistakes | {SOLUTION, BLANK} <= set(honest["nngrade"])
    assert honest["nngrade"] == honest["otter"]
    assert honest["nngrade"][SOLUTION] == FULL and honest["nngrade"][BLANK] == 0
    folder = tmp_path / "in"
    folder.mkdir()
    with_cell(ps.student_notebook, ATTACKS["patch-numpy-comparisons"], folder / "tamper.ipynb")
    tampered = {}
    for engine in ("nngrade", "otter"):
        out = tmp_path / engine
        grade_batch(PS1, ps1_zip, folder, out, workers=1, limits=LIMITS,
                    readonly_paths=DATA, engine=engine, progress=False)
        tampered[engine] = json.loads((out / "tamper" / "results.json").read_text())["score"]
    assert tampered["nngrade"] == 0
    assert tampered["otter"] > 0  # otter runs its tests where the patch is in force


def test_otters_kernel_gets_the_engines_thread_counts(ps1_built, ps1_zip, tmp_path):
    """otter starts the notebook's kernel from its own process, which the engine starts with
    ``compute_threads`` in its environment: the notebook sees one thread per library."""
    from autograder.limits import THREAD_VARIABLES

    ps, _ = ps1_built
    seen = tmp_path / "seen.json"
    folder = tmp_path / "in"
    folder.mkdir()
    with_cell(ps.student_notebook, f"import json, os\nopen({str(seen)!r}, 'w').write("
              f"json.dumps([os.environ.get(v) for v in {list(THREAD_VARIABLES)!r}]))",
              folder / "threads.ipynb")
    report = grade_batch(PS1, ps1_zip, folder, tmp_path / "out", workers=1, limits=LIMITS,
                         readonly_paths=DATA, engine="otter", progress=False)
    assert report.ok, report.failed
    assert json.loads(seen.read_text()) == ["1"] * len(THREAD_VARIABLES)


# ------------------------------------------------------------------ the batch survives SIGKILL


def test_batch_killed_half_way_resumes_without_loss_or_duplication(ps1_solution, tmp_path):
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    for i in range(6):
        (folder / f"s{i}.ipynb").write_bytes(ps1_solution.read_bytes())
    env = {**os.environ, "NNGRADE_ROOT": str(REPO)}
    command = [sys.executable, "-m", "autograder.cli", "grade", "ps1-perceptron", str(folder),
               "--out", str(out), "--workers", "2"]
    batch = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(out.glob("*/results.json"))) < 2:
        time.sleep(0.05)
    os.killpg(batch.pid, signal.SIGKILL)
    batch.wait()
    done_before = {p.parent.name for p in out.glob("*/results.json")}
    assert 2 <= len(done_before) < 6

    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert f"already graded {len(done_before)}" in rerun.stdout
    for i in range(6):
        assert json.loads((out / f"s{i}" / "results.json").read_text())["score"] == FULL
    leftovers = [p.name for p in out.rglob("*") if p.name.startswith(".")]
    assert leftovers == []  # no half-written temporary file survives as a result
    with open(out / "summary.csv", newline="") as handle:
        assert sorted(r["student"] for r in csv.DictReader(handle)) == [f"s{i}" for i in range(6)]


# ------------------------------------------------------------------ configuration and CLI


def test_limits_come_from_the_problem_sets_grading_file(ps1_built):
    from autograder.problem_sets import grading_limits

    ps, _ = ps1_built
    assert grading_limits(ps).cell_timeout == 30 and grading_limits(ps).memory_mb == 2048
    assert grading_limits(ps, cell_timeout=5).cell_timeout == 5


def test_a_handle_is_named_by_the_students_type_in_messages(ps1_built, questions, tmp_path):
    ps, _ = ps1_built
    code = "class Mine:\n    pass\ndef weighted_sum(X, w, b):\n    return Mine()\n"
    result = grade(with_cell(ps.student_notebook, code, tmp_path / "s.ipynb"), questions)
    message = {t.name: t.message for t in result.tests}["test_q1a_weighted_sum"]
    assert "of type __main__.Mine, which cannot be read as numbers" in message


def test_grade_command_has_help():
    from click.testing import CliRunner

    from autograder.cli import main

    result = CliRunner().invoke(main, ["grade", "--help"])
    assert result.exit_code == 0
    for option in ("--out", "--workers", "--engine", "--timeout", "--require-sandbox", "--force"):
        assert option in result.output


# ------------------------------------------------------------------ files and large arguments


def test_folder_files_are_copied_without_following_symlinks(tmp_path):
    from autograder.engine.grade import copy_submission_files

    folder, work = tmp_path / "student", tmp_path / "work"
    folder.mkdir()
    work.mkdir()
    (folder / "nb.ipynb").write_text("{}")
    (folder / "mlp.keras").write_bytes(b"model")
    (folder / ".hidden").write_text("x")
    (folder / "sub").mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("the answer key")
    (folder / "link.keras").symlink_to(secret)
    notes = copy_submission_files(folder, folder / "nb.ipynb", work, patterns=("*.keras",))
    assert sorted(p.name for p in work.iterdir()) == ["mlp.keras"]
    assert (work / "mlp.keras").read_bytes() == b"model"
    assert notes == ["Files from the submission folder: mlp.keras."]


def test_only_the_files_the_problem_set_lists_go_into_the_sandbox(tmp_path):
    """grading.yaml's patterns decide; every other file is named in the feedback as unused."""
    from autograder.engine.grade import copy_submission_files

    folder = tmp_path / "student"
    folder.mkdir()
    (folder / "nb.ipynb").write_text("{}")
    for name in ("mlp.keras", "answers.npz", "notes.txt"):
        (folder / name).write_bytes(b"x")
    work = tmp_path / "work-default"
    work.mkdir()
    notes = copy_submission_files(folder, folder / "nb.ipynb", work)
    assert list(work.iterdir()) == []
    assert notes == ["Not used for grading: answers.npz, mlp.keras, notes.txt. The grader runs "
                     "your notebook's own code; this problem set takes no files but the "
                     "notebook."]
    work = tmp_path / "work-keras"
    work.mkdir()
    notes = copy_submission_files(folder, folder / "nb.ipynb", work, patterns=("*.keras",))
    assert [p.name for p in work.iterdir()] == ["mlp.keras"]
    assert notes[0] == "Files from the submission folder: mlp.keras."
    assert notes[1].startswith("Not used for grading: answers.npz, notes.txt.")


def test_saved_models_are_graded_only_when_the_instructor_trusts_them(tmp_path):
    from autograder.errors import ConfigError
    from autograder.problem_sets import find_problem_sets, submission_file_patterns

    (ps3,) = find_problem_sets(REPO, ["ps3-keras-mnist"])
    assert submission_file_patterns(ps3.grading_config) == ()
    assert submission_file_patterns(ps3.grading_config, trust_saved_models=True) == ("*.keras",)
    for ps in find_problem_sets(REPO, ["ps1-perceptron", "ps2-backprop"]):
        assert submission_file_patterns(ps.grading_config, trust_saved_models=True) == ()
    bad = tmp_path / "grading.yaml"
    for entry in ('submission_files: "*.npz"', 'submission_files: ["../answers/*"]',
                  'saved_models: [".keras"]'):
        bad.write_text(entry + "\n")
        with pytest.raises(ConfigError):
            submission_file_patterns(bad, trust_saved_models=True)


def test_a_resumed_batch_regrades_a_folder_whose_saved_files_changed(ps1_solution, ps1_zip,
                                                                     tmp_path):
    """Resuming compares the notebook and the files graded with it: a student who replaces
    only a saved model is graded again; an untouched folder and an untouched lone notebook
    are not."""
    subs, out = tmp_path / "subs", tmp_path / "out"
    (subs / "folder").mkdir(parents=True)
    shutil.copy(ps1_solution, subs / "folder" / "ps1-perceptron.ipynb")
    (subs / "folder" / "model.keras").write_bytes(b"first model")
    shutil.copy(ps1_solution, subs / "lone.ipynb")
    def batch():
        return grade_batch("ps1-perceptron", ps1_zip, subs, out, workers=2, progress=False,
                           submission_files=("*.keras",))

    first = batch()
    assert sorted(first.graded) == ["folder", "lone"]
    again = batch()
    assert again.graded == [] and sorted(again.skipped) == ["folder", "lone"]
    (subs / "folder" / "model.keras").write_bytes(b"retrained model")
    (subs / "folder" / "notes.txt").write_text("a file the problem set does not take")
    third = batch()
    assert third.graded == ["folder"] and third.skipped == ["lone"]
    (subs / "folder" / "notes.txt").write_text("changed, and still not graded")
    assert batch().graded == []


# ------------------------------------------------------------------ the held-back digits

_FIND_MNIST = """
import os, numpy as np
found = {}
for top, folders, files in os.walk("/"):
    folders[:] = [f for f in folders if os.path.join(top, f) not in ("/proc", "/sys", "/dev")]
    for name in files:
        if name.endswith(".npz"):
            path = os.path.join(top, name)
            try:
                with np.load(path, allow_pickle=False) as npz:
                    found[path] = len(npz["x_train"]) if "x_train" in npz.files else None
            except Exception as error:
                found[path] = type(error).__name__
try:
    from nnkit.mnist import load_mnist_heldout
    load_mnist_heldout()
    heldout = "loaded"
except Exception as error:
    heldout = type(error).__name__
"""


def test_no_file_the_sandbox_can_read_holds_the_heldout_digits(tmp_path):
    """Accuracy points are scored on MNIST digits the sandbox never holds: walking the whole
    file system a notebook sees finds the course's file (50,000 training images) and no
    other MNIST; the grader refuses to lend the sandbox the folder of the full cache."""
    from autograder.engine.base import EngineSettings
    from autograder.engine.grade import NngradeEngine
    from autograder.engine.sandbox import SandboxedKernel
    from nnkit.mnist import DATA_ENV_VAR, cache_path, data_dir

    limits = SandboxLimits(cell_timeout=120, total_timeout=180, memory_mb=1024)
    env = {DATA_ENV_VAR: str(course_data_dir())}
    with SandboxedKernel(tmp_path, limits, readonly_paths=DATA, env=env) as kernel:
        assert kernel.sandboxed
        ran = kernel.execute(_FIND_MNIST + "import json\nprint(json.dumps([found, heldout]))")
        assert ran.status == "ok", ran
        found, heldout = json.loads(ran.stdout)
    mnist = {path: rows for path, rows in found.items() if rows is not None}
    # the course's file (also seen where its bind is staged), and no other MNIST
    assert set(mnist.values()) == {50000}, mnist
    assert str(course_data_dir() / "mnist.npz") in mnist, mnist
    assert heldout == "MnistIntegrityError"
    for lent in (data_dir(), cache_path().parent.parent):
        with pytest.raises(ValueError, match="held-back digits"):
            NngradeEngine(EngineSettings(readonly_paths=(lent,)))


def test_large_array_arguments_travel_as_npy_files(tmp_path):
    import numpy as np

    from autograder.engine.remote import Remote
    from autograder.engine.sandbox import SandboxedKernel

    with SandboxedKernel(tmp_path, LIMITS) as kernel:
        kernel.execute(
            "import os\n"
            "def describe(x, scale=1.0):\n"
            "    files = sorted(os.listdir('.'))\n"
            "    return [float(x.sum() * scale), str(x.dtype), list(x.shape), files]\n"
        )
        remote = Remote(kernel, call_timeout=30, file_argument_bytes=1000)
        remote.install()
        describe = remote.global_value("describe")
        big = np.arange(6000, dtype=np.float32).reshape(60, 100)
        total, dtype, shape, files = describe(big, scale=2.0)
        assert (total, dtype, shape) == (float(big.sum()) * 2, "float32", [60, 100])
        assert len(files) == 1 and files[0].endswith(".npy")  # the argument, during the call
        assert list(tmp_path.iterdir()) == []  # and removed afterwards
        small = describe(np.ones(3))
        assert small[0] == 3.0 and small[3] == []  # small arrays go as codec text
