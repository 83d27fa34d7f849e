"""Exercise 3, initialize_velocity: float zeros shaped like each parameter, keyed dW1, db1, ..., dWL, dbL."""

import numpy as np
import pytest
from case_inputs import network, public

from autograder.checks import expect
from autograder.checks.case import Case
from autograder.checks.expect import Misconception

EXERCISE = "initialize_velocity"
HINT = ('for every layer l = 1 .. L (L = len(parameters) // 2): v["dW" + str(l)] = np.zeros(parameters["W" + '
        'str(l)].shape) and v["db" + str(l)] = np.zeros(parameters["b" + str(l)].shape)')


def _zeros(parameters, make=lambda a: np.zeros(a.shape), key=lambda name: "d" + name, last=True):
    L = len(parameters) // 2
    return {key(name): make(value) for name, value in parameters.items() if last or int(name[1:]) < L}


MISCONCEPTIONS = (
    Misconception("the velocity starts at ones instead of zeros", lambda p: _zeros(p, lambda a: np.ones(a.shape))),
    Misconception("np.zeros(n) with the number of rows gives 1-D arrays; use the parameter's whole shape",
                  lambda p: _zeros(p, lambda a: np.zeros(a.shape[0]))),
    Misconception('the keys are the parameters\' ("W1", "b1") instead of the gradients\' ("dW1", "db1")',
                  lambda p: _zeros(p, key=lambda name: name)),
    Misconception("the zeros are integers (dtype=int); the velocity must hold floats",
                  lambda p: _zeros(p, lambda a: np.zeros(a.shape, dtype=int))),
    Misconception("the last layer has no velocity (the loop runs over range(1, L) instead of range(1, L + 1))",
                  lambda p: _zeros(p, last=False)),
)


def _case(label, layer_dims, seed):
    return Case(EXERCISE, label, (network(layer_dims, seed),), watch_inputs=True)


CASES = [
    Case(EXERCISE, "public case (2-layer network)", (public.initialize_velocity_test_case(),), hidden=False,
         watch_inputs=True),
    _case("1-layer network", [4, 2], 301),
    _case("2-layer network with non-square layers", [5, 7, 2], 302),
    _case("3-layer network (the moons model's shapes)", [2, 5, 2, 1], 303),
    _case("4-layer network with non-square layers", [6, 4, 3, 5, 1], 304),
    _case("4-layer network with wide layers", [12, 20, 9, 16, 3], 305),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_initialize_velocity(case, student, student_inputs, reference):
    expect.same(student(case), reference(case), name="v", case=case, hint=HINT, misconceptions=MISCONCEPTIONS)
    expect.unchanged(student_inputs(case), case.args, names=("parameters",), case=case)
