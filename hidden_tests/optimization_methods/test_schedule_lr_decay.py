"""Exercise 8, schedule_lr_decay: alpha = alpha0 / (1 + decay_rate * floor(epoch_num / time_interval))."""

import math

import numpy as np
import pytest
from case_inputs import public

from autograder.checks import expect
from autograder.checks.case import Case
from autograder.checks.expect import Misconception

EXERCISE = "schedule_lr_decay"
HINT = ("the learning rate is learning_rate0 / (1 + decay_rate * math.floor(epoch_num / time_interval)): "
        "it only changes once every time_interval epochs")


def _with_intervals(count):
    """A wrong schedule that counts the intervals elapsed with ``count(epoch_num / time_interval)``."""
    return lambda lr0, epoch, decay, interval=1000: lr0 / (1 + decay * count(epoch / interval))


MISCONCEPTIONS = (
    Misconception("the floor is missing: the rate decays continuously with epoch_num / time_interval",
                  _with_intervals(lambda x: x)),
    Misconception("time_interval is ignored: this is update_lr's formula, decaying at every epoch",
                  lambda lr0, epoch, decay, interval=1000: lr0 / (1 + decay * epoch)),
    Misconception("the number of intervals is rounded to the nearest integer (round) instead of down (floor)",
                  _with_intervals(round)),
    Misconception("the number of intervals is rounded up (ceil) instead of down (floor)", _with_intervals(math.ceil)),
    Misconception("the learning rate is divided with // (floor division), which rounds it down to a whole number",
                  lambda lr0, epoch, decay, interval=1000: lr0 // (1 + decay * math.floor(epoch / interval))),
    Misconception("the decay multiplies instead of dividing the learning rate",
                  lambda lr0, epoch, decay, interval=1000: lr0 * (1 + decay * math.floor(epoch / interval))),
)


def _public(args):
    lr0, epoch, decay, interval = args
    return Case(EXERCISE, f"public case ({lr0}, epoch {epoch}, decay {decay}, time_interval {interval})", args,
                hidden=False)


CASES = [
    *(_public(args) for args in public.schedule_lr_decay_test_cases()),
    Case(EXERCISE, "default time_interval (3 arguments), epoch 2500", (0.5, 2500, 1)),
    Case(EXERCISE, "default time_interval, epoch 999 (just below a multiple of the interval)", (0.2, 999, 2)),
    Case(EXERCISE, "default time_interval, epoch 1000 (a multiple of the interval)", (0.2, 1000, 2)),
    Case(EXERCISE, "time_interval 1000, epoch 1001 (just above a multiple of the interval)", (0.2, 1001, 2, 1000)),
    Case(EXERCISE, "epoch halfway between two multiples of the interval (150, time_interval 100)",
         (0.5, 150, 1, 100)),
    Case(EXERCISE, "large epoch number (10**6), time_interval 300", (0.1, 10**6, 0.5, 300)),
    Case(EXERCISE, "very large epoch number (10**9), default time_interval", (0.3, 10**9, 1)),
    # Between two multiples of the interval, in the lower half: only the floor gives the right rate here.
    Case(EXERCISE, "epoch 3 inside the first interval (time_interval 10): no decay yet", (0.3, 3, 2, 10)),
    Case(EXERCISE, "default time_interval, epoch 1200 (a little past the first multiple)", (0.1, 1200, 0.5)),
    Case(EXERCISE, "time_interval 1000, epoch 3400, decay_rate 0.1", (0.05, 3400, 0.1, 1000)),
    Case(EXERCISE, "numpy scalars as inputs", (np.float64(0.4), np.int64(2750), np.float64(0.5), np.int64(500))),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_schedule_lr_decay(case, student, reference):
    expect.same(student(case), reference(case), name="learning_rate", case=case, hint=HINT,
                misconceptions=MISCONCEPTIONS)
