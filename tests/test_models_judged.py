"""The trusted evaluator (autograder/engine/models.py) against Keras itself.

Its forward pass must agree with Keras's ``predict`` for every layer and activation it accepts,
it must refuse everything outside its allow-list, and it must never call the model's own code
beyond ``get_config()`` and ``get_weights()``.
"""

from __future__ import annotations

import numpy as np
import pytest

from autograder.engine.models import ACTIVATIONS, ModelRejected, judge, read_model

keras = pytest.importorskip("keras")


def _built(layers: list, width: int = 784) -> keras.Model:
    model = keras.Sequential([keras.Input(shape=(width,)), *layers])
    rng = np.random.default_rng(7)  # weights away from their initial values (BN included)
    model.set_weights([rng.normal(scale=0.05, size=w.shape).astype(np.float32) + (
        1.5 if "variance" in v.path else 0.0) for w, v in zip(model.get_weights(), model.weights,
                                                              strict=True)])
    return model


def _agrees(model: keras.Model, width: int = 784) -> None:
    x = np.random.default_rng(8).random((300, width), dtype=np.float32)
    expected = model.predict(x, verbose=0)
    got = judge(model, "model", (width,)).predict(x)
    np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_every_activation_agrees_with_keras(activation):
    _agrees(_built([keras.layers.Dense(32, activation=activation), keras.layers.Dense(10)]))


def test_every_layer_agrees_with_keras():
    L = keras.layers
    _agrees(_built([
        L.Rescaling(2.0, offset=-0.5),
        L.Reshape((28, 28)),
        L.Flatten(),
        L.Dense(64, use_bias=False),
        L.BatchNormalization(),
        L.ReLU(max_value=3.0, negative_slope=0.1, threshold=0.05),
        L.Dropout(0.5),
        L.GaussianNoise(0.3),
        L.Dense(32),
        L.LeakyReLU(negative_slope=0.05),
        L.BatchNormalization(center=False, scale=False, epsilon=0.01),
        L.GaussianDropout(0.2),
        L.Dense(10),
        L.Softmax(),
    ]))
    _agrees(_built([keras.layers.Dense(10), keras.layers.Activation("softmax")]))
    _agrees(_built([keras.layers.Dense(10, activation=keras.activations.softmax)]))


def test_the_lectures_network_reads_its_architecture_and_parameters():
    from reference_impl.keras_models import lecture_mlp
    from reference_impl.output_layers import dense_parameters

    model = lecture_mlp()
    judged = judge(model, "mlp")
    assert judged.dense_layers() == [(512, "relu"), (10, "softmax")]
    assert judged.parameters == dense_parameters((784, 512, 10)) == model.count_params()


def _config(model: keras.Model) -> dict:
    return model.get_config()


def test_a_lambda_layer_is_refused():
    model = _built([keras.layers.Dense(10), keras.layers.Lambda(lambda x: x * 2)])
    with pytest.raises(ModelRejected, match="Lambda"):
        judge(model, "model")


def test_a_custom_layer_and_a_custom_activation_are_refused():
    model = _built([keras.layers.Dense(10)])
    config = _config(model)
    config["layers"][1]["registered_name"] = "Custom>Dense"
    with pytest.raises(ModelRejected, match="custom"):
        read_model(config, model.get_weights(), "model")
    config = _config(model)
    config["layers"][1]["config"]["activation"] = {"module": "builtins", "config": "eval"}
    with pytest.raises(ModelRejected, match="built-in"):
        read_model(config, model.get_weights(), "model")
    config = _config(model)
    config["layers"][1]["module"] = "my_module"
    with pytest.raises(ModelRejected):
        read_model(config, model.get_weights(), "model")


def _functional(*layers, width: int = 784) -> keras.Model:
    """A functional model, one layer after the other, with weights away from their start."""
    x = inputs = keras.Input(shape=(width,))
    for layer in layers:
        x = layer(x)
    model = keras.Model(inputs, x)
    rng = np.random.default_rng(9)
    model.set_weights([rng.normal(scale=0.1, size=w.shape).astype(np.float32)
                       for w in model.get_weights()])
    return model


def test_a_functional_chain_of_layers_agrees_with_keras_and_its_sequential_twin():
    L = keras.layers
    functional = _functional(L.Rescaling(0.5), L.Dense(16, activation="tanh"), L.Dropout(0.3),
                             L.BatchNormalization(), L.Dense(3), L.Softmax(), width=5)
    _agrees(functional, width=5)
    sequential = keras.Sequential([keras.Input(shape=(5,)), L.Rescaling(0.5),
                                   L.Dense(16, activation="tanh"), L.Dropout(0.3),
                                   L.BatchNormalization(), L.Dense(3), L.Softmax()])
    sequential.set_weights(functional.get_weights())
    judged = judge(functional, "model", (5,))
    assert judged.dense_layers() == judge(sequential, "model", (5,)).dense_layers()
    assert judged.parameters == functional.count_params()


def test_a_functional_graph_that_is_not_one_chain_is_refused():
    L = keras.layers
    inputs = keras.Input(shape=(4,))
    branched = keras.Model(inputs, L.Add()([L.Dense(3)(inputs), L.Dense(3)(inputs)]))
    shared = L.Dense(4)
    twice = keras.Model(inputs, shared(shared(inputs)))
    first, second = keras.Input(shape=(4,)), keras.Input(shape=(4,))
    two_inputs = keras.Model([first, second], L.Concatenate()([first, second]))
    always_dropping = keras.Model(inputs, L.Dropout(0.5)(L.Dense(2)(inputs), training=True))
    for model in (branched, twice, two_inputs, always_dropping):
        with pytest.raises(ModelRejected, match="one chain of layers"):
            judge(model, "model", (4,))


def test_a_functional_config_whose_layers_are_listed_out_of_order_is_refused():
    model = _functional(keras.layers.Dense(3), keras.layers.Dense(2), width=4)
    config = model.get_config()
    config["layers"][1], config["layers"][2] = config["layers"][2], config["layers"][1]
    with pytest.raises(ModelRejected, match="does not take the output of the layer before"):
        read_model(config, model.get_weights(), "model", (4,))
    forged = model.get_config()
    forged["output_layers"] = [[forged["layers"][1]["name"], 0, 0]]  # the graph ends earlier
    with pytest.raises(ModelRejected, match="its output should be its last layer"):
        read_model(forged, model.get_weights(), "model", (4,))


def test_a_subclassed_model_is_refused():
    class Mine(keras.Model):
        def call(self, x):
            return x

    with pytest.raises((ModelRejected, NotImplementedError)):
        judge(Mine(), "model")


def test_weights_of_the_wrong_shape_or_number_are_refused():
    model = _built([keras.layers.Dense(10)])
    kernel, bias = model.get_weights()
    for weights in ([kernel], [kernel, bias, bias], [kernel.T, bias], [kernel, bias[:5]]):
        with pytest.raises(ModelRejected, match="shapes"):
            read_model(model.get_config(), weights, "model")
    with pytest.raises(ModelRejected, match="NaN"):
        read_model(model.get_config(), [kernel * np.nan, bias], "model")
    with pytest.raises(ModelRejected, match="arrays"):
        read_model(model.get_config(), [kernel.tolist(), bias], "model")


def test_the_wrong_input_shape_is_refused():
    with pytest.raises(ModelRejected, match="shape"):
        judge(_built([keras.layers.Dense(10)], width=28), "model")


def test_only_get_config_and_get_weights_are_called():
    """A model whose predict looks answers up is judged by its weights alone."""
    real = _built([keras.layers.Dense(10, activation="softmax")])
    calls = []

    class Lookup:
        def get_config(self):
            calls.append("get_config")
            return real.get_config()

        def get_weights(self):
            calls.append("get_weights")
            return real.get_weights()

        def predict(self, x, **kwargs):  # pragma: no cover - must never run
            raise AssertionError("the grader called the student's predict")

        def count_params(self):  # pragma: no cover - must never run
            raise AssertionError("the grader asked the student for its parameter count")

    x = np.random.default_rng(9).random((20, 784), dtype=np.float32)
    judged = judge(Lookup(), "model")
    np.testing.assert_allclose(judged.predict(x), real.predict(x, verbose=0), rtol=1e-4,
                               atol=1e-6)
    assert judged.parameters == 7850
    assert calls == ["get_config", "get_weights"]


def test_a_plain_object_or_no_answer_is_refused():
    for value in (None, ..., object(), {"layers": []}):
        with pytest.raises(ModelRejected):
            judge(value, "model")
