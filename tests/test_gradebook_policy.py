"""Course policies, checked against cases worked out by hand.

The course in ``course()`` has three students and two assignments, A (10 points, due
2026-10-05 23:59 UTC) and B (20 points, due a week later). Each test states the arithmetic.
"""

from datetime import UTC, datetime, timedelta

import pytest

from gradebook import Gradebook, LatePolicy, Policy
from gradebook.policy import days_late, kept_assignments, late_multiplier, letter_for
from gradebook.store import Result, Run, Submission

DUE_A = datetime(2026, 10, 5, 23, 59, tzinfo=UTC)
DUE_B = DUE_A + timedelta(weeks=1)


def at(due: datetime, **delta) -> str:
    return (due + timedelta(**delta)).isoformat()


# ------------------------------------------------------------------ the pure steps


def test_days_late_counts_started_days_after_grace():
    due = DUE_A
    assert days_late(due - timedelta(hours=1), due) == 0
    assert days_late(due, due) == 0
    assert days_late(due + timedelta(minutes=1), due) == 1  # a started day counts whole
    assert days_late(due + timedelta(hours=24), due) == 1
    assert days_late(due + timedelta(hours=24, seconds=1), due) == 2
    # 15 minutes' grace forgives 14 minutes, but not 16; after it, lateness counts from due.
    assert days_late(due + timedelta(minutes=14), due, grace_hours=0.25) == 0
    assert days_late(due + timedelta(minutes=16), due, grace_hours=0.25) == 1
    # A 2-day extension moves the due date.
    assert days_late(due + timedelta(days=2), due, extension_days=2) == 0
    assert days_late(due + timedelta(days=2, hours=1), due, extension_days=2) == 1
    assert days_late(None, due) == 0 and days_late(due, None) == 0


def test_late_multiplier_is_capped():
    late = LatePolicy(percent_per_day=10, max_percent=25)
    assert late_multiplier(0, late) == 1.0
    assert late_multiplier(1, late) == pytest.approx(0.9)
    assert late_multiplier(2, late) == pytest.approx(0.8)
    assert late_multiplier(3, late) == pytest.approx(0.75)  # 30 % capped at 25 %
    assert late_multiplier(30, late) == pytest.approx(0.75)


def test_dropping_keeps_at_least_one_and_breaks_ties_by_order():
    order = ["a", "b", "c"]
    assert kept_assignments({"a": 50, "b": 80, "c": 70}, 1, order) == ["b", "c"]
    assert kept_assignments({"a": 50, "b": 80, "c": 70}, 2, order) == ["b"]
    assert kept_assignments({"a": 50, "b": 80, "c": 70}, 5, order) == ["b"]
    # a and c tie at 60: the later one, c, goes first.
    assert kept_assignments({"a": 60, "b": 80, "c": 60}, 1, order) == ["a", "b"]


def test_letters_use_the_highest_cutoff_reached():
    letters = {"A": 90, "B": 80, "C": 70, "D": 60, "F": 0}
    assert letter_for(90, letters) == "A"
    assert letter_for(89.99, letters) == "B"
    assert letter_for(0.1 + 0.2 + 89.7, letters) == "A"  # 89.99999999999999 in floats
    assert letter_for(59.5, letters) == "F"


def test_policy_from_yaml_rejects_typos(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text("late: {percent_per_dya: 10}\n")
    with pytest.raises(ValueError, match="percent_per_dya"):
        Policy.from_yaml(path)
    path.write_text("late: {percent_per_day: 10, max_percent: 50, grace_hours: 1}\n"
                    "drop_lowest: 1\nweights: {A: 1, B: 3}\nletters: {P: 50, F: 0}\n")
    policy = Policy.from_yaml(path)
    assert policy.late == LatePolicy(10, 50, 1)
    assert policy.drop_lowest == 1 and policy.weights == {"A": 1, "B": 3}
    assert policy.letters == {"P": 50, "F": 0}


# ------------------------------------------------------------------ through the gradebook


@pytest.fixture
def course(tmp_path) -> Gradebook:
    """ann: A 8/10 on time, B 15/20 26 hours late.
    bob: A 10/10 five hours late, B 20/20 on time.
    cat: A 4/10 on time, no B."""
    gb = Gradebook(tmp_path / "gradebook.db")
    gb.add_students([{"id": s, "name": s.title()} for s in ("ann", "bob", "cat")])
    gb.set_assignment("A", due_at=DUE_A.isoformat())
    gb.set_assignment("B", due_at=DUE_B.isoformat())

    gb.record(Run("A", "nngrade", [
        Submission("ann", [Result("q1", "q1", 3, 4), Result("q2", "q2", 5, 6)],
                   submitted_at=at(DUE_A, hours=-3)),
        Submission("bob", [Result("q1", "q1", 4, 4), Result("q2", "q2", 6, 6)],
                   submitted_at=at(DUE_A, hours=5)),
        Submission("cat", [Result("q1", "q1", 4, 4), Result("q2", "q2", 0, 6)],
                   submitted_at=at(DUE_A, days=-1)),
    ], questions={"q1": 4, "q2": 6}))
    gb.record(Run("B", "nngrade", [
        Submission("ann", [Result("q1", "q1", 15, 20)], submitted_at=at(DUE_B, hours=26)),
        Submission("bob", [Result("q1", "q1", 20, 20)], submitted_at=at(DUE_B, hours=-1)),
    ], questions={"q1": 20}))
    return gb


def scores_of(gb, policy):
    frame = gb.assignment_scores(policy)
    return {(r.student, r.assignment): r for r in frame.itertuples()}


def test_no_policy_means_raw_points_and_equal_weights(course):
    totals = course.totals(Policy()).set_index("student")
    # ann: A 80 %, B 75 % -> 77.5; bob: 100, 100; cat: 40 %, missing B = 0 -> 20.
    assert totals.loc["ann", "total_percent"] == pytest.approx(77.5)
    assert totals.loc["bob", "total_percent"] == pytest.approx(100)
    assert totals.loc["cat", "total_percent"] == pytest.approx(20)
    assert list(totals["letter"]) == ["C", "A", "F"]


def test_late_penalty(course):
    policy = Policy(late=LatePolicy(percent_per_day=10, max_percent=50, grace_hours=0.25))
    s = scores_of(course, policy)
    # ann's B: 26 h late = 2 started days -> 20 % off 15 = 12.
    assert s[("ann", "B")].days_late == 2
    assert s[("ann", "B")].final_points == pytest.approx(12.0)
    # bob's A: 5 h late = 1 day -> 10 % off 10 = 9.
    assert s[("bob", "A")].final_points == pytest.approx(9.0)
    assert s[("cat", "B")].status == "missing" and s[("cat", "B")].final_points == 0
    totals = course.totals(policy).set_index("student")
    # ann: (80 + 60) / 2 = 70; bob: (90 + 100) / 2 = 95.
    assert totals.loc["ann", "total_percent"] == pytest.approx(70)
    assert totals.loc["bob", "total_percent"] == pytest.approx(95)


def test_extension_moves_the_due_date_for_one_student(course):
    course.extend("ann", "B", 1.5, author="prof", reason="medical")
    policy = Policy(late=LatePolicy(percent_per_day=10))
    s = scores_of(course, policy)
    assert s[("ann", "B")].days_late == 0  # 26 h < 36 h
    assert s[("bob", "A")].days_late == 1  # others unchanged
    course.extend("ann", "B", 0.5, author="prof", reason="corrected: half a day")
    assert scores_of(course, policy)[("ann", "B")].days_late == 1  # newest extension counts


def test_drop_lowest_with_weights(course):
    policy = Policy(drop_lowest=1, weights={"A": 1, "B": 3})
    totals = course.totals(policy).set_index("student")
    # ann: A 80, B 75: drops B -> 80.  cat: A 40, B 0: drops B -> 40.
    assert totals.loc["ann", "total_percent"] == pytest.approx(80)
    assert totals.loc["ann", "dropped"] == "B"
    assert totals.loc["cat", "total_percent"] == pytest.approx(40)
    no_drop = course.totals(Policy(weights={"A": 1, "B": 3})).set_index("student")
    # ann: (1·80 + 3·75) / 4 = 76.25
    assert no_drop.loc["ann", "total_percent"] == pytest.approx(76.25)


def test_weights_must_cover_every_assignment(course):
    with pytest.raises(ValueError, match="B"):
        course.totals(Policy(weights={"A": 1}))


def test_manual_question_score_then_late_penalty(course):
    # A TA regrades bob's A q2 to 3 of 6: A = 4 + 3 = 7, then 1 day late: 6.3.
    course.override("bob", "A", 3, author="ta", reason="regrade request", question="q2")
    policy = Policy(late=LatePolicy(percent_per_day=10))
    assert course.matrix("A").loc["bob", "q2"] == 3
    assert scores_of(course, policy)[("bob", "A")].final_points == pytest.approx(6.3)


def test_assignment_override_is_applied_last(course):
    policy = Policy(late=LatePolicy(percent_per_day=10), drop_lowest=0)
    course.override("ann", "B", 19, author="prof", reason="accepted late work in full")
    s = scores_of(course, policy)
    assert s[("ann", "B")].days_late == 2
    assert s[("ann", "B")].final_points == 19  # no late penalty on an override
    totals = course.totals(policy).set_index("student")
    assert totals.loc["ann", "total_percent"] == pytest.approx((80 + 95) / 2)
    # Withdrawing it restores the penalised score; both rows stay in the history.
    course.override("ann", "B", None, author="prof", reason="withdrawn")
    assert scores_of(course, policy)[("ann", "B")].final_points == pytest.approx(12)
    assert len(course.overrides()) == 0


def test_overrides_need_who_and_why_and_valid_targets(course):
    with pytest.raises(ValueError):
        course.override("ann", "A", 5, author="", reason="x")
    with pytest.raises(KeyError):
        course.override("nobody", "A", 5, author="p", reason="r")
    with pytest.raises(KeyError):
        course.override("ann", "A", 5, author="p", reason="r", question="q9")
    with pytest.raises(ValueError, match="outside"):
        course.override("ann", "A", 7, author="p", reason="r", question="q1")  # q1 is worth 4


def test_vectorised_totals_agree_with_the_step_by_step_definition(tmp_path):
    """Random class, random lateness, ties included: the DataFrame code equals the small
    functions of gradebook.policy applied one student at a time."""
    import numpy as np

    from gradebook.policy import weighted_percent

    rng = np.random.default_rng(7)
    gb = Gradebook(tmp_path / "gb.db")
    names = ["A", "B", "C", "D"]
    students = [f"s{i:03d}" for i in range(120)]
    gb.add_students([{"id": s} for s in students])
    for k, name in enumerate(names):
        due = DUE_A + timedelta(weeks=k)
        gb.set_assignment(name, due_at=due.isoformat())
        subs = [
            Submission(s, [Result("q1", "q1", float(rng.integers(0, 3)), 2.0),
                           Result("q2", "q2", float(rng.integers(0, 2)), 2.0)],
                       submitted_at=at(due, hours=float(rng.normal(0, 40))))
            for s in students if rng.random() > 0.1
        ]
        gb.record(Run(name, "nngrade", subs, questions={"q1": 2.0, "q2": 2.0}))
    for s in students[:10]:
        gb.extend(s, "B", float(rng.integers(0, 3)), author="p", reason="r")
    policy = Policy(late=LatePolicy(12.5, 40, 0.5), drop_lowest=1,
                    weights={"A": 1, "B": 2, "C": 2, "D": 3})
    scores = gb.assignment_scores(policy)
    totals = gb.totals(policy).set_index("student")
    submitted = gb.submissions().set_index(["student", "assignment"])
    extensions = gb.extensions().set_index(["student", "assignment"])["days"].to_dict()
    for row in scores.itertuples():
        key = (row.student, row.assignment)
        when = submitted["submitted_at"].get(key)
        due = DUE_A + timedelta(weeks=names.index(row.assignment))
        expected_days = days_late(
            None if when is None else datetime.fromisoformat(when), due,
            extensions.get(key, 0.0), policy.late.grace_hours)
        assert row.days_late == expected_days, key
        assert row.final_points == pytest.approx(
            row.points * late_multiplier(expected_days, policy.late))
    for _, row in totals.iterrows():
        percent = {a: row[a] for a in names}
        kept = kept_assignments(percent, policy.drop_lowest, names)
        assert row["dropped"] == ",".join(a for a in names if a not in kept)
        expected = weighted_percent(percent, policy.weights, kept)
        assert row["total_percent"] == pytest.approx(expected)
        assert row["letter"] == letter_for(expected, policy.letters)
