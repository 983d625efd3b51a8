"""``nngrade build``: from a problem set's folder in ``solutions/`` to the student release and
the autograder. This module orders the steps; each step lives in its own module.

One build of problem set ``<ps>``:

1. ``solutions/<ps>/<ps>.py`` (jupytext percent format) is read with stable cell ids
   (:mod:`autograder.notebooks`) and written, with the problem set's checks module beside it,
   to a fresh temporary folder.
2. otter assign runs on it (:mod:`autograder.otter_assign`). It splits the master into a
   student notebook (public tests only) and an autograder notebook and zip (all tests and the
   checks module), and runs the solution against every test; a master whose solution fails its
   own tests stops the build.
3. The student notebook's cells are made the student's (:mod:`autograder.student_cells`:
   otter's locks replaced by ours, placeholders that run), the notebook is made
   deterministic (:mod:`autograder.notebooks`), checked for leaks
   (:mod:`autograder.leak_checks`) and written, with any other file otter put beside it, to
   ``assignments/<ps>/``.
4. The autograder folder goes to ``dist/<ps>/autograder/`` with its zip under the stable name
   ``<ps>-autograder.zip``; the converted master goes to ``dist/<ps>/master/<ps>.ipynb``.
5. The problem set as an nbgrader course goes to ``dist/<ps>/nbgrader/``
   (:mod:`autograder.nbgrader_export`): ``source/<ps>/<ps>.ipynb``, the checks module and an
   ``nbgrader_config.py`` with the cell timeout of ``grading.yaml``.

Both output folders are assembled elsewhere and swapped in whole
(:mod:`autograder.release_files`), so an interrupted or failed build leaves the previous
release as it was. ``check=True`` does steps 1 to 3 in a temporary folder only and reports
how ``assignments/<ps>/`` differs from what a build would write.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder.errors import BuildError
from autograder.leak_checks import check_student_release
from autograder.notebooks import normalise_student_notebook, read_master
from autograder.otter_assign import prepare_assign_input, run_otter_assign
from autograder.problem_sets import ProblemSet
from autograder.release_files import compare_release, files_under, replace_dir
from autograder.student_cells import prepare_student_cells

__all__ = ["BuildError", "BuildResult", "build_problem_set", "stage_dist", "stage_student_release"]


@dataclass
class BuildResult:
    """What a build wrote, or, for a check, what it would write and what is out of date.

    ``stale`` holds one entry per file, its path relative to the repository root followed by
    ``(differs)``, ``(missing)`` or ``(extra)``; it is empty after a build and for an up-to-date
    check.
    """

    ps: ProblemSet
    student_files: list[Path]
    autograder_zip: Path | None
    stale: list[str] = field(default_factory=list)

    @property
    def up_to_date(self) -> bool:
        return not self.stale


def build_problem_set(
    ps: ProblemSet, check: bool = False, run_solution: bool = True
) -> BuildResult:
    """Build ``ps`` into ``assignments/<ps>/`` and ``dist/<ps>/``, or with ``check`` only compare.

    Raises :class:`BuildError` when the master cannot be read, otter assign fails (a malformed
    master, or, unless ``run_solution`` is false, a solution that fails its own tests), or the
    student notebook would contain a hidden test or solution code. Nothing is written in any
    of those cases. ``run_solution=False`` skips otter's run of the solution against its
    tests (for problem set 3 a full training); what is written is the same.
    """
    with tempfile.TemporaryDirectory(prefix=f"nngrade-build-{ps.name}-") as tmp_name:
        tmp = Path(tmp_name)
        master_nb = read_master(ps)
        master_ipynb = tmp / "master" / f"{ps.name}.ipynb"
        master_ipynb.parent.mkdir()
        nbformat.write(master_nb, master_ipynb)
        assign_input = prepare_assign_input(ps, master_nb, tmp / "assign")

        otter_out = tmp / "otter"
        # A check only compares the student release, which does not depend on the solution
        # passing its tests, so it skips the test run (a kernel start and a grading pass).
        run_otter_assign(ps, assign_input, otter_out, run_tests=run_solution and not check)

        student = tmp / "student"
        stage_student_release(ps, otter_out / "student", student)
        check_student_release(ps, master_nb, student, otter_out / "autograder")
        student_rel = files_under(student)

        if check:
            stale = compare_release(ps, student)
            return BuildResult(ps, [ps.assignment_dir / r for r in student_rel], None, stale)

        dist = tmp / "dist"
        stage_dist(ps, otter_out / "autograder", master_ipynb, dist)
        stage_nbgrader_source(ps, dist)

        replace_dir(dist, ps.dist_dir)
        replace_dir(student, ps.assignment_dir)
        return BuildResult(ps, [ps.assignment_dir / r for r in student_rel], ps.autograder_zip)


def stage_student_release(ps: ProblemSet, otter_student: Path, staged: Path) -> None:
    """Copy otter's student folder to ``staged``, with the notebook's cells prepared for the
    student and the notebook made deterministic."""
    shutil.copytree(otter_student, staged)
    notebook = staged / ps.student_notebook.name
    nb = prepare_student_cells(nbformat.read(notebook, as_version=4))
    nbformat.write(normalise_student_notebook(nb), notebook)


def stage_nbgrader_source(ps: ProblemSet, staged: Path) -> Path:
    """Export the staged ``dist/<ps>/`` as an nbgrader course in ``staged/nbgrader/``."""
    from autograder.nbgrader_export import export_assignment
    from autograder.problem_sets import grading_limits

    def inside(path: Path) -> Path:
        return staged / path.relative_to(ps.dist_dir)

    return export_assignment(
        ps.name, inside(ps.solution_notebook), inside(ps.master_notebook),
        inside(ps.autograder_zip), staged / "nbgrader", grading_limits(ps).cell_timeout)


def stage_dist(ps: ProblemSet, otter_autograder: Path, master_ipynb: Path, staged: Path) -> None:
    """Assemble ``dist/<ps>/`` in ``staged``: otter's autograder folder with the zip renamed to
    ``ps.autograder_zip``'s name, and the converted master as ``ps.master_notebook``."""
    autograder = staged / ps.autograder_dir.relative_to(ps.dist_dir)
    shutil.copytree(otter_autograder, autograder)
    zips = sorted(autograder.glob(f"{ps.name}-autograder_*.zip"))
    if len(zips) != 1:
        raise BuildError(
            f"{ps.name}: expected one autograder zip from otter, found {len(zips)}; "
            "is `generate` disabled in the ASSIGNMENT CONFIG?"
        )
    zips[0].rename(autograder / ps.autograder_zip.name)
    master = staged / ps.master_notebook.relative_to(ps.dist_dir)
    master.parent.mkdir(parents=True)
    shutil.copy2(master_ipynb, master)
