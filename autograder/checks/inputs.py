"""Inputs for test cases: the public recipes of ``utils/testCases.py`` and random networks."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import numpy as np

from autograder.paths import UTILS_DIR


def _load_test_cases() -> ModuleType:
    """``utils/testCases.py``, the recipes the notebook's public tests use."""
    if "testCases" in sys.modules:
        return sys.modules["testCases"]
    sys.path.insert(0, str(UTILS_DIR))
    try:
        spec = importlib.util.spec_from_file_location("testCases", UTILS_DIR / "testCases.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(UTILS_DIR))
    return module


public = _load_test_cases()


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
