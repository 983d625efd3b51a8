"""Each optimizer takes exactly the steps Keras's optimizer of the same name takes."""

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
keras = pytest.importorskip("keras")

from reference_impl.optimizers import SGD, Adam, Momentum, RMSprop, get_optimizer  # noqa: E402

# Every hyperparameter is exact in float32 (powers of two and sums of a few): Keras keeps them
# as float32 values, so 0.1 or 0.9 would differ from ours by float32 rounding (about 1e-8)
# rather than by a wrong formula, and the test could not tell the two apart.
MU, RHO, B1, B2, EPS = 0.875, 0.875, 0.875, 1 - 2**-10, 2**-20
CASES = [
    (SGD(learning_rate=0.125), lambda: keras.optimizers.SGD(learning_rate=0.125)),
    (
        Momentum(learning_rate=0.0625, momentum=MU),
        lambda: keras.optimizers.SGD(learning_rate=0.0625, momentum=MU),
    ),
    (
        RMSprop(learning_rate=2**-7, rho=RHO, epsilon=EPS),
        lambda: keras.optimizers.RMSprop(learning_rate=2**-7, rho=RHO, epsilon=EPS),
    ),
    (
        Adam(learning_rate=2**-7, beta_1=B1, beta_2=B2, epsilon=EPS),
        lambda: keras.optimizers.Adam(learning_rate=2**-7, beta_1=B1, beta_2=B2, epsilon=EPS),
    ),
]


@pytest.mark.parametrize("ours, make_keras", CASES, ids=lambda c: getattr(c, "name", ""))
def test_steps_match_keras(ours, make_keras):
    rng = np.random.default_rng(0)
    start = [rng.normal(size=(4, 3)), rng.normal(size=(3,))]
    grads_per_step = [[rng.normal(size=p.shape) for p in start] for _ in range(6)]

    params = [p.copy() for p in start]
    ours.reset()
    keras_vars = [keras.Variable(p.copy(), dtype="float64") for p in start]
    theirs = make_keras()
    for grads in grads_per_step:
        ours.update(params, grads)
        theirs.apply_gradients(
            zip([keras.ops.convert_to_tensor(g) for g in grads], keras_vars, strict=True)
        )
        for p, v in zip(params, keras_vars, strict=True):
            np.testing.assert_allclose(p, keras.ops.convert_to_numpy(v), rtol=1e-12, atol=1e-14)


def test_float32_parameters_stay_float32():
    p = np.ones(5, dtype=np.float32)
    RMSprop().update([p], [np.full(5, 0.5, dtype=np.float32)])
    assert p.dtype == np.float32


def test_get_optimizer_by_name_and_errors():
    assert isinstance(get_optimizer("rmsprop"), RMSprop)
    assert get_optimizer("adam", learning_rate=0.5).learning_rate == 0.5
    with pytest.raises(ValueError, match="unknown optimizer"):
        get_optimizer("lbfgs")
    with pytest.raises(ValueError, match="positive"):
        SGD(learning_rate=0)

