"""Unit tests of the comparison rule (autograder/checks/expect.py) and of how reference results are kept.

Arrays: exact equality is a fast path only; what it lets through must be what the tolerant comparison
(``np.isclose`` with RTOL and ATOL, NaN equal to NaN) accepts, and nothing else.
"""

from __future__ import annotations

import numpy as np
import pytest

from autograder.checks import expect
from autograder.checks.plugin import _laid_out

WANT = np.array([[1.0, -2.5, np.nan], [0.0, 3.0, 1e-12]])

ARRAYS_ACCEPTED = {
    "identical": WANT.copy(),
    "NaN where the reference has NaN": np.where(np.isnan(WANT), np.nan, WANT),
    "within the relative tolerance": WANT * (1 + 1e-8),
    "negative zero": np.where(WANT == 0.0, -0.0, WANT),
    "the same values from a Fortran-ordered array": np.asfortranarray(WANT),
    "the same values from a strided view": np.repeat(WANT, 2, axis=1)[:, ::2],
}
ARRAYS_REJECTED = {
    "a number where the reference has NaN": np.nan_to_num(WANT),
    "NaN where the reference has a number": np.where(WANT == 3.0, np.nan, WANT),
    "beyond the tolerance": WANT + 1e-3,
    "one value of opposite sign": np.where(WANT == -2.5, 2.5, WANT),
    "another shape": WANT.T.copy(),
    "another dtype": WANT.astype(np.float32),
}


@pytest.mark.parametrize("got", ARRAYS_ACCEPTED.values(), ids=ARRAYS_ACCEPTED.keys())
def test_arrays_the_rule_accepts(got):
    assert expect.difference(got, WANT, "x", reveal=True) is None


@pytest.mark.parametrize("got", ARRAYS_REJECTED.values(), ids=ARRAYS_REJECTED.keys())
def test_arrays_the_rule_rejects(got):
    assert expect.difference(got, WANT, "x", reveal=True) is not None


def test_integer_arrays_are_compared_exactly():
    want = np.arange(6).reshape(2, 3)
    assert expect.difference(want.copy(), want, "x", reveal=True) is None
    assert "1 of 6 differ" in expect.difference(want + np.eye(2, 3, k=2, dtype=int), want, "x", reveal=True)


def test_reference_results_are_kept_contiguous_with_their_shapes_and_containers():
    base = np.arange(24.0).reshape(4, 6)
    result = ({"a": base[:, 1:3], "b": np.float64(2.0)}, [base[::2], np.array(5.0)], "text")
    kept = _laid_out(result)
    assert type(kept) is tuple and type(kept[0]) is dict and type(kept[1]) is list and kept[2] == "text"
    assert kept[0]["a"].flags.c_contiguous and np.array_equal(kept[0]["a"], base[:, 1:3])
    assert kept[1][0].flags.c_contiguous and np.array_equal(kept[1][0], base[::2])
    assert kept[1][1].shape == () and kept[0]["b"] == 2.0  # a 0-d array stays 0-d
    assert kept[0]["a"] is not base and not np.shares_memory(kept[0]["a"], base)
