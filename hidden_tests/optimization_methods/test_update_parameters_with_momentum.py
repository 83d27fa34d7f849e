"""Exercise 4, update_parameters_with_momentum: v = beta * v + (1 - beta) * dW, then W = W - alpha * v.

The function returns ``(parameters, v)``; both are checked, so the updated
velocity must be stored in ``v``.  Most hidden cases start from a non-zero
velocity, as in every step of training after the first.
"""

import pytest
from case_inputs import gradients, network, optimizer_state, public

from autograder.checks import expect
from autograder.checks.case import Case
from autograder.checks.expect import Misconception

EXERCISE = "update_parameters_with_momentum"
NAMES = ("parameters", "v")
HINT = ("for every layer and for both W and b: first v[\"dW\" + str(l)] = beta * v[\"dW\" + str(l)] + (1 - beta) * "
        "grads[\"dW\" + str(l)], then W = W - learning_rate * (the new v); return parameters, v")


def _momentum(parameters, grads, v, beta, learning_rate, *, velocity_weights=None, step="new", store=True):
    """Momentum with switches for the mistakes below (defaults: the correct update)."""
    old_weight, grad_weight = velocity_weights or (beta, 1 - beta)
    new_parameters, new_v = {}, {}
    for name, value in parameters.items():
        key = "d" + name
        velocity = old_weight * v[key] + grad_weight * grads[key]
        direction = {"new": velocity, "old": v[key], "gradient": grads[key]}[step]
        new_parameters[name] = value - learning_rate * direction
        new_v[key] = velocity if store else v[key]
    return new_parameters, new_v


MISCONCEPTIONS = (
    Misconception("beta and 1 - beta are swapped: v = (1 - beta) * v + beta * dW",
                  lambda p, g, v, beta, lr: _momentum(p, g, v, beta, lr, velocity_weights=(1 - beta, beta))),
    Misconception("the new velocity is computed but not stored in v, so v comes back unchanged",
                  lambda p, g, v, beta, lr: _momentum(p, g, v, beta, lr, store=False)),
    Misconception("the parameters are stepped with the gradient dW instead of the velocity v",
                  lambda p, g, v, beta, lr: _momentum(p, g, v, beta, lr, step="gradient")),
    Misconception("the parameters are stepped with the velocity from before this update (update v first)",
                  lambda p, g, v, beta, lr: _momentum(p, g, v, beta, lr, step="old")),
    Misconception("the factor (1 - beta) is missing: v = beta * v + dW",
                  lambda p, g, v, beta, lr: _momentum(p, g, v, beta, lr, velocity_weights=(beta, 1))),
)


def _case(label, layer_dims, seed, beta, learning_rate, zero_velocity=False):
    parameters = network(layer_dims, seed)
    v = optimizer_state(parameters, None if zero_velocity else seed + 2)
    return Case(EXERCISE, label, (parameters, gradients(parameters, seed + 1), v, beta, learning_rate))


CASES = [
    Case(EXERCISE, "public case (2-layer network, zero velocity, beta 0.9, learning_rate 0.01)",
         public.update_parameters_with_momentum_test_case(), hidden=False),
    _case("1-layer network, zero velocity, beta 0.9, learning_rate 0.1", [3, 2], 401, 0.9, 0.1, zero_velocity=True),
    _case("2-layer network with non-square layers, non-zero velocity, beta 0.6, learning_rate 0.01",
          [4, 6, 2], 402, 0.6, 0.01),
    _case("3-layer network, non-zero velocity, beta 0.99, learning_rate 0.05", [2, 5, 2, 1], 403, 0.99, 0.05),
    _case("4-layer network with non-square layers, non-zero velocity, beta 0.9, learning_rate 0.3",
          [5, 3, 6, 2, 4], 404, 0.9, 0.3),
    _case("2-layer network, non-zero velocity, beta 0, learning_rate 0.2", [3, 3, 1], 405, 0.0, 0.2),
    _case("3-layer network, non-zero velocity, beta 0.8, learning_rate 0", [4, 2, 3, 2], 406, 0.8, 0.0),
]



@pytest.mark.parametrize("case", CASES, ids=str)
def test_update_parameters_with_momentum(case, student, reference):
    got, want = student(case), reference(case)
    expect.returns(got, want, names=NAMES, case=case, hint=HINT, misconceptions=MISCONCEPTIONS)
