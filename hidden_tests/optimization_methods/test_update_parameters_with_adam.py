"""Exercise 6, update_parameters_with_adam: moving averages v and s, bias correction, then the step.

The function returns ``(parameters, v, s, v_corrected, s_corrected)``; all five
are checked.  Hidden cases start from non-zero v and s at steps t > 2 (where a
wrong bias correction shows), use other hyperparameters, and call the function
with its default keyword arguments.
"""

import numpy as np
import pytest
from case_inputs import gradients, network, optimizer_state, public

from autograder.checks import expect
from autograder.checks.case import Case
from autograder.checks.expect import Misconception

EXERCISE = "update_parameters_with_adam"
NAMES = ("parameters", "v", "s", "v_corrected", "s_corrected")
HINT = ("for every layer and for both W and b: v = beta1 * v + (1 - beta1) * dW; "
        "v_corrected = v / (1 - beta1 ** t); s = beta2 * s + (1 - beta2) * dW ** 2; "
        "s_corrected = s / (1 - beta2 ** t); W = W - learning_rate * v_corrected / (np.sqrt(s_corrected) + epsilon); "
        "return parameters, v, s, v_corrected, s_corrected")


def _adam(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999, epsilon=1e-8, *,
          correct=True, t_shift=0, eps_inside=False, s_uses_beta1=False, square=True, step_corrected=True):
    """Adam with switches for the mistakes below (defaults: the correct update); leaves its inputs unchanged."""
    s_beta = beta1 if s_uses_beta1 else beta2
    new_parameters, new_v, new_s, v_corrected, s_corrected = {}, {}, {}, {}, {}
    with np.errstate(invalid="ignore", divide="ignore"):
        for name, value in parameters.items():
            key = "d" + name
            grad = grads[key]
            new_v[key] = beta1 * v[key] + (1 - beta1) * grad
            new_s[key] = s_beta * s[key] + (1 - s_beta) * (grad ** 2 if square else grad)
            v_corrected[key] = new_v[key] / (1 - beta1 ** (t + t_shift)) if correct else new_v[key]
            s_corrected[key] = new_s[key] / (1 - beta2 ** (t + t_shift)) if correct else new_s[key]
            first, second = (v_corrected[key], s_corrected[key]) if step_corrected else (new_v[key], new_s[key])
            denominator = np.sqrt(second + epsilon) if eps_inside else np.sqrt(second) + epsilon
            new_parameters[name] = value - learning_rate * first / denominator
    return new_parameters, new_v, new_s, v_corrected, s_corrected


def _mistake(**switches):
    return lambda *args, **kwargs: _adam(*args, **kwargs, **switches)


MISCONCEPTIONS = (
    Misconception("the bias correction is missing: v_corrected = v and s_corrected = s", _mistake(correct=False)),
    Misconception("epsilon is inside the square root: sqrt(s_corrected + epsilon) instead of "
                  "sqrt(s_corrected) + epsilon", _mistake(eps_inside=True)),
    Misconception("the squared gradients are averaged with beta1 instead of beta2", _mistake(s_uses_beta1=True)),
    Misconception("the bias correction uses t + 1 instead of t (t already counts from 1)", _mistake(t_shift=1)),
    Misconception("s averages the gradients dW instead of their squares dW ** 2", _mistake(square=False)),
    Misconception("the parameters are stepped with the uncorrected v and s instead of v_corrected and s_corrected",
                  _mistake(step_corrected=False)),
)


def _case(label, layer_dims, seed, t, *hyperparameters, zero_state=False, scale=1.0, **keywords):
    """A random network and gradients (times ``scale``), signed v and non-negative s (or zeros) of the same
    scale, then the given hyperparameters."""
    parameters = network(layer_dims, seed)
    grads = {key: scale * value for key, value in gradients(parameters, seed + 1).items()}
    if zero_state:
        v, s = optimizer_state(parameters), optimizer_state(parameters)
    else:
        v = {key: 0.3 * scale * value for key, value in gradients(parameters, seed + 2).items()}
        s = {key: 0.2 * scale ** 2 * value for key, value in optimizer_state(parameters, seed + 3).items()}
    return Case(EXERCISE, label, (parameters, grads, v, s, t, *hyperparameters), keywords)


CASES = [
    Case(EXERCISE, "public case (2-layer network, zero v and s, t 2, learning_rate 0.02, beta1 0.8, beta2 0.888, "
                   "epsilon 0.01)", public.update_parameters_with_adam_test_case(), hidden=False),
    _case("1-layer network, zero v and s, t 1, default hyperparameters", [4, 3], 601, 1, zero_state=True),
    _case("2-layer network with non-square layers, non-zero v and s, t 3, default hyperparameters",
          [5, 2, 3], 602, 3),
    _case("3-layer network, non-zero v and s, t 10, learning_rate 0.05, beta1 0.95, beta2 0.99, epsilon 1e-8 "
          "(given by keyword)", [2, 5, 2, 1], 603, 10, learning_rate=0.05, beta1=0.95, beta2=0.99, epsilon=1e-8),
    _case("4-layer network with non-square layers, non-zero v and s, t 1000, learning_rate 0.001, beta1 0.9, "
          "beta2 0.999, epsilon 1e-8", [6, 3, 4, 2, 1], 604, 1000, 0.001, 0.9, 0.999, 1e-8),
    _case("2-layer network, non-zero v and s, t 5, large epsilon 1.0", [3, 4, 2], 605, 5, 0.1, 0.9, 0.999, 1.0),
    _case("3-layer network, non-zero v and s, t 4, learning_rate 0.1, beta1 0.5, beta2 0.75, epsilon 0.001",
          [3, 2, 4, 2], 606, 4, 0.1, 0.5, 0.75, 1e-3),
    _case("4-layer network, zero v and s, t 2, learning_rate 0.02, beta1 0.8, beta2 0.888, epsilon 0.01",
          [2, 3, 3, 2, 2], 607, 2, 0.02, 0.8, 0.888, 1e-2, zero_state=True),
    # Tiny gradients, where epsilon matters (it keeps the step finite): its place in the formula shows here.
    _case("1-layer network, zero v and s, t 1, tiny gradients (about 1e-5), default hyperparameters", [4, 2], 608, 1,
          zero_state=True, scale=1e-5),
    _case("3-layer network, non-zero v and s, t 7, tiny gradients (about 1e-4), default hyperparameters",
          [3, 4, 2, 2], 609, 7, scale=1e-4),
]



@pytest.mark.parametrize("case", CASES, ids=str)
def test_update_parameters_with_adam(case, student, reference):
    got, want = student(case), reference(case)
    expect.returns(got, want, names=NAMES, case=case, hint=HINT, misconceptions=MISCONCEPTIONS)
