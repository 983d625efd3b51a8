"""What ``nngrade train-mlp`` runs: the reference MLP trained on MNIST."""

from __future__ import annotations

from nnkit import load_mnist
from nnkit.preprocessing import flatten, scale
from reference_impl.mlp import MLP, mnist_mlp


def train_reference_mlp_on_mnist(
    epochs: int = 5, batch_size: int = 128, hidden: int = 512, seed: int = 0
) -> MLP:
    """784-hidden-10 with relu/softmax and rmsprop, the lectures' Keras settings, in NumPy."""
    (x_train, y_train), (x_test, y_test) = load_mnist()
    X_train, X_test = scale(flatten(x_train)), scale(flatten(x_test))
    model = mnist_mlp(hidden=hidden, batch_size=batch_size, epochs=epochs, seed=seed)
    print(
        f"reference MLP 784-{hidden}-10, {model.n_parameters:,} parameters, "
        f"rmsprop, batch {batch_size}, float32, {len(X_train):,} training images"
    )

    def report(m: MLP, entry: dict) -> None:
        entry["test_accuracy"] = m.score(X_test, y_test)
        print(
            f"epoch {entry['epoch']}: {entry['seconds']:.2f} s, "
            f"train loss {entry['loss']:.4f}, test accuracy {entry['test_accuracy']:.4f}"
        )

    model.fit(X_train, y_train, on_epoch_end=report)
    return model
