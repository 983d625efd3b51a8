"""The whole course workflow on a synthetic class: what ``make demo`` runs.

1. **build** every problem set (student release, autograder);
2. **sample class**: about 30 synthetic submissions per problem set
   (:mod:`autograder.sample_class`), a roster and due dates;
3. **grade** each problem set with the hardened engine (sandboxed, resumable);
4. **record** the results, roster and due dates in a gradebook (SQLite);
5. **report**: ``report.html`` and ``canvas.csv``, under the course's policy.

Everything lands in one folder. Every stage is idempotent, so running the demo again
regrades nobody and records nothing twice; it only rewrites the report and the export.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from autograder.atomic import atomic_write
from autograder.build import build_problem_set
from autograder.engine.batch import grade_batch
from autograder.problem_sets import find_problem_sets, grading_limits, repo_root
from autograder.sample_class import write_sample_class
from gradebook import Gradebook, Policy
from gradebook.exports import write_export
from gradebook.report import build_report

__all__ = ["DEMO_POLICY", "PipelineResult", "run_pipeline"]

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

    @property
    def report(self) -> Path:
        return self.out / "report.html"

    @property
    def canvas(self) -> Path:
        return self.out / "canvas.csv"

    @property
    def gradebook(self) -> Path:
        return self.out / "gradebook.db"


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
) -> PipelineResult:
    """Run every stage into ``out``; returns where things are and how long each stage took."""
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    root = root or repo_root()
    sets = find_problem_sets(root, problem_sets)
    result = PipelineResult(out)
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        result.seconds[stage] = result.seconds.get(stage, 0.0) + now - clock
        clock = now

    say(f"1/5 build: {', '.join(ps.name for ps in sets)}")
    for ps in sets:
        build_problem_set(ps)
    lap("build")

    say("2/5 sample class")
    for name, samples in write_sample_class(sets, out, seed=seed).items():
        kinds: dict[str, int] = {}
        for sample in samples:
            kinds[sample.kind] = kinds.get(sample.kind, 0) + 1
        say(f"    {name}: {len(samples)} submissions "
            f"({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))})")
    lap("sample class")

    say("3/5 grade, sandboxed")
    for ps in sets:
        report = grade_batch(
            ps.name,
            ps.autograder_zip,
            out / ps.name / "submissions",
            out / ps.name / "results",
            workers=workers,
            limits=grading_limits(ps),
            readonly_paths=tuple(readonly_paths),
            master=ps.master,
        )
        result.graded[ps.name] = len(report.graded)
        result.failed[ps.name] = dict(report.failed)
        say(f"    {ps.name}: graded {len(report.graded)}, unchanged {len(report.skipped)}, "
            f"grader failures {len(report.failed)}")
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
