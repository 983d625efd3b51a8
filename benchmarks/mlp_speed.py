"""Reference MLP vs Keras on MNIST, measured side by side in one run.

Both train 784-512-10 (relu/softmax), rmsprop (lr 0.001), batch 128, categorical cross-entropy,
on the same float32 arrays, for the same number of epochs. Printed:

* seconds per epoch for each (median over epochs, the first Keras epoch includes tracing),
  and the ratio reference / Keras;
* the GEMM bound: this machine's sgemm GFLOP/s on the shapes one training step uses, the FLOPs
  of one epoch's matrix products, and the time those would take at that rate;
* test accuracy after the last epoch for each.

Targets (see the README): reference ≤ 1.0× Keras per epoch, ≤ 1.5× the GEMM bound, ≥ 97.8 %
test accuracy after 5 epochs.

Run: ``.venv/bin/python benchmarks/mlp_speed.py [--epochs 5]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from nnkit import load_mnist
from nnkit.preprocessing import flatten, one_hot, scale
from reference_impl.mlp import mnist_mlp

SIZES = (784, 512, 10)
BATCH = 128


def epoch_flops(n: int, sizes: tuple[int, ...]) -> float:
    """FLOPs of the matrix products in one epoch of n samples.

    Per layer l with a (d_{l-1} × d_l) weight matrix: forward Z = A W and the weight gradient
    Aᵀδ cost 2·n·d_{l-1}·d_l each; the backward product δ Wᵀ costs the same for every layer
    but the first (the gradient with respect to the input is never needed).
    """
    pairs = list(zip(sizes[:-1], sizes[1:], strict=True))
    per_sample = sum(2 * 2 * a * b for a, b in pairs) + sum(2 * a * b for a, b in pairs[1:])
    return float(n * per_sample)


def sgemm_gflops(batch: int, sizes: tuple[int, ...], repeats: int = 200) -> float:
    """Measured float32 GFLOP/s over the exact products of one training step."""
    rng = np.random.default_rng(0)
    products = []
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        products.append((rng.random((batch, a), np.float32), rng.random((a, b), np.float32)))
        products.append((rng.random((a, batch), np.float32), rng.random((batch, b), np.float32)))
    flops = sum(2 * x.shape[0] * x.shape[1] * y.shape[1] for x, y in products)
    for x, y in products:
        x @ y
    start = time.perf_counter()
    for _ in range(repeats):
        for x, y in products:
            x @ y
    return flops * repeats / (time.perf_counter() - start) / 1e9


def run_reference(X, y, X_test, y_test, epochs: int) -> tuple[list[float], float]:
    model = mnist_mlp(batch_size=BATCH, epochs=epochs, seed=0)
    model.fit(X, y)
    return [e["seconds"] for e in model.history_], model.score(X_test, y_test)


def run_keras(X, Y, X_test, y_test, epochs: int) -> tuple[list[float], float]:
    import keras

    from reference_impl.keras_models import lecture_mlp, set_seed

    set_seed(0)
    model = lecture_mlp()
    times: list[float] = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.start)

    model.fit(X, Y, epochs=epochs, batch_size=BATCH, verbose=0, callbacks=[Timer()])
    pred = np.argmax(model.predict(X_test, batch_size=1024, verbose=0), axis=1)
    return times, float(np.mean(pred == y_test))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()

    (x_train, y_train), (x_test, y_test) = load_mnist()
    X, X_test = scale(flatten(x_train)), scale(flatten(x_test))
    Y = one_hot(y_train, 10)

    gflops = sgemm_gflops(BATCH, SIZES)
    flops = epoch_flops(len(X), SIZES)
    bound = flops / (gflops * 1e9)

    ref_times, ref_acc = run_reference(X, y_train, X_test, y_test, args.epochs)
    keras_times, keras_acc = run_keras(X, Y, X_test, y_test, args.epochs)
    ref_epoch, keras_epoch = statistics.median(ref_times), statistics.median(keras_times)

    print(
        f"MNIST {len(X):,} images, 784-512-10 relu/softmax, rmsprop, batch {BATCH}, "
        f"{args.epochs} epochs, {os.cpu_count()} cores"
    )
    print(f"sgemm on this step's shapes     {gflops:8.1f} GFLOP/s")
    print(f"matrix-product FLOPs per epoch  {flops / 1e9:8.1f} GFLOP")
    print(f"GEMM bound per epoch            {bound:8.3f} s")
    print(
        f"reference s/epoch (median)      {ref_epoch:8.3f} s   "
        f"epochs: {', '.join(f'{t:.2f}' for t in ref_times)}"
    )
    print(
        f"keras     s/epoch (median)      {keras_epoch:8.3f} s   "
        f"epochs: {', '.join(f'{t:.2f}' for t in keras_times)}"
    )
    print(f"reference / keras               {ref_epoch / keras_epoch:8.2f} x   (target <= 1.0)")
    print(f"reference / GEMM bound          {ref_epoch / bound:8.2f} x   (target <= 1.5)")
    print(f"test accuracy, reference        {ref_acc:8.4f}     (target >= 0.978)")
    print(f"test accuracy, keras            {keras_acc:8.4f}")


if __name__ == "__main__":
    main()
