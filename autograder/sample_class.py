"""A synthetic class: realistic submissions for a problem set, derived from its solution.

``nngrade sample-class`` writes, for each problem set, notebooks of the kinds a real class
hands in (30 by default; ``--class-size``), plus a roster and the due dates, so that grading,
the gradebook and its report can be tried (and tested) end to end without real students.
The smallest class has each kind once (each declared mistake and alternative); ``nngrade
demo`` grades that one by default, or the short class a problem set's ``grading.yaml`` asks
for with ``demo_class_size`` where each grading trains networks (problem sets 2 to 4). The
roster, the due dates and the course files are :mod:`autograder.sample_roster`'s:

| kind | how it is made | expected points |
|---|---|---|
| correct | the solution notebook | all |
| alternative | an entry of ``alternatives.yaml``: correct, written differently | all |
| mistake | one or two entries of ``mistakes.yaml`` | all minus their ``loses`` |
| partial | the solution with every question after the k-th left as ``...`` | not fixed |
| blank | the student release as handed out | 0 |
| late | one of the above, submitted after the due date | as its kind, before penalty |
| malformed | a truncated file, or a folder with no notebook | 0 |
| hostile | the blank release plus code that attacks the grader | 0 |

Everything is deterministic for a seed: the same notebooks, names and file times, so a second
run changes nothing and regrading skips every student. ``manifest.csv`` records each
student's kind, what was done to the notebook, and the points expected where they are fixed.
"""

from __future__ import annotations

import csv
import io
import os
import random
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import nbformat

from autograder.atomic import atomic_write
from autograder.engine.test_files import load_questions
from autograder.errors import ConfigError
from autograder.mistakes import Mistake, apply_mistake, load_alternatives, load_mistakes
from autograder.problem_sets import ProblemSet
from autograder.sample_roster import (
    ABSENT,
    FULL_CLASS,
    SampleStudent,
    due_date,
    roster,
    write_course_files,
)

__all__ = [
    "ClassSizes",
    "class_size",
    "make_sample_class",
    "write_sample_class",
    "blank_questions_after",
]

HOSTILE_CELL = '''
# Tries to win points without answering: rewrite the comparison tools the tests might use,
# forge a results file, and look for the answer key outside the work folder.
import builtins, glob, json, numpy as np, numpy.testing
np.isclose = lambda a, b, *args, **kwargs: np.ones(np.shape(a), dtype=bool)
np.allclose = lambda *args, **kwargs: True
numpy.testing.assert_allclose = lambda *args, **kwargs: None
builtins.isinstance = lambda *args: True
with open("results.json", "w") as forged:
    json.dump({"score": 1000, "tests": []}, forged)
stolen = glob.glob("/**/reference_impl/*.py", recursive=True)
'''


@dataclass
class Sample:
    student: SampleStudent
    kind: str
    detail: str
    expected_points: float | None
    late_hours: float = 0.0


@dataclass(frozen=True)
class ClassSizes:
    """The sample class's size per problem set: ``per_set[name]``, else ``default``.

    A size is a number of submissions; None or 0 gives the smallest class that has every kind
    of submission once, and a number below that a short class of the most telling kinds
    (:func:`class_size`).
    """

    default: int | None = FULL_CLASS
    per_set: Mapping[str, int | None] = field(default_factory=dict)

    def of(self, ps_name: str) -> int | None:
        return self.per_set.get(ps_name, self.default)

    @classmethod
    def parse(cls, values: Sequence[str], default: int | None = FULL_CLASS) -> ClassSizes:
        """From the command line's ``--class-size`` values: ``N`` for every problem set,
        ``PS=N`` for one."""
        per_set: dict[str, int | None] = {}
        for value in values:
            name, _, number = value.rpartition("=")
            try:
                size = int(number)
            except ValueError:
                raise ConfigError(
                    f"--class-size {value!r}: give a number of submissions, N or PS=N"
                ) from None
            if size < 0:
                raise ConfigError(f"--class-size {value!r}: a class size cannot be negative")
            if name:
                per_set[name] = size
            else:
                default = size
        return cls(default, per_set)


# ------------------------------------------------------------------ notebook edits

_BLOCK = re.compile(r"^([ \t]*)# BEGIN SOLUTION[^\n]*\n.*?^[ \t]*# END SOLUTION[^\n]*$",
                    re.DOTALL | re.MULTILINE)
_LINE = re.compile(r"^([ \t]*)(.*?)[ \t]*# SOLUTION[ \t]*$", re.MULTILINE)
_CHECK = re.compile(r"""grader\.check\(\s*["']([^"']+)["']\s*\)""")


def _blank_source(source: str) -> str:
    """What otter assign leaves of a solution cell: blocks become ``...``, and a line marked
    ``# SOLUTION`` keeps only its assignment target (``x = ...``)."""
    source = _BLOCK.sub(lambda m: f"{m.group(1)}...", source)

    def line(match: re.Match) -> str:
        indent, code = match.group(1), match.group(2)
        target = re.match(r"^([\w\s,\[\]\.\"']+?)\s*=(?!=)", code)
        return f"{indent}{target.group(1)} = ..." if target else f"{indent}..."

    return _LINE.sub(line, source)


def blank_questions_after(notebook: nbformat.NotebookNode, answered: int) -> nbformat.NotebookNode:
    """A copy of the solution with the solution code of every question after the first
    ``answered`` ones replaced as in the release: a student who stopped part-way."""
    nb = nbformat.reads(nbformat.writes(notebook), as_version=4)
    seen = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if _CHECK.search(cell.source):
            seen += 1
            continue
        if seen >= answered:
            cell.source = _blank_source(cell.source)
    return nb


def _stable_ids(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Number the cells: otter gives the solution notebook new random cell ids on every
    build, which would make an unchanged student look changed and be regraded."""
    for index, cell in enumerate(notebook.cells):
        cell.id = f"cell-{index:03d}"
    return notebook


def _hostile(release: nbformat.NotebookNode) -> nbformat.NotebookNode:
    nb = nbformat.reads(nbformat.writes(release), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(HOSTILE_CELL.strip()))
    return _stable_ids(nb)


# ------------------------------------------------------------------ the class


def _plan(mistakes: list[Mistake], alternatives: list[Mistake], size: int | None,
          total: float) -> list[tuple[str, str, float | None]]:
    """The class's submissions as (kind, detail, expected points), unshuffled.

    Every kind is there once: a correct student, each alternative, each mistake, a partial
    and a blank one, both malformed ones and a hostile one. That is the smallest class, and
    the class when ``size`` is None or 0. A larger ``size`` adds, in this order, three more
    correct students, a second blank one, two students with two mistakes each, then partial
    ones. A smaller ``size`` (a *short* class, for a problem set whose grading trains
    networks) keeps the first ``size`` of: the correct, blank and hostile students, each
    mistake, the partial one, the malformed ones, each alternative.
    """
    correct = ("correct", "the solution", total)
    blank = ("blank", "the release, untouched", 0.0)
    hostile = ("hostile", "tampering with the grader", 0.0)
    malformed = [("malformed", "truncated file", 0.0), ("malformed", "no notebook", 0.0)]
    with_alternatives = [("alternative", a.name, total) for a in alternatives]
    with_mistakes = [("mistake", m.name, total - m.points_lost) for m in mistakes]
    partial: tuple[str, str, float | None] = ("partial", "", None)
    plan = [correct, *with_alternatives, *with_mistakes, partial, blank, *malformed, hostile]
    if not size:
        return plan
    if size < len(plan):
        return [correct, blank, hostile, *with_mistakes, partial, *malformed,
                *with_alternatives][:size]
    extra: list[tuple[str, str, float | None]] = [correct] * 3
    extra.append(blank)
    pairs = [(a, b) for i, a in enumerate(mistakes) for b in mistakes[i + 1:]
             if not set(a.loses) & set(b.loses)]
    for a, b in pairs[:2]:
        extra.append(("mistake", f"{a.name}+{b.name}", total - a.points_lost - b.points_lost))
    while len(plan) + len(extra) < size:
        extra.append(partial)
    return plan + extra[: size - len(plan)]


def class_size(ps: ProblemSet, size: int | None) -> int:
    """How many submissions the sample class of ``ps`` has for a requested ``size``: ``size``,
    or the smallest class with every kind (see :func:`_plan`) when ``size`` is None or 0."""
    return len(_plan(load_mistakes(ps), load_alternatives(ps), size, 0.0))


def _samples(plan: list[tuple[str, str, float | None]], students: list[SampleStudent],
             rng: random.Random) -> list[Sample]:
    plan = plan[:]
    rng.shuffle(plan)
    samples = [Sample(s, kind, detail, points) for s, (kind, detail, points)
               in zip(students, plan, strict=True)]
    # Three late submissions among the gradable ones: a few hours, a day and a half, four days.
    gradable = [s for s in samples if s.kind in ("correct", "mistake", "partial", "alternative")]
    for sample, hours in zip(rng.sample(gradable, min(3, len(gradable))), (5, 36, 100),
                             strict=False):
        sample.late_hours = hours
    return samples


def _render(sample: Sample, mistakes: dict[str, Mistake], alternatives: dict[str, Mistake],
            solution, release, rng: random.Random):
    """The notebook (or bytes, or None for 'no notebook') this sample student submits."""
    if sample.kind == "correct":
        return solution
    if sample.kind == "alternative":
        return apply_mistake(solution, alternatives[sample.detail])
    if sample.kind == "mistake":
        nb = solution
        for name in sample.detail.split("+"):
            nb = apply_mistake(nb, mistakes[name])
        return nb
    if sample.kind == "partial":
        questions = sum(1 for c in solution.cells if c.cell_type == "code"
                        and _CHECK.search(c.source))
        answered = rng.randint(1, max(1, questions - 1))
        nb = blank_questions_after(solution, answered)
        detail = f"answered the first {answered} of {questions} questions"
        if mistakes and rng.random() < 0.5:
            mistake = rng.choice(sorted(mistakes.values(), key=lambda m: m.name))
            try:
                nb = apply_mistake(nb, mistake)
                detail += f", with {mistake.name}"
            except ValueError:  # the mistake's code was among the questions left blank
                pass
        sample.detail = detail
        return nb
    if sample.kind == "blank":
        return release
    if sample.kind == "hostile":
        return _hostile(release)
    if sample.detail == "truncated file":
        text = nbformat.writes(solution)
        return text[: len(text) // 3].encode("utf-8")
    return None  # a folder holding no notebook


def make_sample_class(
    ps: ProblemSet,
    index: int,
    out: Path,
    solution_notebook: Path,
    students: list[SampleStudent],
    total_points: float,
    seed: int = 0,
    size: int | None = FULL_CLASS,
) -> list[Sample]:
    """Write ``out/submissions/`` and ``out/manifest.csv`` for problem set ``ps``.

    ``index`` is the problem set's place in the course (its due date); ``students`` the class
    roster, of whom those beyond the class's size (different ones for each problem set) hand
    nothing in; ``size`` as for :func:`class_size`.
    """
    rng = random.Random(f"{seed}-{ps.name}")
    mistakes, alternatives = load_mistakes(ps), load_alternatives(ps)
    plan = _plan(mistakes, alternatives, size, total_points)
    if len(plan) > len(students):
        raise ConfigError(
            f"{ps.name}: a class of {len(plan)} submissions needs as many students on the "
            f"roster; it has {len(students)}"
        )
    chosen = set(rng.sample([s.id for s in students], len(plan)))
    present = [s for s in students if s.id in chosen]
    solution = _stable_ids(nbformat.read(solution_notebook, as_version=4))
    release = _stable_ids(nbformat.read(ps.student_notebook, as_version=4))
    samples = _samples(plan, present, rng)
    folder = out / "submissions"
    folder.mkdir(parents=True, exist_ok=True)
    due = due_date(index)
    written: set[str] = set()
    for sample in samples:
        content = _render(sample, {m.name: m for m in mistakes},
                          {a.name: a for a in alternatives}, solution, release, rng)
        hours_early = rng.uniform(1, 72)
        when = due + timedelta(hours=sample.late_hours or -hours_early)
        if content is None:
            (folder / sample.student.id).mkdir(exist_ok=True)
            (folder / sample.student.id / "README.md").write_text("Forgot to add the notebook.\n")
            written.add(sample.student.id)
            continue
        path = folder / f"{sample.student.id}.ipynb"
        written.add(path.name)
        data = content if isinstance(content, bytes) else nbformat.writes(content).encode()
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
        os.utime(path, (when.timestamp(), when.timestamp()))
    for stale in folder.iterdir():  # what an earlier class of another size left behind
        if stale.name not in written:
            if stale.is_dir():
                shutil.rmtree(stale)
            else:
                stale.unlink()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "kind", "detail", "late_hours", "expected_points"])
    for sample in sorted(samples, key=lambda s: s.student.id):
        expected = "" if sample.expected_points is None else f"{sample.expected_points:g}"
        writer.writerow([sample.student.id, sample.kind, sample.detail,
                         f"{sample.late_hours:g}", expected])
    atomic_write(out / "manifest.csv", buffer.getvalue())
    return samples


def write_sample_class(
    sets: Sequence[ProblemSet], out: Path, seed: int = 0, sizes: ClassSizes | None = None
) -> dict[str, list[Sample]]:
    """The whole synthetic course in ``out``: ``roster.csv``, ``assignments.csv`` and, for each
    built problem set in course order, ``<ps>/submissions/`` and ``<ps>/manifest.csv``.

    ``sizes`` gives each problem set's class size (default: the full class, 30). The roster
    holds two more students than the largest class, so every problem set misses a few.
    """
    sizes = sizes or ClassSizes()
    unknown = sorted(set(sizes.per_set) - {ps.name for ps in sets})
    if unknown:
        raise ConfigError(f"--class-size for {', '.join(unknown)}: not among the problem sets "
                          f"({', '.join(ps.name for ps in sets)})")
    counts = {ps.name: class_size(ps, sizes.of(ps.name)) for ps in sets}
    students = roster(max(counts.values(), default=0) + ABSENT, seed=seed)
    write_course_files(out, students, [ps.name for ps in sets])
    classes = {}
    for index, ps in enumerate(sets):
        total = sum(q.points for q in load_questions(ps.autograder_zip))
        classes[ps.name] = make_sample_class(
            ps, index, out / ps.name, ps.solution_notebook, students, total, seed=seed,
            size=sizes.of(ps.name),
        )
    return classes
