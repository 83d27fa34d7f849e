"""Inputs for the hidden test cases: the public recipes of ``testCases`` (the helper module) and random networks.

Importable by name from the hidden tests: the grader puts this folder and the
assignment's helper modules (``utils/optimization_methods/``) on ``sys.path``.
"""

from __future__ import annotations

import numpy as np
import testCases as public  # the recipes the notebook's public tests use

__all__ = ["gradients", "network", "optimizer_state", "public"]


def network(layer_dims: list[int], seed: int) -> dict[str, np.ndarray]:
    """Random parameters W1, b1, ..., WL, bL of a network with the given layer sizes."""
    rng = np.random.default_rng(seed)
    parameters = {}
    for l in range(1, len(layer_dims)):
        parameters[f"W{l}"] = rng.standard_normal((layer_dims[l], layer_dims[l - 1]))
        parameters[f"b{l}"] = rng.standard_normal((layer_dims[l], 1))
    return parameters


def gradients(parameters: dict[str, np.ndarray], seed: int) -> dict[str, np.ndarray]:
    """Random gradients dW1, db1, ... shaped like ``parameters``."""
    rng = np.random.default_rng(seed)
    return {"d" + key: rng.standard_normal(value.shape) for key, value in parameters.items()}


def optimizer_state(parameters: dict[str, np.ndarray], seed: int | None = None) -> dict[str, np.ndarray]:
    """Optimizer state (keys dW1, db1, ...): zeros, or random non-negative values given a seed."""
    if seed is None:
        return {"d" + key: np.zeros_like(value) for key, value in parameters.items()}
    rng = np.random.default_rng(seed)
    return {"d" + key: np.abs(rng.standard_normal(value.shape)) for key, value in parameters.items()}
