"""``nngrade grade``: grade a folder of submissions (and the grading path that
``nngrade collect`` shares)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from autograder.engine.registry import DEFAULT_ENGINE, ENGINES, describe_engines
from autograder.limits import SandboxLimits


def _grade_folder(
    problem_set: str,
    submissions: Path,
    out: Path,
    *,
    workers: int | None,
    engine: str,
    timeout: float | None,
    require_sandbox: bool,
    force: bool,
    trust_saved_models: bool,
    find_jobs: Any,
    cluster: str | None = None,
) -> tuple[Any, Any]:
    """Grade a folder of submissions as `nngrade grade` does; returns the problem set and the
    batch's report."""
    from autograder.build import build_problem_set
    from autograder.engine.batch import grade_batch
    from autograder.engine.registry import get_engine
    from autograder.problem_sets import find_problem_sets, grading_limits, repo_root
    from nnkit.mnist import course_data_dir

    # What this engine cannot guarantee on this host, said before anything runs. On a
    # cluster the workers grade: each says what it cannot guarantee, and refuses under
    # --require-sandbox.
    if cluster is None:
        missing = get_engine(engine).host_problems()
        for problem in missing:
            click.echo(f"WARNING: {problem}", err=True)
        if missing and require_sandbox:
            raise click.ClickException("--require-sandbox: this host cannot grade safely")
    else:
        from autograder.engine.cluster import parse_local

        parse_local(cluster)  # a wrong address is an error before anything is built
    (ps,) = find_problem_sets(repo_root(), [problem_set])
    if not ps.is_built:
        click.echo(f"{ps.name}: no autograder yet; building it first")
        build_problem_set(ps)
    limits = grading_limits(ps, cell_timeout=timeout)
    data = course_data_dir()
    readonly = (data,) if data.is_dir() else ()
    report = grade_batch(
        ps.name,
        ps.autograder_zip,
        submissions,
        out,
        workers=workers,
        limits=limits,
        readonly_paths=readonly,
        require_sandbox=require_sandbox,
        force=force,
        trust_saved_models=trust_saved_models,
        engine=engine,
        master=ps.master,
        find_jobs=find_jobs,
        cluster=cluster,
        say=lambda message: click.echo(f"WARNING: {message}", err=True),
    )
    return ps, report


def grading_options(command: Callable) -> Callable:
    """The options of every command that grades a class (``grade``, ``collect``): workers,
    engine, timeout, sandbox requirement, regrading, cluster and saved models, one
    definition for all of them."""
    for option in reversed(_GRADING_OPTIONS):
        command = option(command)
    return command


_GRADING_OPTIONS = [
    click.option(
        "--workers",
        type=int,
        default=None,
        help="Submissions graded in parallel.  [default: number of cores]",
    ),
    click.option(
        "--engine",
        type=click.Choice(ENGINES),
        default=DEFAULT_ENGINE,
        show_default=True,
        help=describe_engines(),
    ),
    click.option(
        "--timeout",
        type=float,
        default=None,
        help="Seconds allowed per notebook cell and per call from a test.  [default: "
        f"cell_timeout in solutions/PS/grading.yaml, else {SandboxLimits().cell_timeout:g}]",
    ),
    click.option(
        "--require-sandbox",
        is_flag=True,
        help="Refuse to grade when the host cannot give every sandbox guarantee (bubblewrap, "
        "the sandbox user, cgroups, root) instead of falling back.",
    ),
    click.option("--force", is_flag=True, help="Regrade submissions that are already graded."),
    click.option(
        "--cluster",
        metavar="tcp://HOST:8786|local:N",
        default=None,
        help="Grade on a Dask cluster instead of this machine's process pool: the address of a "
        "running scheduler (its workers started with `dask worker tcp://HOST:8786 --nthreads 1 "
        "--resources sandbox=1`, as root, from this project's virtualenv), or local:N for N "
        "single-threaded worker processes here. Each worker grades in its own sandbox; this "
        "machine writes the results. --workers is then unused.",
    ),
    click.option(
        "--trust-saved-models",
        is_flag=True,
        help="Copy the saved models of a folder submission (grading.yaml's saved_models: "
        "patterns, such as *.keras) into the sandbox, so that the notebook loads them instead "
        "of retraining. This trusts files the student made offline, which may hold anything a "
        "model can, a memorised copy of the data included; by default the notebook retrains "
        "from its own code, which is what a TA can read.",
    ),
]


@click.command()
@click.argument("problem_set", metavar="PS")
@click.argument("submissions", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for <student>/results.json, <student>/feedback.md and summary.csv.",
)
@grading_options
@click.option(
    "--layout",
    type=click.Choice(["auto", "flat", "nbgrader"]),
    default="auto",
    show_default=True,
    help="flat: <student>.ipynb or <student>/; nbgrader: a course's submitted/<student>/PS/; "
    "auto: nbgrader when the folder looks like it.",
)
@click.option(
    "--write-nbgrader-gradebook",
    "nbgrader_db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the scores into this nbgrader gradebook.db (the course's).",
)
def grade(
    problem_set: str,
    submissions: Path,
    out: Path,
    workers: int | None,
    engine: str,
    timeout: float | None,
    require_sandbox: bool,
    force: bool,
    cluster: str | None,
    trust_saved_models: bool,
    layout: str,
    nbgrader_db: Path | None,
) -> None:
    """Grade every submission in SUBMISSIONS against problem set PS's hidden tests.

    SUBMISSIONS holds one <student>.ipynb per student, or one <student>/ folder per student
    (a clone of their repository). Grading resumes where it stopped: a student whose notebook
    and the tests are unchanged is skipped. The exit code is non-zero only when the grader
    itself failed, never because a student did.

    An nbgrader course's submitted/ folder is graded in place (--layout nbgrader), the time
    of submission read from nbgrader's timestamp.txt; --write-nbgrader-gradebook then
    records every score in the course's gradebook.db, for nbgrader's formgrader.
    """
    from autograder.engine import nbgrader_course
    from autograder.engine.job import find_submissions

    def find_jobs(folder, tests):
        nbgrader = layout == "nbgrader" or (
            layout == "auto" and nbgrader_course.is_nbgrader_layout(folder, tests.name))
        return (nbgrader_course.find_nbgrader_jobs if nbgrader else find_submissions)(
            folder, tests)

    ps, report = _grade_folder(problem_set, submissions, out, workers=workers, engine=engine,
                               timeout=timeout, require_sandbox=require_sandbox, force=force,
                               trust_saved_models=trust_saved_models, find_jobs=find_jobs,
                               cluster=cluster)
    click.echo(
        f"graded {len(report.graded)}, already graded {len(report.skipped)}, "
        f"grader failures {len(report.failed)}; summary: {report.summary_csv}"
    )
    for student, reason in report.failed.items():
        click.echo(f"  grader failure on {student}: {reason}", err=True)
    if nbgrader_db is not None:
        from autograder.results import read_results

        graded = [
            read_results(out / s / "results.json") for s in sorted(report.graded + report.skipped)
        ]
        count = nbgrader_course.write_nbgrader_gradebook(nbgrader_db, ps.name, graded)
        click.echo(f"wrote {count} submissions into {nbgrader_db}")
    if not report.ok:
        raise SystemExit(1)
