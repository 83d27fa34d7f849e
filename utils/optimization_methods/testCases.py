"""Inputs of the public tests of the "Optimization Methods" assignment.

Each function builds one test case of ASSIGNMENT.md ("test-case recipes") and
returns fresh objects on every call, so a function under test that modifies its
arguments in place cannot affect another test.  The notebook imports this
module with ``from testCases import *``; only the case functions are exported.
"""

import numpy as np
from opt_utils_v1a import load_params_and_grads

__all__ = [
    "initialize_adam_test_case",
    "initialize_velocity_test_case",
    "random_mini_batches_large_test_case",
    "random_mini_batches_test_case",
    "schedule_lr_decay_test_cases",
    "update_lr_test_case",
    "update_parameters_with_adam_test_case",
    "update_parameters_with_gd_test_case",
    "update_parameters_with_momentum_test_case",
]


def _recipe_a():
    """Recipe A: a two-layer network and its gradients, drawn with ``np.random.seed(1)``.

    Returns:
    parameters -- dict with W1 (2, 3), b1 (2, 1), W2 (3, 2), b2 (3, 1)
    grads -- dict with dW1, db1, dW2, db2 of the same shapes
    """
    W1, b1, W2, b2, dW1, db1, dW2, db2 = load_params_and_grads(seed=1)
    parameters = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
    grads = {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
    return parameters, grads


def _zeros_like_grads(parameters):
    """Zero optimizer state (keys dW1, db1, ...) shaped like each parameter."""
    return {"d" + key: np.zeros_like(value) for key, value in parameters.items()}


def update_parameters_with_gd_test_case():
    """Exercise 1: Recipe A with learning rate 0.01.

    Returns:
    parameters, grads, learning_rate
    """
    parameters, grads = _recipe_a()
    learning_rate = 0.01
    return parameters, grads, learning_rate


def random_mini_batches_test_case():
    """Exercise 2, small case: 7 examples of 5 features, mini-batches of 2.

    ``np.random.seed(1)``; X = randn(5, 7); Y = randn(1, 7) < 0.5 (booleans).

    Returns:
    X, Y, mini_batch_size, seed -- seed (0) is the one passed to random_mini_batches
    """
    np.random.seed(1)
    X = np.random.randn(5, 7)
    Y = np.random.randn(1, 7) < 0.5
    mini_batch_size = 2
    seed = 0
    return X, Y, mini_batch_size, seed


def random_mini_batches_large_test_case():
    """Exercise 2, large case: 148 examples of 12288 features, mini-batches of 64.

    X holds the integers 0 .. 12288 * 148 - 1 so that ``X[i, j] = j * 12288 + i``:
    every value tells which example (column j) and which feature (row i) it
    comes from.  ``np.random.seed(1)``; Y = randn(1, 148) < 0.5.

    Returns:
    X, Y, mini_batch_size -- random_mini_batches is called with its default seed
    """
    np.random.seed(1)
    nx, m = 12288, 148
    X = np.arange(nx * m).reshape((m, nx)).T
    Y = np.random.randn(1, m) < 0.5
    mini_batch_size = 64
    return X, Y, mini_batch_size


def initialize_velocity_test_case():
    """Exercise 3: parameters W1 (3, 2), b1 (3, 1), W2 (3, 3), b2 (3, 1), ``np.random.seed(1)``.

    Returns:
    parameters
    """
    np.random.seed(1)
    W1 = np.random.randn(3, 2)
    b1 = np.random.randn(3, 1)
    W2 = np.random.randn(3, 3)
    b2 = np.random.randn(3, 1)
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def update_parameters_with_momentum_test_case():
    """Exercise 4: Recipe A, zero velocity, beta 0.9, learning rate 0.01.

    Returns:
    parameters, grads, v, beta, learning_rate
    """
    parameters, grads = _recipe_a()
    v = _zeros_like_grads(parameters)
    beta = 0.9
    learning_rate = 0.01
    return parameters, grads, v, beta, learning_rate


def initialize_adam_test_case():
    """Exercise 5: Recipe A's parameters (W1 (2, 3), b1 (2, 1), W2 (3, 2), b2 (3, 1)).

    Returns:
    parameters
    """
    parameters, _ = _recipe_a()
    return parameters


def update_parameters_with_adam_test_case():
    """Exercise 6: Recipe A, zero v and s, step t = 2, non-default hyperparameters.

    Returns:
    parameters, grads, v, s, t, learning_rate, beta1, beta2, epsilon --
    t = 2, learning_rate = 0.02, beta1 = 0.8, beta2 = 0.888, epsilon = 1e-2
    """
    parameters, grads = _recipe_a()
    v = _zeros_like_grads(parameters)
    s = _zeros_like_grads(parameters)
    t = 2
    learning_rate = 0.02
    beta1 = 0.8
    beta2 = 0.888
    epsilon = 1e-2
    return parameters, grads, v, s, t, learning_rate, beta1, beta2, epsilon


def update_lr_test_case():
    """Exercise 7: initial learning rate 0.5, epoch 2, decay rate 1.

    Returns:
    learning_rate0, epoch_num, decay_rate
    """
    learning_rate0 = 0.5
    epoch_num = 2
    decay_rate = 1
    return learning_rate0, epoch_num, decay_rate


def schedule_lr_decay_test_cases():
    """Exercise 8: five cases of (learning_rate0, epoch_num, decay_rate, time_interval).

    Returns:
    list of 4-tuples
    """
    return [
        (0.5, 100, 1, 100),
        (0.5, 10, 1, 100),
        (0.3, 1000, 0.25, 100),
        (0.3, 100, 0.25, 100),
        (0.5, 100, 0.3, 100),
    ]
