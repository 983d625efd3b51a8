"""The whole course workflow on a synthetic class: what ``make demo`` runs.

1. **build** every problem set (student release, autograder), skipped for a problem set whose
   sources, build code and outputs are those of its last build (a content digest); the
   solution is checked by its grading with the class rather than by otter's run at build;
2. **sample class**: synthetic submissions per problem set, by default the smallest class
   with every kind of submission, or the short class its ``grading.yaml`` asks for
   (``demo_class_size``; :mod:`autograder.sample_class`), a roster and due dates;
3. **grade** each problem set with the hardened engine (sandboxed, resumable);
4. **record** the results, roster and due dates in a gradebook (SQLite);
5. **report**: ``report.html`` and ``canvas.csv``, under the course's policy.

Everything lands in one folder. Every stage is idempotent, so running the demo again
regrades nobody and records nothing twice; it only rewrites the report and the export.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from autograder.atomic import atomic_write
from autograder.build import build_problem_set
from autograder.engine.base import installed_version
from autograder.engine.batch import grade_batch
from autograder.problem_sets import (
    ProblemSet,
    demo_class_size,
    find_problem_sets,
    grading_limits,
    repo_root,
)
from autograder.release_files import files
from autograder.sample_class import ClassSizes, write_sample_class
from gradebook import Gradebook, Policy
from gradebook.exports import write_export
from gradebook.report import build_report

__all__ = ["DEMO_CLASS", "DEMO_POLICY", "PipelineResult", "build_if_changed", "demo_class_sizes",
           "run_pipeline"]

#: The demo's class: each kind of submission once per problem set, or the short class its
#: ``grading.yaml`` asks for (``--class-size 30`` for the full class).
DEMO_CLASS = ClassSizes(default=None)

# The code a build runs: a change to any of it rebuilds every problem set.
_BUILD_CODE = ("build.py", "notebooks.py", "otter_assign.py", "leak_checks.py",
               "release_files.py", "problem_sets.py")
_BUILD_STAMP = "build-digest.json"

# The demo course's rules: 10 % per day late, at most 50 %, 15 minutes' grace; no drops with
# so few problem sets; equal weights; the usual letter cutoffs.
DEMO_POLICY = {
    "late": {"percent_per_day": 10, "max_percent": 50, "grace_hours": 0.25},
    "drop_lowest": 0,
    "letters": {"A": 90, "B": 80, "C": 70, "D": 60, "F": 0},
}


@dataclass
class PipelineResult:
    out: Path
    seconds: dict[str, float] = field(default_factory=dict)
    graded: dict[str, int] = field(default_factory=dict)
    failed: dict[str, dict[str, str]] = field(default_factory=dict)
    grading_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def report(self) -> Path:
        return self.out / "report.html"

    @property
    def canvas(self) -> Path:
        return self.out / "canvas.csv"

    @property
    def gradebook(self) -> Path:
        return self.out / "gradebook.db"


def _digest(paths: Iterable[Path], base: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(f"\0{path.relative_to(base).as_posix()}\0".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _build_digest(ps: ProblemSet) -> dict[str, str]:
    """What a build of ``ps`` is made from and what it made: the problem set's folder, the
    build's code and otter's version; the student release and the autograder folder."""
    code = Path(__file__).resolve().parent
    sources = _digest(files(ps.folder), ps.folder)
    sources += _digest([code / name for name in _BUILD_CODE], code)
    sources += installed_version("otter-grader")
    made = {"release": "", "autograder": ""}
    if ps.assignment_dir.is_dir() and ps.autograder_dir.is_dir():
        made = {"release": _digest(files(ps.assignment_dir), ps.assignment_dir),
                "autograder": _digest(files(ps.autograder_dir), ps.autograder_dir)}
    return {"sources": hashlib.sha256(sources.encode()).hexdigest(), **made}


def build_if_changed(ps: ProblemSet, run_solution: bool = True) -> bool:
    """Build ``ps`` unless its last build was made from the same sources and its outputs are
    untouched since; returns whether it built. The digests are kept in ``dist/<ps>/``.
    ``run_solution``: as for :func:`~autograder.build.build_problem_set`."""
    stamp = ps.dist_dir / _BUILD_STAMP
    current = _build_digest(ps)
    try:
        if ps.is_built and json.loads(stamp.read_text()) == current:
            return False
    except (OSError, ValueError):
        pass
    build_problem_set(ps, run_solution=run_solution)
    atomic_write(stamp, json.dumps(_build_digest(ps), indent=1))
    return True


def demo_class_sizes(sets: Sequence[ProblemSet], sizes: ClassSizes = DEMO_CLASS) -> ClassSizes:
    """``sizes``, with each problem set it gives no size for (and no size for all) taking the
    ``demo_class_size`` of its ``grading.yaml``: a short class where grading trains."""
    if sizes.default is not None:
        return sizes
    short = {ps.name: demo_class_size(ps) for ps in sets}
    return ClassSizes(default=None, per_set={**short, **sizes.per_set})


def _drop_departed(results: Path, submissions: Path) -> None:
    """Remove the results of students who are no longer in ``submissions`` (a class generated
    smaller than before), so the gradebook records only this class."""
    if not results.is_dir():
        return
    present = {p.stem if p.suffix == ".ipynb" else p.name for p in submissions.iterdir()}
    for folder in results.iterdir():
        if folder.is_dir() and folder.name not in present:
            shutil.rmtree(folder)


def _say(message: str) -> None:
    print(message, flush=True)


def run_pipeline(
    out: Path,
    problem_sets: Sequence[str] = (),
    root: Path | None = None,
    workers: int | None = None,
    readonly_paths: Sequence[Path] = (),
    seed: int = 0,
    say: Callable[[str], None] = _say,
    sizes: ClassSizes = DEMO_CLASS,
) -> PipelineResult:
    """Run every stage into ``out``; returns where things are and how long each stage took.

    ``sizes``: the sample class's size per problem set; where it gives none, each kind once,
    or the ``demo_class_size`` of the problem set's ``grading.yaml``."""
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    root = root or repo_root()
    sets = find_problem_sets(root, problem_sets)
    sizes = demo_class_sizes(sets, sizes)
    result = PipelineResult(out)
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        result.seconds[stage] = result.seconds.get(stage, 0.0) + now - clock
        clock = now

    # The build's own run of each solution against its tests is left out: the sample class's
    # correct student is that solution, graded in the sandbox at step 3.
    say(f"1/5 build: {', '.join(ps.name for ps in sets)} (each solution is checked by grading "
        "it with the class)")
    for ps in sets:
        if not build_if_changed(ps, run_solution=False):
            say(f"    {ps.name}: unchanged since its last build")
    lap("build")

    say("2/5 sample class")
    for name, samples in write_sample_class(sets, out, seed=seed, sizes=sizes).items():
        kinds: dict[str, int] = {}
        for sample in samples:
            kinds[sample.kind] = kinds.get(sample.kind, 0) + 1
        say(f"    {name}: {len(samples)} submissions "
            f"({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))})")
    lap("sample class")

    say("3/5 grade, sandboxed")
    for ps in sets:
        _drop_departed(out / ps.name / "results", out / ps.name / "submissions")
        started = time.perf_counter()
        report = grade_batch(
            ps.name,
            ps.autograder_zip,
            out / ps.name / "submissions",
            out / ps.name / "results",
            workers=workers,
            limits=grading_limits(ps),
            readonly_paths=tuple(readonly_paths),
            master=ps.master,
            say=lambda message: say(f"    {message}"),
        )
        result.graded[ps.name] = len(report.graded)
        result.failed[ps.name] = dict(report.failed)
        seconds = time.perf_counter() - started
        result.grading_seconds[ps.name] = seconds
        pace = f", {seconds / len(report.graded):.1f} s each" if report.graded else ""
        say(f"    {ps.name}: graded {len(report.graded)} in {seconds:.0f} s{pace}, unchanged "
            f"{len(report.skipped)}, grader failures {len(report.failed)}")
    lap("grade")

    say("4/5 record in the gradebook")
    with Gradebook(out / "gradebook.db") as gb:
        gb.import_roster(out / "roster.csv")
        gb.import_assignments(out / "assignments.csv")
        for ps in sets:
            (recorded,) = gb.ingest("nngrade", out / ps.name / "results", ps.name)
            state = "new run" if recorded.created else "already recorded as run"
            say(f"    {ps.name}: {recorded.results} results, {state} {recorded.run_id}")
        lap("record")

        say("5/5 report and Canvas export")
        atomic_write(out / "policy.yaml", yaml.safe_dump(DEMO_POLICY, sort_keys=False))
        policy = Policy.from_yaml(out / "policy.yaml")
        atomic_write(
            out / "report.html", build_report(gb, policy, title="Neural networks: sample class")
        )
        write_export(gb, "canvas", out / "canvas.csv", policy)
        lap("report")
    return result
