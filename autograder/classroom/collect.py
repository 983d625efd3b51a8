"""``nngrade collect``: from a folder of cloned student repositories to the commit each student
submitted, checked out for grading.

1. **Match.** Each repository in the folder (GitHub Classroom's ``<assignment>-<username>``,
   Classroom 50's ``<classroom>-<assignment>-<username>``, or a folder named after the
   username) is matched to a roster student by GitHub username: the folder's name, lower
   case, is the username or ends with ``-<username>``; the longest username that fits wins,
   so ``ps1-jim-bob`` is jim-bob's, not bob's. A repository that fits no roster student is
   reported as unmatched; two repositories for one student are reported and neither graded.
2. **Pick.** For each student, the last commit at or before the due date plus the student's
   extension: by default among the commits reachable from the clone's ``HEAD``, by their
   committer date. A committer date is written by the student's own machine and can be set
   to anything (``GIT_COMMITTER_DATE``), so where the platform records when a push arrived,
   give those times instead (:func:`read_push_times`): then only the commits named there are
   candidates, each at its recorded time.
3. **Check out** the picked commit in a scratch worktree of the clone (``git worktree add
   --detach``, hooks disabled), one ``<student>/`` folder each, which
   :func:`autograder.engine.batch.grade_batch` grades as folder submissions; each result
   records the commit (``submission_commit``) and its time (``submitted_at``).
   :func:`remove_checkouts` removes the worktrees again.

Nothing here runs code from a student's repository: git reads it, the sandbox runs it.
"""

from __future__ import annotations

import csv
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from autograder.errors import ConfigError

__all__ = [
    "COLLECTED",
    "NO_COMMIT",
    "Candidate",
    "Collection",
    "Pick",
    "check_out",
    "collect",
    "commit_candidates",
    "course_from_gradebook",
    "match_repositories",
    "parse_time",
    "read_push_times",
    "remove_checkouts",
    "roster_usernames",
    "write_manifest",
]

COLLECTED = "collected"
NO_COMMIT = "no commit before the deadline"
COMMITTER_DATE = "committer date"
PUSH_TIME = "push time"
_GIT_TIMEOUT = 120
#: git settings for every command on a student's clone: no hooks, no filesystem monitor.
_SAFE = ("-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false",
         "-c", "advice.detachedHead=false")  # fmt: skip


def _git(repo: Path, *args: str) -> str:
    """git's stdout in ``repo``; raises :class:`ConfigError` with git's message on failure."""
    try:
        done = subprocess.run(["git", *_SAFE, "-C", str(repo), *args], capture_output=True,
                              text=True, timeout=_GIT_TIMEOUT)  # fmt: skip
    except (OSError, subprocess.SubprocessError) as error:
        raise ConfigError(f"{repo}: git {' '.join(args)} failed ({error})") from None
    if done.returncode != 0:
        raise ConfigError(f"{repo}: git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def parse_time(text: str) -> datetime:
    """An ISO 8601 time; one without a UTC offset is taken as UTC."""
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"{text!r} is not an ISO 8601 time (e.g. 2026-10-05T23:59:00+02:00)"
        ) from None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Candidate:
    """A commit that may be the submission, and the time it counts at."""

    commit: str
    time: datetime


@dataclass(frozen=True)
class Pick:
    """One roster student's submission, or why there is none."""

    student: str
    username: str
    repository: Path
    due: datetime  # the due date plus the student's extension
    extension_days: float
    status: str
    commit: str = ""
    time: datetime | None = None
    time_source: str = COMMITTER_DATE


@dataclass
class Collection:
    """What :func:`collect` found: a pick per matched student, the repositories matching
    no roster student, and the students matched by more than one repository."""

    picks: list[Pick] = field(default_factory=list)
    unmatched: list[Path] = field(default_factory=list)
    ambiguous: dict[str, list[Path]] = field(default_factory=dict)

    @property
    def collected(self) -> list[Pick]:
        return [p for p in self.picks if p.status == COLLECTED]


def roster_usernames(students: Sequence[Mapping[str, str]]) -> dict[str, str]:
    """GitHub username → student id, for the roster's students that have a username (records
    as :func:`gradebook.ingest.read_roster` returns them)."""
    return {s["github"]: s["id"] for s in students if s.get("github")}


def course_from_gradebook(
    url: str, assignment: str
) -> tuple[dict[str, str], datetime | None, dict[str, float]]:
    """From a gradebook: the roster's GitHub usernames (username → student id), the
    assignment's due date (None if it has none) and the extensions granted for it (student id
    → days, the newest per student)."""
    from gradebook import Gradebook

    with Gradebook(url) as book:
        students = book.students()
        assignments = book.assignments()
        extensions = book.extensions()
    roster = students[students["in_roster"].astype(bool)]
    usernames = roster_usernames(
        [{"id": str(r.id), "github": str(r.github or "")} for r in roster.itertuples()]
    )
    row = assignments[assignments["name"] == assignment]
    due = None
    if not row.empty and isinstance(row.iloc[0]["due_at"], str) and row.iloc[0]["due_at"]:
        due = parse_time(row.iloc[0]["due_at"])  # a missing due date reads back as NaN
    granted = {
        str(r.student): float(r.days)
        for r in extensions[extensions["assignment"] == assignment].itertuples()
    }
    return usernames, due, granted


def _repositories(folder: Path) -> list[Path]:
    return sorted(
        entry for entry in Path(folder).iterdir()
        if not entry.name.startswith(".") and not entry.is_symlink() and entry.is_dir()
        and (entry / ".git").exists()
    )  # fmt: skip


def _username_of(name: str, usernames: Sequence[str]) -> str | None:
    name = name.lower()
    fits = [u for u in usernames if name == u or name.endswith(f"-{u}")]
    return max(fits, key=len, default=None)


def match_repositories(
    folder: Path, usernames: Mapping[str, str]
) -> tuple[dict[str, list[Path]], list[Path]]:
    """Repositories by student, and those matching nobody. ``usernames`` maps a GitHub
    username (any case) to the roster student's id."""
    lowered = {u.lower(): s for u, s in usernames.items() if u}
    by_student: dict[str, list[Path]] = {}
    unmatched = []
    for repo in _repositories(folder):
        username = _username_of(repo.name, list(lowered))
        if username is None:
            unmatched.append(repo)
        else:
            by_student.setdefault(lowered[username], []).append(repo)
    return by_student, unmatched


def commit_candidates(repo: Path) -> list[Candidate]:
    """Every commit reachable from the clone's HEAD, newest first, at its committer date."""
    out = _git(repo, "log", "--format=%H %cI", "HEAD")
    return [
        Candidate(commit, parse_time(when))
        for commit, when in (line.split(" ", 1) for line in out.splitlines() if line.strip())
    ]


def read_push_times(path: Path) -> dict[str, list[tuple[str, datetime]]]:
    """Recorded push times: a CSV with ``username``, ``commit`` (or ``submission_tag``: a tag
    of the student's repository, resolved to its commit) and ``pushed_at`` (ISO 8601).
    Returns ``{username (lower case): [(commit or tag, time), ...]}``."""
    try:
        with Path(path).open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise ConfigError(f"{path}: not a readable CSV ({error})") from None
    times: dict[str, list[tuple[str, datetime]]] = {}
    for number, row in enumerate(rows, start=2):
        username = (row.get("username") or "").strip().lower()
        ref = (row.get("commit") or row.get("submission_tag") or "").strip()
        when = (row.get("pushed_at") or "").strip()
        if not (username and ref and when):
            raise ConfigError(f"{path}, line {number}: needs username, commit (or "
                              "submission_tag) and pushed_at")
        times.setdefault(username, []).append((ref, parse_time(when)))
    return times


def _pushed_candidates(repo: Path, pushes: list[tuple[str, datetime]]) -> list[Candidate]:
    candidates = []
    for ref, when in pushes:
        try:
            commit = _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").strip()
        except ConfigError:
            continue  # recorded, but not in this clone: nothing to grade from it
        candidates.append(Candidate(commit, when))
    return sorted(candidates, key=lambda c: c.time, reverse=True)


def _latest_before(candidates: list[Candidate], due: datetime) -> Candidate | None:
    """The latest candidate at or before ``due``; among equal times the first listed."""
    best = None
    for candidate in candidates:
        if candidate.time <= due and (best is None or candidate.time > best.time):
            best = candidate
    return best


def collect(
    folder: Path,
    usernames: Mapping[str, str],
    due: datetime,
    extensions: Mapping[str, float] | None = None,
    push_times: Mapping[str, list[tuple[str, datetime]]] | None = None,
) -> Collection:
    """Match the repositories in ``folder`` to the roster and pick each student's commit.

    ``usernames``: GitHub username → student id; ``extensions``: student id → days;
    ``push_times``: as :func:`read_push_times` returns (None: committer dates)."""
    extensions = extensions or {}
    by_student, unmatched = match_repositories(folder, usernames)
    username_of = {s: u.lower() for u, s in usernames.items() if u}
    collection = Collection(unmatched=unmatched)
    for student in sorted(by_student):
        repos = by_student[student]
        if len(repos) > 1:
            collection.ambiguous[student] = repos
            continue
        (repo,) = repos
        username = username_of[student]
        days = float(extensions.get(student, 0.0))
        deadline = due + timedelta(days=days)
        if push_times is None:
            candidates, source = commit_candidates(repo), COMMITTER_DATE
        else:
            candidates = _pushed_candidates(repo, list(push_times.get(username, [])))
            source = PUSH_TIME
        chosen = _latest_before(candidates, deadline)
        if chosen is None:
            pick = Pick(student, username, repo, deadline, days, NO_COMMIT, time_source=source)
        else:
            pick = Pick(student, username, repo, deadline, days, COLLECTED, chosen.commit,
                        chosen.time, source)  # fmt: skip
        collection.picks.append(pick)
    return collection


def check_out(picks: Sequence[Pick], scratch: Path) -> dict[str, Path]:
    """Check each collected pick's commit out in ``scratch/<student>/`` (a detached worktree
    of the student's clone); returns the folders by student."""
    scratch.mkdir(parents=True, exist_ok=True)
    folders = {}
    for pick in picks:
        if pick.status != COLLECTED:
            continue
        target = scratch / pick.student
        _git(pick.repository, "worktree", "add", "--detach", "--force", str(target.resolve()),
             pick.commit)  # fmt: skip
        folders[pick.student] = target
    return folders


def remove_checkouts(picks: Sequence[Pick], folders: Mapping[str, Path]) -> None:
    """Remove the worktrees :func:`check_out` made and forget them in each clone."""
    by_student = {p.student: p for p in picks}
    for student, folder in folders.items():
        repo = by_student[student].repository
        try:
            _git(repo, "worktree", "remove", "--force", str(folder.resolve()))
        except ConfigError:
            pass  # already gone; prune below forgets it
        _git(repo, "worktree", "prune")


MANIFEST_COLUMNS = ["student", "username", "repository", "status", "commit", "time",
                    "time_source", "due", "extension_days"]  # fmt: skip


def write_manifest(collection: Collection, path: Path) -> Path:
    """``collected.csv``: one row per matched student (the commit graded, its time and where
    the time comes from, the deadline that applied), then the unmatched and ambiguous
    repositories."""
    import io

    from autograder.atomic import atomic_write

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(MANIFEST_COLUMNS)
    for p in collection.picks:
        writer.writerow([
            p.student, p.username, p.repository.name, p.status, p.commit,
            p.time.isoformat() if p.time else "", p.time_source, p.due.isoformat(),
            f"{p.extension_days:g}",
        ])  # fmt: skip
    for student, repos in sorted(collection.ambiguous.items()):
        for repo in repos:
            writer.writerow([student, "", repo.name, "ambiguous: more than one repository",
                             "", "", "", "", ""])  # fmt: skip
    for repo in collection.unmatched:
        writer.writerow(["", "", repo.name, "unmatched: no roster student", "", "", "", "",
                         ""])  # fmt: skip
    atomic_write(path, buffer.getvalue())
    return path
