"""Exercise 7, update_lr: alpha = alpha0 / (1 + decay_rate * epoch_num)."""

import numpy as np
import pytest
from case_inputs import public

from autograder.checks import expect
from autograder.checks.case import Case
from autograder.checks.expect import Misconception

EXERCISE = "update_lr"
HINT = "the learning rate is learning_rate0 / (1 + decay_rate * epoch_num)"
MISCONCEPTIONS = (
    Misconception("the decay multiplies instead of dividing: learning_rate0 * (1 + decay_rate * epoch_num)",
                  lambda lr0, epoch, decay: lr0 * (1 + decay * epoch)),
    Misconception("epoch_num + 1 is used where epoch_num belongs",
                  lambda lr0, epoch, decay: lr0 / (1 + decay * (epoch + 1))),
    Misconception("the 1 + is missing: learning_rate0 / (decay_rate * epoch_num)",
                  lambda lr0, epoch, decay: lr0 / (decay * epoch) if decay * epoch else float("inf")),
    Misconception("the parentheses are missing: learning_rate0 / 1 + decay_rate * epoch_num adds the decay to the "
                  "rate instead of dividing by (1 + decay_rate * epoch_num)",
                  lambda lr0, epoch, decay: lr0 / 1 + decay * epoch),
)

CASES = [
    Case(EXERCISE, "public case (0.5, epoch 2, decay 1)", public.update_lr_test_case(), hidden=False),
    Case(EXERCISE, "epoch 0 keeps the initial rate", (0.1, 0, 1)),
    Case(EXERCISE, "fractional decay rate", (0.3, 7, 0.25)),
    Case(EXERCISE, "large epoch number", (0.01, 10**7, 2)),
    Case(EXERCISE, "numpy scalars as inputs", (np.float64(0.2), np.int64(40), np.float64(0.5))),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_update_lr(case, student, reference):
    expect.same(student(case), reference(case), name="learning_rate", case=case, hint=HINT,
                misconceptions=MISCONCEPTIONS)
