"""The ``nngrade`` command line. Every command has ``--help``.

Library code raises :class:`autograder.errors.NngradeError` for problems the user can fix;
:class:`NngradeGroup` turns those into ``Error: <message>`` and exit code 1 for every command,
in one place, so no library module depends on click.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from autograder.classroom.cli import collect, release
from autograder.cli_grade import grade
from autograder.errors import NngradeError
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
    help="Submissions per problem set: N for all, PS=N for one (repeatable); 0 is the "
    "smallest class with every kind of submission, fewer a short class.  [default: each "
    "kind once, or the short class of a grading.yaml's demo_class_size; "
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
    help="Submissions per problem set: N for all, PS=N for one (repeatable); 0 is the "
    "smallest class with every kind of submission, fewer a short class.  "
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
@click.option(
    "--skip-solution-run",
    is_flag=True,
    help="Do not grade the solution against its own tests while building (problem set 3's "
    "solution trains for about a minute); the release and the autograder are the same.",
)
def build(problem_sets: tuple[str, ...], check: bool, skip_solution_run: bool) -> None:
    """Build problem sets from their masters in solutions/ (default: all of them).

    For each PS, otter assign turns solutions/PS/PS.py into the student notebook, written to
    assignments/PS/ (public tests only, deterministic: rebuilding an unchanged master changes
    no byte), and the autograder (all tests and the solutions), written to dist/PS/, which git
    ignores. The solution is graded against its own tests on the way, so a master whose
    solution fails a test does not build (unless --skip-solution-run).

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
            result = build_problem_set(ps, check=check, run_solution=not skip_solution_run)
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
main.add_command(grade)
main.add_command(release)
main.add_command(collect)


if __name__ == "__main__":
    main()
