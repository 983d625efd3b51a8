"""The ``nngrade`` command line. Every command has ``--help``."""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="nngrade")
def main() -> None:
    """nngrade: problem sets, reference solutions and autograding for a neural-networks course."""


@main.command()
@click.option("--epochs", default=5, show_default=True, help="Passes over the 60,000 images.")
@click.option("--batch-size", default=128, show_default=True)
@click.option("--hidden", default=512, show_default=True, help="Hidden units (relu).")
@click.option("--seed", default=0, show_default=True)
def demo(epochs: int, batch_size: int, hidden: int, seed: int) -> None:
    """Train the reference MLP (784-HIDDEN-10, relu/softmax, rmsprop) on MNIST.

    Prints the time and test accuracy of every epoch. Reads MNIST from the offline cache
    (fill it with `make setup` or `nnkit-fetch-mnist`).
    """
    from autograder.demo import train_reference_mlp_on_mnist

    train_reference_mlp_on_mnist(epochs=epochs, batch_size=batch_size, hidden=hidden, seed=seed)


if __name__ == "__main__":
    main()
