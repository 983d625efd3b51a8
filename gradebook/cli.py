"""``nngrade gradebook``: import results, look at them, export them, report on them."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

DB_ENV_VAR = "NNGRADE_GRADEBOOK"
IMPORT_KINDS = ("nngrade", "otter-csv", "otter-json", "nbgrader", "classroom", "classroom50",
                "roster", "assignments")
VIEWS = ("totals", "scores", "matrix", "assignments", "submissions", "runs", "failures",
         "missing", "overrides")


def _open(db: str):
    from gradebook import Gradebook

    return Gradebook(db)


def _policy(db: str, path: Path | None):
    """The policy file given, else ``policy.yaml`` next to a SQLite gradebook, else defaults."""
    from gradebook import Policy

    if path is None and "://" not in db:
        beside = Path(db).expanduser().resolve().parent / "policy.yaml"
        path = beside if beside.is_file() else None
    if path is None:
        return Policy()
    try:
        return Policy.from_yaml(path)
    except ValueError as error:
        raise click.ClickException(str(error)) from None


db_option = click.option(
    "--db",
    default=lambda: os.environ.get(DB_ENV_VAR, "gradebook.db"),
    show_default=f"${DB_ENV_VAR}, else gradebook.db",
    help="The gradebook: a SQLite file (created if absent) or any SQLAlchemy URL.",
)
policy_option = click.option(
    "--policy",
    "policy_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Policy YAML (late penalty, drops, weights, letters). [default: policy.yaml next "
    "to the gradebook, else no penalties, equal weights, A/B/C/D/F at 90/80/70/60]",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def gradebook() -> None:
    """The course gradebook: SQLite (or any SQLAlchemy database) read through pandas.

    History is append-only: every import adds a grading run, and the views read each
    student's latest one. Importing the same results twice records them once.
    """


@gradebook.command(name="import")
@click.argument("kind", type=click.Choice(IMPORT_KINDS))
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--assignment", default=None, help="The assignment the results belong to "
              "(read from the files where they say it: nngrade, nbgrader, GitHub Classroom).")
@db_option
def import_(kind: str, path: Path, assignment: str | None, db: str) -> None:
    """Import grading results, a roster or due dates from PATH.

    \b
    nngrade      a results folder written by `nngrade grade` (<student>/results.json)
    otter-csv    otter's final_grades.csv (needs --assignment)
    otter-json   a folder of otter results.json files, <student>/results.json or
                 <student>.json (needs --assignment)
    nbgrader     nbgrader's gradebook.db: every assignment, or just --assignment
    classroom    a GitHub Classroom grades CSV (github_username, points_awarded, ...)
    classroom50  Classroom 50's scores.csv from `gh teacher download` (needs --assignment):
                 each student's newest push, its public checks' points
    roster       students: id,name,email,github[,section]
    assignments  due dates: name,due[,title]
    """
    from gradebook import IngestError

    book = _open(db)
    try:
        if kind == "roster":
            click.echo(f"roster: {book.import_roster(path)} students")
            return
        if kind == "assignments":
            click.echo(f"assignments: {book.import_assignments(path)} updated")
            return
        recorded = book.ingest(kind, path, assignment)
    except IngestError as error:
        raise click.ClickException(str(error)) from None
    finally:
        book.close()
    for item in recorded:
        what = "recorded as run" if item.created else "already recorded as run"
        click.echo(
            f"{item.assignment}: {item.submissions} submissions, {item.results} results "
            f"{what} {item.run_id}"
        )


@gradebook.command()
@click.argument("view", type=click.Choice(VIEWS), default="totals")
@click.option("--assignment", default=None, help="For matrix (required) and scores.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV instead of a table.")
@db_option
@policy_option
def show(view: str, assignment: str | None, as_csv: bool, db: str,
         policy_path: Path | None) -> None:
    """Print a view of the gradebook (default: totals).

    \b
    totals       per student: each assignment's %, dropped, course %, letter
    scores       one row per test of each student's latest run
    matrix       students × questions of --assignment
    assignments  due dates and points
    submissions  latest status per student and assignment
    runs         every grading run recorded (engine, version, times, source)
    failures     submissions that could not be graded, and why
    missing      roster students with no submission
    overrides    manual scores and overrides in force (who, when, why)
    """
    import pandas as pd

    book = _open(db)
    policy = _policy(db, policy_path)
    if view == "matrix":
        if assignment is None:
            raise click.UsageError("matrix needs --assignment")
        try:
            frame = book.matrix(assignment).reset_index()
        except KeyError as error:
            raise click.ClickException(str(error.args[0])) from None
    elif view == "totals":
        frame = book.totals(policy)
    elif view == "scores":
        frame = book.scores(assignment)
    else:
        frame = getattr(book, view)()
    if as_csv:
        click.echo(frame.to_csv(index=False), nl=False)
    elif frame.empty:
        click.echo(f"({view}: nothing yet)")
    else:
        with pd.option_context("display.max_rows", None, "display.width", 200,
                               "display.float_format", "{:.2f}".format):
            click.echo(frame.to_string(index=False))


@gradebook.command()
@click.option("--format", "kind", type=click.Choice(["canvas", "csv", "json"]), required=True)
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="A CSV file (canvas, csv) or a folder of <student>.json files (json).")
@db_option
@policy_option
def export(kind: str, out: Path, db: str, policy_path: Path | None) -> None:
    """Export final grades (after late penalties and overrides).

    \b
    canvas  Canvas's gradebook-import CSV (Student, ID, SIS User ID, SIS Login ID, Section,
            one column per assignment, and a Points Possible row)
    csv     one row per student: points per assignment, course %, letter
    json    one Gradescope-style <student>.json per student
    """
    from gradebook.exports import write_export

    written = write_export(_open(db), kind, out, _policy(db, policy_path))
    click.echo(f"{kind}: wrote {out}" + (f" ({len(written)} files)" if kind == "json" else ""))


@gradebook.command()
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default="report.html",
              show_default=True)
@click.option("--png", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also render the page to this PNG with headless Chromium.")
@click.option("--title", default="Gradebook", show_default=True)
@db_option
@policy_option
def report(out: Path, png: Path | None, title: str, db: str, policy_path: Path | None) -> None:
    """Write the HTML report: score distributions, per-question statistics (mean, median,
    difficulty, discrimination), submissions that failed to grade, students who did not
    submit. Plots are embedded, so the page is one self-contained file."""
    from autograder.atomic import atomic_write
    from gradebook.render import RenderError, render_png
    from gradebook.report import build_report

    atomic_write(out, build_report(_open(db), _policy(db, policy_path), title=title))
    click.echo(f"report: wrote {out}")
    if png is not None:
        try:
            render_png(out, png)
        except RenderError as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"report: rendered {png}")


@gradebook.command()
@click.argument("student")
@click.argument("assignment")
@click.argument("score", type=float, required=False)
@click.option("--question", default=None,
              help="Set a manual score for this question; without it, override the "
              "assignment's final points (no late penalty applies to them).")
@click.option("--clear", is_flag=True, help="Withdraw the override instead of setting one.")
@click.option("--by", "author", required=True, help="Who decides (recorded).")
@click.option("--reason", required=True, help="Why (recorded).")
@db_option
def override(student: str, assignment: str, score: float | None, question: str | None,
             clear: bool, author: str, reason: str, db: str) -> None:
    """Record a manual score or an override for STUDENT on ASSIGNMENT.

    Nothing is edited: each override is a new row with who, when and why; the newest one
    for the same target counts, and --clear withdraws it.
    """
    if (score is None) != clear:
        raise click.UsageError("give a SCORE, or --clear to withdraw the override")
    try:
        _open(db).override(student, assignment, score, author, reason, question=question)
    except (KeyError, ValueError) as error:
        raise click.ClickException(str(error.args[0])) from None
    target = f"{assignment} {question}" if question else assignment
    click.echo(f"{student}, {target}: " + ("override withdrawn" if clear else f"{score:g}"))


@gradebook.command()
@click.argument("student")
@click.argument("assignment")
@click.argument("days", type=float)
@click.option("--by", "author", required=True, help="Who grants it (recorded).")
@click.option("--reason", required=True, help="Why (recorded).")
@db_option
def extend(student: str, assignment: str, days: float, author: str, reason: str,
           db: str) -> None:
    """Give STUDENT DAYS more for ASSIGNMENT (late penalties count from the new date)."""
    try:
        _open(db).extend(student, assignment, days, author, reason)
    except (KeyError, ValueError) as error:
        raise click.ClickException(str(error.args[0])) from None
    click.echo(f"{student}, {assignment}: extended by {days:g} days")


if __name__ == "__main__":
    sys.exit(gradebook())
