"""Exercise 1, update_parameters_with_gd: W = W - alpha * dW, b = b - alpha * db for every layer."""

import pytest
from case_inputs import gradients, network, public

from autograder.checks import expect
from autograder.checks.case import Case
from autograder.checks.expect import Misconception

EXERCISE = "update_parameters_with_gd"
HINT = ("for every layer l = 1 .. L (L = len(parameters) // 2): "
        "W_l = W_l - learning_rate * dW_l and b_l = b_l - learning_rate * db_l")


MISCONCEPTIONS = (
    Misconception("the update climbs the gradient: W + learning_rate * dW instead of W - learning_rate * dW",
                  lambda p, g, lr: {k: v + lr * g["d" + k] for k, v in p.items()}),
    Misconception("only the weights W are updated; the biases b are left as they were",
                  lambda p, g, lr: {k: v - lr * g["d" + k] if k.startswith("W") else v for k, v in p.items()}),
    Misconception("the last layer is not updated (the loop runs over range(1, L) instead of range(1, L + 1))",
                  lambda p, g, lr: {k: v - lr * g["d" + k] if int(k[1:]) < len(p) // 2 else v
                                    for k, v in p.items()}),
    Misconception("only layers 1 and 2 are updated: the code is written for a two-layer network",
                  lambda p, g, lr: {k: v - lr * g["d" + k] if int(k[1:]) <= 2 else v for k, v in p.items()}),
    Misconception("the learning rate is ignored: W - dW instead of W - learning_rate * dW",
                  lambda p, g, lr: {k: v - g["d" + k] for k, v in p.items()}),
)


def _case(label, layer_dims, seed, learning_rate):
    parameters = network(layer_dims, seed)
    return Case(EXERCISE, label, (parameters, gradients(parameters, seed + 1), learning_rate))


CASES = [
    Case(EXERCISE, "public case (2-layer network, learning_rate 0.01)", public.update_parameters_with_gd_test_case(),
         hidden=False),
    _case("1-layer network, learning_rate 0.1", [4, 3], 101, 0.1),
    _case("2-layer network with non-square layers, learning_rate 0.05", [5, 2, 4], 102, 0.05),
    _case("3-layer network, learning_rate 0.3", [3, 5, 4, 2], 103, 0.3),
    _case("4-layer network with non-square layers, learning_rate 0.5", [6, 2, 7, 3, 1], 104, 0.5),
    _case("3-layer network, learning_rate 0", [2, 4, 3, 1], 105, 0.0),
    _case("2-layer network, large learning_rate 10", [3, 6, 2], 106, 10.0),
    _case("4-layer network, learning_rate given as the integer 1", [2, 3, 3, 4, 2], 107, 1),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_update_parameters_with_gd(case, student, reference):
    expect.same(student(case), reference(case), name="parameters", case=case, hint=HINT,
                misconceptions=MISCONCEPTIONS)
