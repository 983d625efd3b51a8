"""The activation/loss table and the Dense parameter count of ``reference_impl.output_layers``,
checked against Keras itself: each pair builds, trains a step on targets of its task with a
finite loss, and every output the activation can give lies in the target's range."""

import numpy as np
import pytest

from reference_impl.output_layers import ACTIVATIONS, LOSSES, OUTPUT_AND_LOSS, dense_parameters

keras = pytest.importorskip("keras")


def test_table_uses_only_known_names():
    for activations, losses in OUTPUT_AND_LOSS.values():
        assert activations <= set(ACTIVATIONS) and losses <= set(LOSSES)


@pytest.mark.parametrize(
    "sizes,expected", [((784, 10), 7850), ((784, 512, 10), 407050), ((2, 3, 1), 13)]
)
def test_dense_parameters_by_hand_and_by_keras(sizes, expected):
    model = keras.Sequential(
        [keras.Input(shape=(sizes[0],))] + [keras.layers.Dense(n) for n in sizes[1:]]
    )
    assert dense_parameters(sizes) == expected == model.count_params()


TARGETS = {  # targets a task produces, for 8 samples and 4 outputs
    "binary": lambda rng: rng.integers(0, 2, size=(8, 1)).astype("float32"),
    "multiclass": lambda rng: np.eye(4, dtype="float32")[rng.integers(0, 4, size=8)],
    "multilabel": lambda rng: rng.integers(0, 2, size=(8, 4)).astype("float32"),
    "regression": lambda rng: (50 * rng.normal(size=(8, 1))).astype("float32"),
    "regression_01": lambda rng: rng.uniform(size=(8, 1)).astype("float32"),
}


@pytest.mark.parametrize("task", sorted(OUTPUT_AND_LOSS))
def test_every_accepted_pair_trains_in_keras_on_its_targets(task):
    rng = np.random.default_rng(7)
    y = TARGETS[task](rng)
    x = rng.normal(size=(8, 3)).astype("float32")
    activations, losses = OUTPUT_AND_LOSS[task]
    for activation in activations:
        for loss in losses:
            keras.utils.set_random_seed(0)
            model = keras.Sequential(
                [
                    keras.Input(shape=(3,)),
                    keras.layers.Dense(
                        y.shape[1], activation=None if activation == "none" else activation
                    ),
                ]
            )
            model.compile(optimizer="sgd", loss=loss)
            history = model.fit(x, y, epochs=1, verbose=0)
            assert np.isfinite(history.history["loss"][0])
            p = model.predict(x, verbose=0)
            if activation != "none":  # sigmoid and softmax: a probability per output
                assert np.all((p > 0) & (p < 1))
            if activation == "softmax":
                assert np.allclose(p.sum(axis=1), 1, atol=1e-5)
            if task in ("regression",):  # a linear output can reach any target
                assert activation == "none"
            if y.min() < 0 or y.max() > 1:  # targets outside [0, 1] need a linear output
                assert activation == "none"
