"""Problem set 4 (a network design lab): what it guarantees beyond the specification.

``test_problem_sets.py`` grades the solution, the blank release and every declared mistake
and alternative under every engine. The tests here pin what is particular to this problem
set, mostly without TensorFlow: the grader's circles and spirals come from the lecture's
generators but are not the notebook's points; unit budgets are read from the shapes of the
weights; a model's own ``predict`` earns nothing; a threshold that does not fit the encoding
earns no accuracy point; the accuracy bands and their messages. Fake models here are plain
objects whose ``get_config()`` and ``get_weights()`` return data, as a sandboxed model does.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograder.build import build_problem_set
from autograder.engine.test_files import load_questions
from autograder.problem_sets import find_problem_sets, grading_limits
from reference_impl.design import nonnegative_mse_floor

REPO = Path(__file__).resolve().parents[1]
PS = "ps4-network-design"
QUESTIONS = ["q1", "q2a", "q2b", "q3a", "q3b", "q4a", "q4b", "q4c", "q5a", "q5b", "q6", "q7"]
AUTOGRADED = 36.0


def _checks():
    path = REPO / "solutions" / PS / "ps4_network_design_checks.py"
    spec = importlib.util.spec_from_file_location("ps4_network_design_checks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


checks = _checks()


class FakeModel:
    """A model handed over as data only: a Sequential config of Dense layers and weights.
    ``predict`` answers perfectly (it is given the right answer) and records every call."""

    def __init__(self, widths: list[int], activations: list[str], weights: list[np.ndarray],
                 input_width: int = 2, answer: np.ndarray | None = None) -> None:
        self.widths, self.activations, self.weights = widths, activations, weights
        self.input_width, self.answer, self.calls = input_width, answer, []

    def get_config(self) -> dict:
        self.calls.append("get_config")
        layers = [{"class_name": "InputLayer", "config": {"batch_shape": [None, self.input_width]}}]
        layers += [{"class_name": "Dense", "config": {"units": units, "activation": act}}
                   for units, act in zip(self.widths, self.activations, strict=True)]
        return {"name": "sequential", "layers": layers}

    def get_weights(self) -> list[np.ndarray]:
        self.calls.append("get_weights")
        return [np.array(w, dtype=np.float32) for w in self.weights]

    def predict(self, x, verbose=0):
        self.calls.append("predict")
        return self.answer


def random_model(widths: list[int], activations: list[str], seed: int = 0, **kw) -> FakeModel:
    rng = np.random.default_rng(seed)
    sizes = [kw.get("input_width", 2), *widths]
    weights = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        weights += [rng.normal(size=(fan_in, fan_out)), rng.normal(size=fan_out)]
    return FakeModel(widths, activations, weights, **kw)


# ------------------------------------------------------------------ the release


def test_release_is_up_to_date():
    (ps,) = find_problem_sets(REPO, [PS])
    result = build_problem_set(ps, check=True)
    assert result.up_to_date, f"stale: {result.stale}; run: nngrade build {PS}"


def test_student_notebook_holds_no_solution_and_no_hidden_test():
    (ps,) = find_problem_sets(REPO, [PS])
    nb = nbformat.read(ps.student_notebook, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    for solution_line in ("spiral_threshold = 0.5", "Rescaling(scale)", "q7_answer = {",
                          "np.minimum(labels, 0.0)", 'activation="sigmoid"),\n    ]'):
        assert solution_line not in code
    tests = nb.metadata["otter"]["tests"]
    assert set(tests) == set(QUESTIONS)
    for source in tests.values():
        assert "hidden=True" not in source
        assert "reference_impl" not in source and "autograder" not in source


def test_the_limits_allow_what_the_notebook_promises():
    (ps,) = find_problem_sets(REPO, [PS])
    limits = grading_limits(ps)
    assert "**2 minutes**" in ps.master.read_text()
    assert limits.total_timeout >= 120 and limits.cell_timeout >= 60


def test_the_autograder_grades_36_points_and_q8_by_hand(built_problem_set):
    ps, build = built_problem_set(PS)
    questions = {q.name: q.points for q in load_questions(build.autograder_zip)}
    assert list(questions) == QUESTIONS
    assert sum(questions.values()) == AUTOGRADED
    assert "# name: q8\n# manual: true\n# points: 2" in ps.master.read_text()


# ------------------------------------------------------------------ the grader's data


def _julia_spiral(a: float, r: float, n: int) -> np.ndarray:
    """The lecture's ``generatedata_spiral``, line for line (one column per point)."""
    theta = np.linspace(0, 4 * np.pi, n)
    x = np.zeros((2, n))
    for i in range(n):
        x[0, i] = a * (theta[i] ** (1 / r)) * np.sin(theta[i])
        x[1, i] = a * (theta[i] ** (1 / r)) * np.cos(theta[i])
    return x


def test_the_notebooks_spirals_are_the_lectures():
    from nnkit.datasets import make_spirals

    x, arms = make_spirals()
    np.testing.assert_allclose(x[arms == 0], _julia_spiral(1, 1, 100).T, atol=1e-12)
    np.testing.assert_allclose(x[arms == 1], _julia_spiral(-1, 1, 100).T, atol=1e-12)


def test_the_notebooks_circles_are_the_lectures():
    x, labels = checks.course_circles()
    radius = np.hypot(x[:, 0], x[:, 1])
    outer, inner = radius[labels == 1], radius[labels == -1]
    assert len(outer) == len(inner) == 100
    assert abs(outer.mean() - 2) < 0.05 and abs(inner.mean() - 0.5) < 0.05  # r1, r2
    assert 0.06 < outer.std() < 0.14 and 0.06 < inner.std() < 0.14  # σ = 0.1
    phi = np.linspace(0, 2 * np.pi, 100)  # LinRange(0, 2π, N), both ends included
    for points, radii in ((x[labels == 1], outer), (x[labels == -1], inner)):
        directions = np.column_stack([np.cos(phi), np.sin(phi)])
        np.testing.assert_allclose(points / radii[:, None], directions, atol=1e-5)


def _shared_points(a: np.ndarray, b: np.ndarray) -> int:
    distances = np.linalg.norm(a[:, None, :] - b[None, :, :], axis=-1)
    return int(np.sum(distances.min(axis=1) < 1e-6))


def test_the_graders_data_are_not_the_notebooks():
    from nnkit.datasets import make_spirals

    course_x, _ = checks.course_circles()
    grader_x, classes = checks.grader_circles()
    assert grader_x.shape == (300, 2) and _shared_points(grader_x, course_x) == 0
    radius = np.hypot(grader_x[:, 0], grader_x[:, 1])
    assert abs(radius[classes == 0].mean() - 2) < 0.05
    assert abs(radius[classes == 1].mean() - 0.5) < 0.05
    spirals, arms = checks.grader_spirals()
    assert spirals.shape == (314, 2) and np.bincount(arms).tolist() == [157, 157]
    assert _shared_points(spirals, make_spirals()[0].astype(np.float32)) == 0
    # On the lecture's arms: each point is within the noise of its arm's curve.
    curve = {0: _julia_spiral(1, 1, 5000).T, 1: _julia_spiral(-1, 1, 5000).T}
    for arm in (0, 1):
        gaps = np.linalg.norm(spirals[arms == arm][:, None] - curve[arm][None], axis=-1)
        assert gaps.min(axis=1).max() < 0.3


# ------------------------------------------------------------------ the encoding floor


def test_the_nonnegative_floor_is_the_best_nonnegative_output():
    """Brute force: the best output in a fine grid of [0, 3] for each label, on its own."""
    grid = np.linspace(0, 3, 30001)
    rng = np.random.default_rng(5)
    for labels in (np.where(np.arange(200) < 100, 1.0, -1.0), rng.normal(size=17),
                   rng.uniform(-2, 2, size=9), np.array([0.0, 1.0, 2.5])):
        best = ((grid[None, :] - labels[:, None]) ** 2).min(axis=1).mean()
        assert nonnegative_mse_floor(labels) == pytest.approx(best, abs=1e-7)
    assert nonnegative_mse_floor([1.0, -1.0]) == 0.5


# ------------------------------------------------------------------ models judged as data


def test_the_unit_budget_is_read_from_the_weights():
    honest = random_model([15, 15, 1], ["relu", "relu", "linear"])
    checks.check_unit_budget(honest, "spiral_model", checks.SPIRAL_UNIT_LIMIT)
    wide = random_model([16, 15, 1], ["relu", "relu", "linear"])
    with pytest.raises(AssertionError, match="hidden layer of 16 units"):
        checks.check_unit_budget(wide, "spiral_model", checks.SPIRAL_UNIT_LIMIT)
    # A config that claims 8 units over weights of 64 is refused, not believed.
    liar = random_model([64, 1], ["relu", "linear"])
    liar.widths = [8, 1]
    with pytest.raises(AssertionError, match="shapes"):
        checks.check_unit_budget(liar, "spiral_model", checks.SPIRAL_UNIT_LIMIT)


def test_a_model_whose_predict_is_perfect_earns_nothing():
    _, arms = checks.grader_spirals()
    forger = random_model([15, 15, 1], ["relu", "relu", "linear"],
                          answer=arms.astype(np.float32)[:, None])
    with pytest.raises(AssertionError, match="this point needs 75%"):
        checks.check_spiral_accuracy(forger, "spiral_model", (0.0, 1.0), 0.5, 0.75)
    assert "predict" not in forger.calls


def test_a_threshold_outside_the_targets_earns_no_accuracy_point():
    model = random_model([15, 15, 1], ["relu", "relu", "linear"])
    for targets, threshold in (((0.0, 1.0), 0.0), ((0.0, 1.0), 1.0), ((1.0, -1.0), 2.0)):
        with pytest.raises(AssertionError, match="does not lie between your two targets"):
            checks.check_spiral_accuracy(model, "spiral_model", targets, threshold, 0.75)


def _radial_model() -> FakeModel:
    """A hand-made circle classifier. Four relu units measure |x1| and |x2| (|x| = relu(x) +
    relu(-x)); the output is 1 - (|x1| + |x2|) / 1.25, positive inside the diamond
    |x1| + |x2| < 1.25 (which holds the inner circle) and negative on the ring."""
    w1 = np.array([[1, -1, 0, 0], [0, 0, 1, -1]], dtype=float)
    w2 = np.full((4, 1), -1 / 1.25)
    return FakeModel([4, 1], ["relu", "linear"], [w1, np.zeros(4), w2, np.ones(1)])


def test_the_circle_loss_is_measured_on_the_graders_circles_with_the_students_targets():
    model = _radial_model()  # outputs > 0 inside, < 0 outside: roughly -1 and +1 reversed
    x, classes = checks.grader_circles()
    out = checks.outputs(model, "fixed_model", x)
    assert np.all((out > 0) == (classes == 1))
    with pytest.raises(AssertionError, match="on 300 new points of the two circles"):
        checks.check_circle_loss(model, "fixed_model", (1.0, -1.0), 0.1)
    labels = np.where(classes == 0, -1.0, 1.0)
    loss = float(np.mean((out - labels) ** 2))
    checks.check_circle_loss(model, "fixed_model", (-1.0, 1.0), loss + 1e-6)


def test_spiral_accuracy_reads_the_side_of_arm_1s_target():
    x, arms = checks.grader_spirals()
    # One relu unit on x1 alone: the side of the vertical axis, about half right.
    model = FakeModel([1, 1], ["relu", "linear"], [np.array([[1.0], [0.0]]), np.zeros(1),
                                                  np.ones((1, 1)), np.zeros(1)])
    high = checks.spiral_accuracy(model, "m", (0.0, 1.0), 0.5)
    low = checks.spiral_accuracy(model, "m", (1.0, 0.0), 0.5)
    assert high + low == pytest.approx(1.0)  # the same outputs, read for the other encoding


def test_a_functional_chain_is_read_like_its_sequential_twin():
    keras = pytest.importorskip("keras")
    inputs = keras.Input(shape=(2,))
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    functional = keras.Model(inputs, keras.layers.Dense(1)(hidden))
    checks.check_hidden_network(functional, "fixed_model")  # one hidden layer, one output
    branched = keras.Model(inputs, keras.layers.Add()([hidden, keras.layers.Dense(8)(inputs)]))
    with pytest.raises(AssertionError, match=r"one chain of layers"):
        checks.check_hidden_network(branched, "fixed_model")


# ------------------------------------------------------------------ graded variants


@pytest.fixture(scope="module")
def sandboxed(variant_gradings) -> dict:
    """The nngrade engine's grading of every declared variant (shared with
    ``test_problem_sets.py``): {student: results.json}."""
    return variant_gradings.get(PS, "nngrade").results


def _messages(result: dict, question: str) -> list[str]:
    return [t["output"] for t in result["tests"] if t["name"].startswith(f"{question}:")
            and t["output"]]


def test_the_solution_runs_in_the_sandbox_within_its_budget(sandboxed):
    result = sandboxed["solution"]
    assert result["extra_data"]["sandboxed"]
    assert result["score"] == AUTOGRADED
    assert result["extra_data"]["seconds"] < grading_limits(find_problem_sets(REPO, [PS])[0]
                                                            ).total_timeout


def test_accuracy_bands_say_the_students_accuracy_not_the_answer(sandboxed):
    messages = _messages(sandboxed["mistake-too-few-units-for-the-spirals"], "q5a")
    assert len(messages) == 3, messages
    for message, band in zip(messages, ("75%", "90%", "95%"), strict=True):
        assert message.startswith("spiral_model classifies ") and message.endswith(
            f"of the grader's spiral points right; this point needs {band}"), message


def test_the_relu_trap_loses_the_loss_points_with_the_loss_in_the_message(sandboxed):
    messages = _messages(sandboxed["mistake-relu-output-pm1-labels"], "q4c")
    assert len(messages) == 1 and "fixed_model has an MSE of " in messages[0], messages
    mse = float(messages[0].split("MSE of ")[1].split()[0])
    assert mse >= 0.5  # the floor of question 4b
