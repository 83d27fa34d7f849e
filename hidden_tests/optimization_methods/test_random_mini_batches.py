"""Exercise 2, random_mini_batches: shuffle the columns of X and Y with one permutation, then cut them up.

Most hidden cases use integer-valued X whose entry (i, j) is ``j * nx + i``, so
every value tells which example and which feature it came from: a batch that
mixes up examples, features or labels cannot match by accident.  Slicing keeps
the dtypes of X and Y, which are compared exactly.
"""

import math

import numpy as np
import pytest
from case_inputs import public

from autograder.checks import expect
from autograder.checks.case import Case
from autograder.checks.expect import Misconception

EXERCISE = "random_mini_batches"
HINT = ("call np.random.seed(seed), then permutation = list(np.random.permutation(m)) with m = X.shape[1]; "
        "shuffle the columns of X and of Y with that same permutation, then cut consecutive slices of "
        "mini_batch_size columns, plus a last smaller mini-batch with the m % mini_batch_size remaining columns")


def _shuffle(X, Y, seed):
    np.random.seed(seed)
    m = X.shape[1]
    permutation = list(np.random.permutation(m))
    return X[:, permutation], Y[:, permutation].reshape((1, m))


def _partition(X, Y, size, count=None):
    count = math.ceil(X.shape[1] / size) if count is None else count
    return [(X[:, k * size:(k + 1) * size], Y[:, k * size:(k + 1) * size]) for k in range(count)]


def _no_shuffle(X, Y, mini_batch_size=64, seed=0):
    return _partition(X, Y, mini_batch_size)


def _two_permutations(X, Y, mini_batch_size=64, seed=0):
    np.random.seed(seed)
    m = X.shape[1]
    shuffled_X = X[:, list(np.random.permutation(m))]
    shuffled_Y = Y[:, list(np.random.permutation(m))].reshape((1, m))
    return _partition(shuffled_X, shuffled_Y, mini_batch_size)


def _drops_last_batch(X, Y, mini_batch_size=64, seed=0):
    shuffled_X, shuffled_Y = _shuffle(X, Y, seed)
    return _partition(shuffled_X, shuffled_Y, mini_batch_size, X.shape[1] // mini_batch_size)


def _no_seed(X, Y, mini_batch_size=64, seed=0):
    return _partition(*_shuffle(X, Y, 0), mini_batch_size)


def _full_size_slices(X, Y, mini_batch_size=64, seed=0):
    """Every slice, including the last, ends at (k + 1) * size: only differs by an extra empty batch."""
    shuffled_X, shuffled_Y = _shuffle(X, Y, seed)
    return _partition(shuffled_X, shuffled_Y, mini_batch_size, X.shape[1] // mini_batch_size + 1)


def _shifted(start=0, end=0, last_start=0):
    """A partition whose full mini-batches are cut ``start``/``end`` columns off and whose last starts late."""
    def partition(X, Y, mini_batch_size=64, seed=0):
        shuffled_X, shuffled_Y = _shuffle(X, Y, seed)
        m, size = X.shape[1], mini_batch_size
        columns = [slice(k * size + start, (k + 1) * size + end) for k in range(m // size)]
        columns += [slice(m // size * size + last_start, m)] if m % size else []
        return [(shuffled_X[:, c], shuffled_Y[:, c]) for c in columns]

    return partition


def _rows(X, Y, mini_batch_size=64, seed=0):
    shuffled_X, shuffled_Y = _shuffle(X, Y, seed)
    size = mini_batch_size
    return [(shuffled_X[k * size:(k + 1) * size, :], shuffled_Y[:, k * size:(k + 1) * size])
            for k in range(math.ceil(X.shape[1] / size))]


def _flat_labels(X, Y, mini_batch_size=64, seed=0):
    shuffled_X, shuffled_Y = _shuffle(X, Y, seed)
    return [(batch_X, batch_Y[0]) for batch_X, batch_Y in _partition(shuffled_X, shuffled_Y, mini_batch_size)]


MISCONCEPTIONS = (
    Misconception("the examples are not shuffled: the mini-batches keep the original order of the columns",
                  _no_shuffle),
    Misconception("X and Y are shuffled with two different permutations, so the labels no longer match "
                  "their examples", _two_permutations),
    Misconception("the last, smaller mini-batch is missing (it holds the m % mini_batch_size leftover examples)",
                  _drops_last_batch),
    Misconception("the seed argument is ignored: the shuffle always uses seed 0", _no_seed),
    Misconception("the mini-batches are cut from the rows (features) of X instead of its columns (examples)",
                  _rows),
    Misconception("the label mini-batches are 1-D, shape (k,): keep Y's two dimensions, shape (1, k)",
                  _flat_labels),
    Misconception("an extra, empty last mini-batch is added when mini_batch_size divides m", _full_size_slices),
    Misconception("each full mini-batch ends one column early, at (k + 1) * mini_batch_size - 1: a slice's end is "
                  "already left out", _shifted(end=-1)),
    Misconception("each full mini-batch starts one column late, at k * mini_batch_size + 1: columns count from 0",
                  _shifted(start=1, end=1)),
    Misconception("the last mini-batch starts one column late, so one leftover example is lost",
                  _shifted(last_start=1)),
)


def _data(nx, m, labels, x_dtype=np.int64, seed=0):
    """X (nx, m) with X[i, j] = j * nx + i, and labels Y (1, m) of the given kind."""
    X = np.arange(nx * m, dtype=x_dtype).reshape((m, nx)).T
    rng = np.random.default_rng(seed)
    if labels == "bool":
        Y = rng.standard_normal((1, m)) < 0.5
    elif labels == "int":
        Y = rng.integers(0, 2, size=(1, m))
    else:
        Y = rng.standard_normal((1, m))
    return X, Y


def _case(label, nx, m, labels, *args, x_dtype=np.int64, **kwargs):
    """X (nx, m) and Y (1, m) from :func:`_data`, then the given mini_batch_size / seed, if any."""
    X, Y = _data(nx, m, labels, x_dtype, seed=nx * 1000 + m)
    return Case(EXERCISE, label, (X, Y, *args), kwargs)


CASES = [
    Case(EXERCISE, "public case (7 examples, mini_batch_size 2, seed 0)", public.random_mini_batches_test_case(),
         hidden=False),
    Case(EXERCISE, "public case (148 examples of 12288 features, mini_batch_size 64, default seed)",
         public.random_mini_batches_large_test_case(), hidden=False),
    _case("12 examples, mini_batch_size 4 (divides m), seed 3", 5, 12, "bool", 4, 3),
    _case("10 examples, mini_batch_size 3 (does not divide m), seed 7, float labels", 4, 10, "float", 3, 7),
    _case("5 examples, mini_batch_size 8 (larger than m), seed 1", 3, 5, "bool", 8, 1),
    _case("6 examples, mini_batch_size 1, seed 2", 2, 6, "bool", 1, 2),
    _case("8 examples, mini_batch_size 8 (equal to m), seed 5", 3, 8, "float", 8, 5),
    _case("100 examples, default mini_batch_size and seed, float labels", 3, 100, "float"),
    _case("50 examples, mini_batch_size 16, seed 42 given by keyword, float32 X and integer labels", 6, 50, "int",
          16, x_dtype=np.float32, seed=42),
    _case("130 examples of 2 features, mini_batch_size 32, seed 11", 2, 130, "bool", 32, 11),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_random_mini_batches(case, student, reference):
    expect.same(student(case), reference(case), name="mini_batches", case=case, hint=HINT,
                misconceptions=MISCONCEPTIONS)
