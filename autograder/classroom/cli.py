"""``nngrade release --template`` and ``nngrade collect``: the GitHub Actions and
Classroom 50 side of the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from autograder.cli_grade import _grade_folder, grading_options


@click.command()
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


@click.command()
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
@grading_options
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
    cluster: str | None,
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
                trust_saved_models=trust_saved_models, find_jobs=find_jobs,
                cluster=cluster)  # fmt: skip
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
