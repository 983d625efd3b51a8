"""The ``nngrade`` command line. Every command has ``--help``.

Library code raises :class:`autograder.errors.NngradeError` for problems the user can fix;
:class:`NngradeGroup` turns those into ``Error: <message>`` and exit code 1 for every command,
in one place, so no library module depends on click.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from autograder.engine.registry import DEFAULT_ENGINE, ENGINES, describe_engines
from autograder.errors import NngradeError
from autograder.limits import SandboxLimits
from gradebook.cli import gradebook


class NngradeGroup(click.Group):
    """A click group that reports library errors as click errors (message, exit code 1)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NngradeError as error:
            raise click.ClickException(str(error)) from error


@click.group(cls=NngradeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="nngrade")
def main() -> None:
    """nngrade: problem sets, reference solutions and autograding for a neural-networks course."""


@main.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default="demo-output",
    show_default=True,
    help="Folder for the sample class, results, gradebook, report and export.",
)
@click.option("--workers", type=int, default=None, help="Submissions graded in parallel.")
@click.option("--seed", default=0, show_default=True, help="Seed of the sample class.")
@click.option(
    "--class-size",
    "class_sizes",
    multiple=True,
    metavar="N|PS=N",
    help="Submissions per problem set: N for all, PS=N for one (repeatable). Below the "
    "smallest class with every kind of submission, that class.  [default: each kind once; "
    "30 is a full class]",
)
def demo(out: Path, workers: int | None, seed: int, class_sizes: tuple[str, ...]) -> None:
    """The whole workflow on a synthetic class: build every problem set (unless unchanged
    since its last build), generate a class for each (by default each kind of submission
    once: correct, alternatives, every declared mistake, partial, blank, late, malformed,
    hostile), grade it in the sandbox, record it in a gradebook, and write report.html and
    canvas.csv. Running it again regrades nothing that is unchanged."""
    import time

    from autograder.pipeline import run_pipeline
    from autograder.sample_class import ClassSizes
    from nnkit.mnist import course_data_dir

    start = time.perf_counter()
    data = course_data_dir()
    sizes = ClassSizes.parse(class_sizes, default=None)
    result = run_pipeline(out, workers=workers, readonly_paths=(data,) if data.is_dir() else (),
                          seed=seed, sizes=sizes)
    stages = ", ".join(f"{k} {v:.0f} s" for k, v in result.seconds.items())
    click.echo(f"done in {time.perf_counter() - start:.0f} s ({stages})")
    click.echo(f"report:    {result.report}")
    click.echo(f"canvas:    {result.canvas}")
    click.echo(f"gradebook: {result.gradebook}  (try: nngrade gradebook show --db "
               f"{result.gradebook})")
    click.echo(f"everything is in {result.out}")
    if any(result.failed.values()):
        raise SystemExit(1)


@main.command(name="sample-class")
@click.argument("problem_sets", nargs=-1, metavar="[PS]...")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Writes roster.csv, assignments.csv and <ps>/submissions/, <ps>/manifest.csv.")
@click.option("--seed", default=0, show_default=True)
@click.option(
    "--class-size",
    "class_sizes",
    multiple=True,
    metavar="N|PS=N",
    help="Submissions per problem set: N for all, PS=N for one (repeatable). Below the "
    "smallest class with every kind of submission (0 asks for it), that class.  "
    "[default: 30]",
)
def sample_class(
    problem_sets: tuple[str, ...], out: Path, seed: int, class_sizes: tuple[str, ...]
) -> None:
    """Generate a synthetic class for problem sets (default: all): correct, correct but
    written differently, realistic mistakes, partial, blank, late, malformed and hostile
    submissions, derived from each solution. manifest.csv says which is which."""
    from autograder.build import build_problem_set
    from autograder.problem_sets import find_problem_sets, repo_root
    from autograder.sample_class import ClassSizes, write_sample_class

    sets = find_problem_sets(repo_root(), problem_sets)
    sizes = ClassSizes.parse(class_sizes)
    for ps in sets:
        if not ps.is_built:
            build_problem_set(ps)
    for name, samples in write_sample_class(sets, out, seed=seed, sizes=sizes).items():
        click.echo(f"{name}: {len(samples)} submissions in {out / name / 'submissions'}")


@main.command(name="train-mlp")
@click.option("--epochs", default=5, show_default=True,
              help="Passes over the 50,000 training images.")
@click.option("--batch-size", default=128, show_default=True)
@click.option("--hidden", default=512, show_default=True, help="Hidden units (relu).")
@click.option("--seed", default=0, show_default=True)
def train_mlp(epochs: int, batch_size: int, hidden: int, seed: int) -> None:
    """Train the reference MLP (784-HIDDEN-10, relu/softmax, rmsprop) on MNIST.

    Prints the time and test accuracy of every epoch. Reads MNIST from the offline cache
    (fill it with `make setup` or `nnkit-fetch-mnist`).
    """
    from autograder.train_mlp import train_reference_mlp_on_mnist

    train_reference_mlp_on_mnist(epochs=epochs, batch_size=batch_size, hidden=hidden, seed=seed)


@main.command()
@click.argument("problem_sets", nargs=-1, metavar="[PS]...")
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing; exit 1 if assignments/<ps>/ differs from what a build would write.",
)
def build(problem_sets: tuple[str, ...], check: bool) -> None:
    """Build problem sets from their masters in solutions/ (default: all of them).

    For each PS, otter assign turns solutions/PS/PS.py into the student notebook, written to
    assignments/PS/ (public tests only, deterministic: rebuilding an unchanged master changes
    no byte), and the autograder (all tests and the solutions), written to dist/PS/, which git
    ignores. The solution is graded against its own tests on the way, so a master whose
    solution fails a test does not build.

    With --check, nothing is written: the command lists the files of assignments/ that are out
    of date and exits 1 if there are any.
    """
    import sys

    from tqdm import tqdm

    from autograder.build import build_problem_set
    from autograder.errors import BuildError
    from autograder.problem_sets import find_problem_sets, repo_root

    root = repo_root()
    sets = find_problem_sets(root, problem_sets)
    if not sets:
        raise click.ClickException(
            f"no problem sets under {root / 'solutions'} (each is solutions/<ps>/<ps>.py)"
        )

    def rel(path: Path) -> str:
        return path.relative_to(root).as_posix()

    failed = False
    bar = tqdm(sets, unit="set", desc="check" if check else "build", disable=len(sets) < 2)
    for ps in bar:
        bar.set_postfix_str(ps.name)
        try:
            result = build_problem_set(ps, check=check)
        except BuildError as exc:
            failed = True
            tqdm.write(f"Error: {exc}", file=sys.stderr)
            continue
        if check and result.stale:
            failed = True
            lines = [f"{ps.name}: {rel(ps.assignment_dir)}/ is out of date:"]
            lines += [f"  {entry}" for entry in result.stale]
            lines.append(f"  run: nngrade build {ps.name}")
            tqdm.write("\n".join(lines))
        elif check:
            tqdm.write(f"{ps.name}: {rel(ps.assignment_dir)}/ is up to date")
        else:
            for path in result.student_files:
                tqdm.write(f"{ps.name}: wrote {rel(path)}")
            if result.autograder_zip is not None:
                tqdm.write(f"{ps.name}: wrote {rel(result.autograder_zip)} (hidden tests)")
    bar.close()
    if failed:
        sys.exit(1)


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


@main.command()
@click.argument("problem_set", metavar="PS")
@click.argument("submissions", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for <student>/results.json, <student>/feedback.md and summary.csv.",
)
@click.option(
    "--workers",
    type=int,
    default=None,
    help="Submissions graded in parallel.  [default: number of cores]",
)
@click.option(
    "--engine",
    type=click.Choice(ENGINES),
    default=DEFAULT_ENGINE,
    show_default=True,
    help=describe_engines(),
)
@click.option(
    "--timeout",
    type=float,
    default=None,
    help="Seconds allowed per notebook cell and per call from a test.  "
    f"[default: cell_timeout in solutions/PS/grading.yaml, else {SandboxLimits().cell_timeout:g}]",
)
@click.option(
    "--require-sandbox",
    is_flag=True,
    help="Refuse to grade when the host cannot give every sandbox guarantee (bubblewrap, the "
    "sandbox user, cgroups, root) instead of falling back.",
)
@click.option("--force", is_flag=True, help="Regrade submissions that are already graded.")
@click.option(
    "--cluster",
    metavar="tcp://HOST:8786|local:N",
    default=None,
    help="Grade on a Dask cluster instead of this machine's process pool: the address of a "
    "running scheduler (its workers started with `dask worker tcp://HOST:8786 --nthreads 1 "
    "--resources sandbox=1`, as root, from this project's virtualenv), or local:N for N "
    "single-threaded worker processes here. Each worker grades in its own sandbox; this "
    "machine writes the results. --workers is then unused.",
)
@click.option(
    "--trust-saved-models",
    is_flag=True,
    help="Copy the saved models of a folder submission (grading.yaml's saved_models: "
    "patterns, such as *.keras) into the sandbox, so that the notebook loads them instead of "
    "retraining. This trusts files the student made offline, which may hold anything a model "
    "can, a memorised copy of the data included; by default the notebook retrains from its "
    "own code, which is what a TA can read.",
)
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


@main.command()
@click.argument("problem_set", metavar="PS")
@click.option(
    "--template",
    "template",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The folder to write the template repository to (replaced whole).",
)
def release(problem_set: str, template: Path) -> None:
    """Write problem set PS as a template repository for GitHub Actions and Classroom 50.

    It holds the student notebook, each question's public checks (tests/q.py, run with
    `pytest tests/test_q.py`), requirements.txt (nnkit vendored), a README for students,
    .github/workflows/classroom.yml (one GitHub Classroom command-grader step per question,
    its public points as max-score, and the reporter) and classroom50-tests.json (for
    `gh teacher assignment test set`). A push earns the public checks' points only; the
    hidden tests are run by the instructor after the deadline (nngrade collect). Nothing
    instructor-only is written: the template is checked for leaks like the release.
    """
    from autograder.build import build_problem_set
    from autograder.classroom.template import write_template
    from autograder.problem_sets import find_problem_sets, repo_root

    (ps,) = find_problem_sets(repo_root(), [problem_set])
    if not ps.is_built:
        click.echo(f"{ps.name}: not built yet; building it first")
        build_problem_set(ps)
    result = write_template(ps, template)
    click.echo(
        f"{ps.name}: wrote {len(result.files)} files to {template} ({len(result.questions)} "
        f"questions, {result.public_points} public points per push; the hidden tests stay "
        "with the instructor)"
    )


@main.command()
@click.argument("problem_set", metavar="PS")
@click.argument("repositories", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the results (as nngrade grade writes them) and collected.csv.")
@click.option("--roster", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Roster CSV (id,name,email,github[,section]).  [default: the "
              "gradebook's roster, with --db]")
@click.option("--due", default=None, metavar="TIME",
              help="The due date, ISO 8601 (2026-10-05T23:59:00+02:00; UTC without an offset)."
              "  [default: the assignment's due date in the gradebook, with --db]")
@click.option("--extension", "extensions", multiple=True, metavar="STUDENT=DAYS",
              help="Days more for a student (id or GitHub username; repeatable); on top of "
              "the gradebook's extensions, with --db.")
@click.option("--db", default=None,
              help="A gradebook (SQLite file or SQLAlchemy URL) to read the roster, the due "
              "date and the extensions from.")
@click.option("--pushed-at", "pushed_at", default=None,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Push times the platform recorded, a CSV of username, commit (or "
              "submission_tag) and pushed_at: only those commits count, at those times, "
              "instead of the committer dates a student can set.")
@click.option("--workers", type=int, default=None,
              help="Submissions graded in parallel.  [default: number of cores]")
@click.option("--engine", type=click.Choice(ENGINES), default=DEFAULT_ENGINE, show_default=True,
              help=describe_engines())
@click.option("--timeout", type=float, default=None,
              help="Seconds allowed per notebook cell and per call from a test.")
@click.option("--require-sandbox", is_flag=True,
              help="Refuse to grade when the host cannot give every sandbox guarantee.")
@click.option("--force", is_flag=True, help="Regrade submissions that are already graded.")
@click.option("--trust-saved-models", is_flag=True,
              help="Copy a repository's saved models into the sandbox instead of retraining "
              "(as for nngrade grade; by default the notebook retrains).")
def collect(
    problem_set: str,
    repositories: Path,
    out: Path,
    roster: Path | None,
    due: str | None,
    extensions: tuple[str, ...],
    db: str | None,
    pushed_at: Path | None,
    workers: int | None,
    engine: str,
    timeout: float | None,
    require_sandbox: bool,
    force: bool,
    trust_saved_models: bool,
) -> None:
    """Grade problem set PS from a folder of cloned student repositories.

    REPOSITORIES is GitHub Classroom's or `gh teacher download`'s folder: one clone per
    student, named ...-<github username>. Each is matched to a roster student by GitHub
    username; for each student the last commit at or before the due date plus their
    extension is checked out in a scratch worktree and graded with the hidden tests, as
    `nngrade grade` does. Every result records the commit graded and its time; OUT/collected.csv
    lists every student's commit, the repositories that match no roster student, and the
    students with no commit before their deadline.

    Commit times are the committer dates, which a student can set to anything; give the
    push times the platform recorded with --pushed-at where there are some.
    """
    import tempfile
    from dataclasses import replace

    from autograder.classroom import collect as collecting
    from autograder.engine.job import find_submissions

    usernames, due_at, granted = _collect_course(problem_set, roster, due, db)
    by_key = {s.lower(): s for s in usernames.values()}
    by_key.update({u.lower(): s for u, s in usernames.items()})
    for entry in extensions:
        key, _, days = entry.partition("=")
        if key.strip().lower() not in by_key:
            raise click.BadParameter(f"{key!r} is no roster student", param_hint="--extension")
        try:
            granted[by_key[key.strip().lower()]] = float(days)
        except ValueError:
            raise click.BadParameter(f"{entry!r}: DAYS is not a number",
                                     param_hint="--extension") from None
    pushes = collecting.read_push_times(pushed_at) if pushed_at is not None else None
    found = collecting.collect(repositories, usernames, due_at, granted, pushes)
    picks = {p.student: p for p in found.collected}

    def find_jobs(folder, tests):
        jobs = []
        for job in find_submissions(folder, tests):
            pick = picks[job.student]
            when = pick.time.isoformat(timespec="seconds") if pick.time else None
            jobs.append(replace(job, submitted_at=when, commit=pick.commit))
        return jobs

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="nngrade-collect-") as scratch:
        folders = collecting.check_out(found.collected, Path(scratch) / "submissions")
        try:
            _, report = _grade_folder(
                problem_set, Path(scratch) / "submissions", out, workers=workers,
                engine=engine, timeout=timeout, require_sandbox=require_sandbox, force=force,
                trust_saved_models=trust_saved_models, find_jobs=find_jobs)  # fmt: skip
        finally:
            collecting.remove_checkouts(found.collected, folders)
    manifest = collecting.write_manifest(found, out / "collected.csv")
    for pick in found.picks:
        when = f" ({pick.time_source} {pick.time.isoformat()})" if pick.time else ""
        click.echo(f"{pick.student}: {pick.repository.name} {pick.commit[:12] or pick.status}"
                   f"{when}")
    for student, repos in sorted(found.ambiguous.items()):
        names = ", ".join(r.name for r in repos)
        click.echo(f"  not graded: {student} has {len(repos)} repositories ({names})", err=True)
    for repo in found.unmatched:
        click.echo(f"  unmatched: {repo.name} matches no roster student's GitHub username",
                   err=True)
    click.echo(
        f"collected {len(found.collected)} of {len(usernames)} students; graded "
        f"{len(report.graded)}, already graded {len(report.skipped)}, grader failures "
        f"{len(report.failed)}; {manifest}, summary: {report.summary_csv}"
    )
    for student, reason in report.failed.items():
        click.echo(f"  grader failure on {student}: {reason}", err=True)
    if not report.ok:
        raise SystemExit(1)


def _collect_course(
    problem_set: str, roster: Path | None, due: str | None, db: str | None
) -> tuple[dict[str, str], Any, dict[str, float]]:
    """The roster's GitHub usernames (username: student id), the due date and the extensions
    (student id: days): from the options given, the rest from the gradebook."""
    from autograder.classroom.collect import course_from_gradebook, parse_time, roster_usernames

    if db is None and (roster is None or due is None):
        raise click.UsageError("give --roster and --due, or a gradebook with --db")
    usernames, due_at, granted = {}, None, {}
    if db is not None:
        usernames, due_at, granted = course_from_gradebook(db, problem_set)
    if roster is not None:
        from gradebook.ingest import read_roster

        usernames = roster_usernames(read_roster(roster))
    if due is not None:
        due_at = parse_time(due)
    if not usernames:
        raise click.ClickException("the roster names no GitHub usernames")
    if due_at is None:
        raise click.ClickException(f"the gradebook has no due date for {problem_set}; give --due")
    return usernames, due_at, granted


@main.group()
def export() -> None:
    """Write problem sets in other graders' formats."""


@export.command("nbgrader")
@click.argument("problem_set", metavar="PS")
@click.option(
    "--course",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The nbgrader course folder (made if missing): gets source/PS/ and the checks module.",
)
def export_nbgrader(problem_set: str, course: Path) -> None:
    """Put problem set PS into an nbgrader course as source/PS/PS.ipynb.

    One test cell per test (hidden ones between nbgrader's HIDDEN TESTS markers), the answer
    cells, the hand-graded questions as manual-grade cells; nbgrader_config.py is written if
    the course has none. Then run `nbgrader generate_assignment PS` in the course.
    """
    from autograder.build import build_problem_set
    from autograder.nbgrader_export import export_assignment
    from autograder.problem_sets import find_problem_sets, grading_limits, repo_root

    (ps,) = find_problem_sets(repo_root(), [problem_set])
    if not ps.is_built:
        build_problem_set(ps)
    notebook = export_assignment(ps.name, ps.solution_notebook, ps.master_notebook,
                                 ps.autograder_zip, course, grading_limits(ps).cell_timeout)
    click.echo(f"wrote {notebook}")


main.add_command(gradebook)


if __name__ == "__main__":
    main()
