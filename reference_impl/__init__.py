"""Correct NumPy implementations of everything the course asks students to build.

This is the answer key: hidden tests compute their expected values with it. It is never
shipped to students and is absent from the grading sandbox.

Modules: ``perceptron`` (the sigmoid neuron, squared loss, chain rule, gradient descent,
Rosenblatt's rule), ``activations``, ``losses``, ``metrics``, ``optimizers``, ``mlp`` (a
feed-forward network of any depth), ``gradcheck`` (centred differences), and ``keras_models``
(the lectures' Keras models; imported on demand because it loads TensorFlow).
"""

from reference_impl.mlp import MLP

__all__ = ["MLP"]
