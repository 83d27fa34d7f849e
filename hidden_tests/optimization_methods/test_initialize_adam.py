"""Exercise 5, initialize_adam: v and s, two separate dicts of float zeros keyed dW1, db1, ..., dWL, dbL."""

import numpy as np
import pytest
from case_inputs import network, public

from autograder.checks import expect
from autograder.checks.case import Case
from autograder.checks.expect import Misconception

EXERCISE = "initialize_adam"
NAMES = ("v", "s")
HINT = ('for every layer l = 1 .. L (L = len(parameters) // 2), v["dW" + str(l)], v["db" + str(l)], '
        's["dW" + str(l)] and s["db" + str(l)] are np.zeros(...) of the shape of parameters["W" + str(l)] '
        'or parameters["b" + str(l)]; return v, s')


def _zeros(parameters, make=lambda a: np.zeros(a.shape), key=lambda name: "d" + name, last=True):
    L = len(parameters) // 2
    return {key(name): make(value) for name, value in parameters.items() if last or int(name[1:]) < L}


def _pair(**options):
    return lambda p: (_zeros(p, **options), _zeros(p, **options))


MISCONCEPTIONS = (
    Misconception("v and s start at ones instead of zeros", _pair(make=lambda a: np.ones(a.shape))),
    Misconception("np.zeros(n) with the number of rows gives 1-D arrays; use the parameter's whole shape",
                  _pair(make=lambda a: np.zeros(a.shape[0]))),
    Misconception('the keys are the parameters\' ("W1", "b1") instead of the gradients\' ("dW1", "db1")',
                  _pair(key=lambda name: name)),
    Misconception("the zeros are integers (dtype=int); v and s must hold floats",
                  _pair(make=lambda a: np.zeros(a.shape, dtype=int))),
    Misconception("the last layer is missing (the loop runs over range(1, L) instead of range(1, L + 1))",
                  _pair(last=False)),
)


def _case(label, layer_dims, seed):
    return Case(EXERCISE, label, (network(layer_dims, seed),), watch_inputs=True)


CASES = [
    Case(EXERCISE, "public case (2-layer network)", (public.initialize_adam_test_case(),), hidden=False,
         watch_inputs=True),
    _case("1-layer network", [3, 4], 501),
    _case("2-layer network with non-square layers", [6, 2, 5], 502),
    _case("3-layer network (the moons model's shapes)", [2, 5, 2, 1], 503),
    _case("4-layer network with non-square layers", [7, 3, 4, 6, 2], 504),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_initialize_adam(case, student, student_inputs, reference):
    got, want = student(case), reference(case)
    expect.returns(got, want, names=NAMES, case=case, hint=HINT, misconceptions=MISCONCEPTIONS)
    expect.separate(got, names=NAMES)
    expect.unchanged(student_inputs(case), case.args, names=("parameters",), case=case)
