"""Every engine sits behind one interface (a job in, a ``SubmissionResult`` out), and the
registry is the only place that knows engine names.

The batch, the CLI and the pipeline only know the interface: an engine the registry never
heard of, made here, grades a whole batch through ``grade_batch`` unchanged.
"""

import json
import re
from pathlib import Path

import pytest

from autograder.engine.base import Engine, EngineSettings
from autograder.engine.batch import grade_batch
from autograder.engine.job import Job, ProblemSetTests
from autograder.engine.registry import DEFAULT_ENGINE, ENGINES, UnknownEngine, get_engine
from autograder.engine.runner import NO_NOTEBOOK
from autograder.results import SubmissionResult, TestResult, read_results

AUTOGRADER = Path(__file__).resolve().parents[1] / "autograder"
PS1 = "ps1-perceptron"


def test_every_registered_engine_implements_the_interface():
    assert ENGINES[0] == DEFAULT_ENGINE == "nngrade" and "otter" in ENGINES
    for name in ENGINES:
        engine = get_engine(name, EngineSettings(readonly_paths=(Path("/data"),)))
        assert isinstance(engine, Engine)
        assert engine.name == name and engine.version() not in ("", "unknown")


def test_an_unknown_engine_is_refused_with_the_engines_there_are():
    with pytest.raises(UnknownEngine, match="nngrade, otter"):
        get_engine("gradescope")


def test_only_the_registry_knows_engine_names():
    """No module but the registry branches on an engine's name."""
    offenders = [
        f"{path.relative_to(AUTOGRADER)}:{number}"
        for path in AUTOGRADER.rglob("*.py")
        if path.name != "registry.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"engine\s*(==|!=|\bin\b)", line)
    ]
    assert offenders == []


class FullMarksEngine:
    """An engine the registry does not know: every test at full points, read from the job."""

    name = "full-marks"

    def version(self) -> str:
        return "1.2"

    def host_problems(self) -> list[str]:
        return []

    def grade(self, job: Job, limits) -> SubmissionResult:
        tests = [TestResult(t.question, t.name, t.points, t.points, t.hidden)
                 for q in job.problem_set.questions() for t in q.tests]
        return SubmissionResult(job.student, tests, sha256="x", sandboxed=False,
                                output=[f"graded {job.notebook.name} of {job.problem_set.name}"])


def test_a_new_engine_grades_a_batch_through_the_interface(ps1_zip, tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    (subs / "no-notebook").mkdir(parents=True)
    (subs / "ann.ipynb").write_text("{}")
    report = grade_batch(PS1, ps1_zip, subs, out, workers=2, engine=FullMarksEngine(),
                         progress=False)
    assert sorted(report.graded) == ["ann", "no-notebook"] and report.ok
    ann = read_results(out / "ann" / "results.json")
    assert (ann.score, ann.max_score) == (38.0, 38.0)
    assert (ann.engine, ann.engine_version, ann.problem_set) == ("full-marks", "1.2", PS1)
    assert ann.output == [f"graded ann.ipynb of {PS1}"]
    assert ann.tests_fingerprint == ProblemSetTests.from_zip(PS1, ps1_zip).fingerprint
    assert ann.submission_digest and ann.graded_at and ann.submitted_at
    # a submission without a notebook never reaches an engine: the runner records it
    nothing = read_results(out / "no-notebook" / "results.json")
    assert (nothing.status, nothing.score, nothing.output) == ("malformed", 0.0, [NO_NOTEBOOK])
    assert "| q1a |" in (out / "ann" / "feedback.md").read_text()


def test_a_job_is_plain_data_a_runner_can_ship(ps1_zip, tmp_path):
    import pickle

    tests = ProblemSetTests.from_zip(PS1, ps1_zip, solutions_commit="abc")
    job = Job("ann", tmp_path / "ann.ipynb", tests, folder=None)
    assert pickle.loads(pickle.dumps(job)) == job
    assert pickle.loads(pickle.dumps(get_engine("nngrade"))).name == "nngrade"
    assert [q.name for q in job.problem_set.questions()][:2] == ["q1a", "q1b"]


def test_the_cli_offers_exactly_the_registered_engines():
    from click.testing import CliRunner

    from autograder.cli import main

    result = CliRunner().invoke(main, ["grade", "--help"])
    choices = re.search(r"--engine \[([^\]]+)\]", result.output).group(1)
    assert choices.split("|") == list(ENGINES)


def test_results_of_a_batch_name_the_masters_commit(ps1_zip, tmp_path, monkeypatch):
    """``grade_batch(master=...)`` records the master's commit in every results.json."""
    import subprocess

    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    repo = tmp_path / "course"
    master = repo / "solutions" / PS1 / f"{PS1}.py"
    master.parent.mkdir(parents=True)
    master.write_text("# master\n")
    git = ["git", "-c", "user.name=I", "-c", "user.email=i@example.org", "-C", str(repo)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "ps1"], check=True)
    commit = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True,
                            check=True).stdout.strip()
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "ann.ipynb").write_text("{}")
    grade_batch(PS1, ps1_zip, tmp_path / "subs", tmp_path / "out", workers=1,
                engine=FullMarksEngine(), progress=False, master=master)
    document = json.loads((tmp_path / "out" / "ann" / "results.json").read_text())
    assert document["extra_data"]["solutions_commit"] == commit
