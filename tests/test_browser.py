"""A student's session in a real browser: JupyterLab from the project's virtualenv, driven in
headless Chromium with Selenium.

The student opens a copy of a released notebook, runs the cells above a question, clicks into
the question's answer cell, replaces the placeholder by typing the solution's text, runs it
and its check cell with Shift+Enter, reads the check's verdict on the page and saves with
Ctrl+S. For problem set 1 the saved notebook then goes through the real command line,
``nngrade grade``, which must give the typed question its points. For problem set 3 the
student builds the lectures' network (question 5a: no training) and its public check passes.

Skipped, with the reason, only when Chromium or its driver is missing (``make setup``
installs both). A failing step leaves a screenshot and the page's text in the test's
``tmp_path``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from autograder.problem_sets import find_problem_sets
from autograder.student_cells import is_otter_cell

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = "/usr/bin/chromedriver" if os.path.exists("/usr/bin/chromedriver") else (
    shutil.which("chromedriver"))
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="needs Chromium and chromedriver (Debian: apt-get install chromium chromium-driver)",
)

REPO = Path(__file__).resolve().parents[1]
SERVER_START = 90  # seconds for JupyterLab to answer
KERNEL_START = 120  # seconds for a kernel to be idle after the notebook opens
CELL_RUN = 180  # seconds for one cell (problem set 3's first cell imports TensorFlow)

# JupyterLab settings for a deterministic page: every cell in the DOM (no windowing), no
# automatic closing of brackets (the typed text is the exact text), no news pop-up.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {
        "windowingMode": "none",
        "codeCellConfig": {"autoClosingBrackets": False},
    },
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


# ------------------------------------------------------------------ JupyterLab and Chromium


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Lab:
    """A JupyterLab server on a free loopback port, serving ``root``."""

    def __init__(self, root: Path, home: Path) -> None:
        self.root, self.token, self.port = root, secrets.token_hex(16), free_port()
        settings = home / "lab-settings"
        for name, values in LAB_SETTINGS.items():
            (settings / name).parent.mkdir(parents=True, exist_ok=True)
            (settings / name).write_text(json.dumps(values), encoding="utf-8")
        env = {
            **os.environ,
            "JUPYTER_CONFIG_DIR": str(home / "config"),
            "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
            "JUPYTERLAB_SETTINGS_DIR": str(settings),
            "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        }
        self.log = (home / "jupyterlab.log").open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
                f"--ServerApp.token={self.token}", f"--ServerApp.port={self.port}",
                "--ServerApp.port_retries=0", "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.root_dir={root}",
            ],
            env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        self._wait_until_up()

    def url(self, notebook: str) -> str:
        return f"http://127.0.0.1:{self.port}/lab/tree/{notebook}?reset&token={self.token}"

    def _wait_until_up(self) -> None:
        from urllib.request import urlopen

        deadline = time.monotonic() + SERVER_START
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {self.process.returncode}")
            try:
                with urlopen(f"http://127.0.0.1:{self.port}/api/status?token={self.token}",
                             timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"JupyterLab did not answer within {SERVER_START} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


@pytest.fixture
def browser(tmp_path) -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--window-size=1400,1000", "--disable-gpu"):
        options.add_argument(argument)
    service = webdriver.ChromeService(CHROMEDRIVER, log_output=str(tmp_path / "chromedriver.log"))
    driver = webdriver.Chrome(service=service, options=options)
    yield driver
    driver.quit()


@contextlib.contextmanager
def screenshot_on_failure(driver, folder: Path) -> Iterator[None]:
    """On any failure inside, ``failure.png`` and the page's text, ``failure.txt``, in
    ``folder``: what the student saw."""
    try:
        yield
    except BaseException:
        driver.save_screenshot(str(folder / "failure.png"))
        (folder / "failure.txt").write_text(
            driver.find_element(By.TAG_NAME, "body").text, encoding="utf-8")
        raise


@pytest.fixture(scope="module")
def ps3_solution_only(tmp_path_factory) -> nbformat.NotebookNode:
    """Problem set 3's solution notebook from otter assign without its test run, which would
    train every model; the release is the repository's own (kept up to date by its tests)."""
    from autograder.notebooks import read_master
    from autograder.otter_assign import prepare_assign_input, run_otter_assign

    (ps,) = find_problem_sets(REPO, ["ps3-keras-mnist"])
    tmp = tmp_path_factory.mktemp("ps3-assign")
    assign_input = prepare_assign_input(ps, read_master(ps), tmp / "assign")
    run_otter_assign(ps, assign_input, tmp / "otter", run_tests=False)
    return nbformat.read(tmp / "otter" / "autograder" / f"{ps.name}.ipynb", as_version=4)


# ------------------------------------------------------------------ what the student does


class Notebook:
    """The notebook open in the browser, cell by cell as the page shows it."""

    def __init__(self, driver, nb: nbformat.NotebookNode) -> None:
        self.driver, self.nb = driver, nb

    def cells(self) -> list:
        return self.driver.find_elements(By.CSS_SELECTOR, ".jp-NotebookPanel .jp-Notebook .jp-Cell")

    def wait_until_open(self) -> None:
        WebDriverWait(self.driver, KERNEL_START).until(
            lambda d: len(self.cells()) == len(self.nb.cells))
        self.wait_until_idle(KERNEL_START)

    def kernel_status(self) -> str | None:
        return self.driver.execute_script(
            "const e = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) "
            ".jp-Notebook-ExecutionIndicator'); return e && e.getAttribute('data-status');")

    def wait_until_idle(self, timeout: float) -> None:
        WebDriverWait(self.driver, timeout, poll_frequency=0.2).until(
            lambda d: self.kernel_status() == "idle")

    def editor(self, index: int):
        return self.cells()[index].find_element(By.CSS_SELECTOR, ".cm-content")

    def prompt(self, index: int) -> str:
        return self.cells()[index].find_element(By.CSS_SELECTOR, ".jp-InputPrompt").text

    def output(self, index: int) -> str:
        return "\n".join(
            e.text for e in self.cells()[index].find_elements(
                By.CSS_SELECTOR, ".jp-OutputArea-output"))

    def run(self, index: int) -> str:
        """Click into cell ``index``, press Shift+Enter, wait for its execution count, return
        what its output area shows."""
        before = self.prompt(index)
        self.editor(index).click()
        self.keys(Keys.SHIFT, Keys.ENTER)
        WebDriverWait(self.driver, CELL_RUN, poll_frequency=0.2).until(
            lambda d: re.fullmatch(r"\[\d+\]:", self.prompt(index)) and self.prompt(index)
            != before)
        self.wait_until_idle(CELL_RUN)
        return self.output(index)

    def type_into(self, index: int, text: str) -> None:
        """Select all of cell ``index``'s text and type ``text`` over it, line by line. After
        Enter the editor indents the new line itself; Shift+Home selects that indentation,
        so each line is typed exactly as written."""
        self.editor(index).click()
        self.keys(Keys.CONTROL, "a")
        for number, line in enumerate(text.split("\n")):
            if number:
                ActionChains(self.driver).send_keys(Keys.ENTER).perform()
                if line:
                    self.keys(Keys.SHIFT, Keys.HOME)
            if line:
                ActionChains(self.driver).send_keys(line).perform()

    def save(self) -> None:
        self.keys(Keys.CONTROL, "s")

    def keys(self, modifier: str, key: str) -> None:
        ActionChains(self.driver).key_down(modifier).send_keys(key).key_up(modifier).perform()


def answer_text(solution_source: str) -> str:
    """What a student who solved the question has in the cell: the solution's code without
    otter's markers and without the prompt shown to students instead."""
    lines, prompt = [], False
    for line in solution_source.splitlines():
        stripped = line.rstrip()
        if stripped.endswith("# BEGIN PROMPT"):
            prompt = True
        elif stripped.endswith("# END PROMPT"):
            prompt = False
        elif not prompt and not re.match(r"\s*# (BEGIN|END) SOLUTION", line):
            lines.append(re.sub(r"\s*# SOLUTION\s*$", "", line))
    return "\n".join(lines).strip("\n")


def code_cell_pairs(release: nbformat.NotebookNode, solution: nbformat.NotebookNode):
    """(release index, solution source) for every code cell, in order."""
    released = [i for i, c in enumerate(release.cells) if c.cell_type == "code"]
    solved = [c.source for c in solution.cells if c.cell_type == "code"]
    assert len(released) == len(solved)
    return dict(zip(released, solved, strict=True))


def answer_cell_of(release: nbformat.NotebookNode, question: str) -> int:
    check = next(i for i, c in enumerate(release.cells)
                 if c.source == f'grader.check("{question}")')
    return max(i for i, c in enumerate(release.cells[:check])
               if c.cell_type == "code" and not is_otter_cell(c))


def given_cells_before(
    release: nbformat.NotebookNode, solution: nbformat.NotebookNode, index: int
) -> list[int]:
    """otter's init cell and the given code cells above ``index``: those the solution holds
    as released."""
    return [i for i, source in code_cell_pairs(release, solution).items()
            if i < index and not release.cells[i].source.startswith("grader.check(")
            and (is_otter_cell(release.cells[i]) or source == release.cells[i].source)]


def work_on(driver, lab: Lab, release: nbformat.NotebookNode, solution: nbformat.NotebookNode,
            notebook: Path, question: str) -> tuple[str, str]:
    """Open ``notebook``, run the cells above ``question``, type and run its answer, run its
    check, save. Returns what the answer cell and the check cell show."""
    driver.get(lab.url(notebook.name))
    page = Notebook(driver, release)
    page.wait_until_open()
    answer = answer_cell_of(release, question)
    for index in given_cells_before(release, solution, answer):
        shown = page.run(index)
        assert "Traceback" not in shown, f"cell {index}: {shown}"
    typed = answer_text(code_cell_pairs(release, solution)[answer])
    page.type_into(answer, typed)
    shown = page.run(answer)
    verdict = page.run(answer + 1)
    page.save()
    WebDriverWait(driver, 30, poll_frequency=0.2).until(
        lambda d: saved_source(notebook, answer) == strip_lines(typed))
    return shown, verdict


def strip_lines(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.splitlines()).strip("\n")


def saved_source(notebook: Path, index: int) -> str | None:
    try:
        nb = nbformat.read(notebook, as_version=4)
    except Exception:  # the file is being written
        return None
    return strip_lines(nb.cells[index].source)


# ------------------------------------------------------------------ the tests


def test_a_student_answers_q1a_in_jupyterlab_and_the_grader_gives_its_points(
    ps1_built, browser, tmp_path
):
    ps, _ = ps1_built
    release = nbformat.read(ps.student_notebook, as_version=4)
    solution = nbformat.read(ps.solution_notebook, as_version=4)
    work = tmp_path / "work"
    work.mkdir()
    notebook = work / ps.student_notebook.name  # otter.Notebook(...) names it
    shutil.copy(ps.student_notebook, notebook)

    lab = Lab(work, tmp_path / "jupyter")
    try:
        with screenshot_on_failure(browser, tmp_path):
            _, verdict = work_on(browser, lab, release, solution, notebook, "q1a")
            assert "q1a passed!" in verdict or "All test cases passed" in verdict, verdict
    finally:
        lab.stop()

    submissions, out = tmp_path / "submissions", tmp_path / "out"
    submissions.mkdir()
    shutil.copy(notebook, submissions / "ada.ipynb")
    nngrade = Path(sys.executable).with_name("nngrade")
    command = [str(nngrade)] if nngrade.exists() else [sys.executable, "-m", "autograder.cli"]
    graded = subprocess.run(
        [*command, "grade", ps.name, str(submissions), "--out", str(out)],
        env={**os.environ, "NNGRADE_ROOT": str(ps.root)},
        capture_output=True, text=True, timeout=600,
    )
    assert graded.returncode == 0, graded.stdout + graded.stderr
    results = json.loads((out / "ada" / "results.json").read_text(encoding="utf-8"))
    points = results["extra_data"]["questions"]
    assert points["q1a"] == 3, points
    assert sum(points.values()) == 3, points  # every other question is still blank


def test_a_student_builds_the_lectures_network_in_jupyterlab(
    ps3_solution_only, browser, tmp_path
):
    (ps,) = find_problem_sets(REPO, ["ps3-keras-mnist"])
    release = nbformat.read(ps.student_notebook, as_version=4)
    work = tmp_path / "work"
    shutil.copytree(ps.assignment_dir, work)
    notebook = work / ps.student_notebook.name

    lab = Lab(work, tmp_path / "jupyter")
    try:
        with screenshot_on_failure(browser, tmp_path):
            shown, verdict = work_on(browser, lab, release, ps3_solution_only, notebook, "q5a")
            assert "parameters by hand: 407050, by Keras: 407050" in shown, shown
            assert "q5a passed!" in verdict or "All test cases passed" in verdict, verdict
    finally:
        lab.stop()
    assert list(work.glob("*.keras")) == []  # building the network trains nothing


def test_the_helpers_type_what_a_student_would_write():
    """The typed answer is the solution without otter's markers or the students' prompt."""
    source = (
        "# BEGIN SOLUTION NO PROMPT\nmlp = build()\n# END SOLUTION\n"
        '""" # BEGIN PROMPT\nmlp = ...\n"""  # END PROMPT\n'
        "n = 3  # SOLUTION\ndef f(x):\n    # BEGIN SOLUTION\n    return x\n    # END SOLUTION"
    )
    assert answer_text(source) == "mlp = build()\nn = 3\ndef f(x):\n    return x"

def test_the_student_runs_the_given_cells_above_the_question(ps3_solution_only):
    (ps,) = find_problem_sets(REPO, ["ps3-keras-mnist"])
    release = nbformat.read(ps.student_notebook, as_version=4)
    answer = answer_cell_of(release, "q5a")
    assert release.cells[answer].source.startswith("mlp = ...")
    assert given_cells_before(release, ps3_solution_only, answer) == [0, 2]
