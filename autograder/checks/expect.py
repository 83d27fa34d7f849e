"""Comparing a student's result with the reference, and saying what differs in a student's words.

Every comparison checks exact types (a numpy subclass or a look-alike object is
not an array), then structure (keys, lengths), shapes, dtypes and finally
values.  The first difference becomes a :class:`CheckFailure` whose message
names the place (``parameters["W2"]``, ``mini_batches[3][1]``), what was got
and -- for public cases only -- what was expected.  When the result equals what
a known mistake (:class:`Misconception`) produces, the hint names the mistake.
Anything of the student's that a message quotes goes through :func:`shown`,
so a 60 MB key or a 3600-digit integer is quoted in a few dozen characters.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograder.checks.case import Case
from autograder.sandbox.wire import Opaque

RTOL = 1e-6
ATOL = 1e-9
REAL_SCALARS = (int, float, np.integer, np.floating)
SHOWN_CHARS = 60  # of one quoted value
SHOWN_ITEMS = 8  # of a quoted tuple or list of keys


class CheckFailure(AssertionError):
    """A result that differs from the reference: what is wrong, and a hint."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message + (f"\nHint: {self.hint}" if self.hint else "")


@dataclass(frozen=True)
class Misconception:
    """A typical mistake, written as the wrong function it leads to."""

    description: str
    wrong: Callable[..., Any]


def same(got: Any, want: Any, *, name: str, case: Case, hint: str | None = None,
         misconceptions: tuple[Misconception, ...] = ()) -> None:
    """Fail with a precise message unless ``got`` matches ``want``."""
    problem = difference(got, want, name, reveal=not case.hidden)
    if problem is None:
        return
    raise CheckFailure(problem, _diagnose(got, case, misconceptions) or hint)


def returns(got: Any, want: tuple, *, names: tuple[str, ...], case: Case, hint: str | None = None,
            misconceptions: tuple[Misconception, ...] = ()) -> None:
    """Like :func:`same` for a function returning several values, named in order."""
    if type(got) not in (tuple, list) or len(got) != len(want):
        raise CheckFailure(f"your function should return {len(want)} values ({', '.join(names)}), "
                           f"but it returned {describe(got)}", "end the function with: return " + ", ".join(names))
    for got_item, want_item, name in zip(got, want, names, strict=True):
        problem = difference(got_item, want_item, name, reveal=not case.hidden)
        if problem is not None:
            raise CheckFailure(problem, _diagnose(got, case, misconceptions) or hint)


def unchanged(after: tuple, before: tuple, *, names: tuple[str, ...], case: Case,
              hint: str = "read the inputs only: build new dicts and arrays instead of assigning into them") -> None:
    """Fail if the function changed any of its positional arguments in place."""
    for got, original, name in zip(after, before, names, strict=True):
        problem = difference(got, original, name, reveal=False)
        if problem is not None:
            raise CheckFailure(f"your function changed its input {name}, which it should only read: now {problem}",
                               hint)


def separate(got: tuple, *, names: tuple[str, ...]) -> None:
    """Fail if returned containers are one object, or share arrays: updating one would change the other."""
    for i, first in enumerate(got):
        for j in range(i + 1, len(got)):
            second = got[j]
            if first is second:
                raise CheckFailure(f"{names[i]} and {names[j]} are the same object, so updating one changes the "
                                   "other", f"create {names[i]} and {names[j]} as two separate dicts")
            shared = _shared_arrays(first, second)
            if shared:
                key = shown(shared)
                raise CheckFailure(f"{names[i]}[{key}] and {names[j]}[{key}] are the same array, so "
                                   "updating one changes the other", "give each entry its own np.zeros(...) array")


def _shared_arrays(first: Any, second: Any) -> Any:
    if type(first) is not dict or type(second) is not dict:
        return None
    arrays = {id(value): key for key, value in first.items() if type(value) is np.ndarray}
    return next((arrays[id(value)] for value in second.values() if id(value) in arrays), None)


def difference(got: Any, want: Any, path: str, reveal: bool) -> str | None:
    """The first difference between ``got`` and ``want``, in words, or None."""
    if isinstance(want, np.ndarray):
        return _array_difference(got, want, path, reveal)
    if isinstance(want, dict):
        return _dict_difference(got, want, path, reveal)
    if isinstance(want, (tuple, list)):
        return _sequence_difference(got, want, path, reveal)
    if isinstance(want, REAL_SCALARS) and not isinstance(want, (bool, np.bool_)):
        return _scalar_difference(got, want, path, reveal)
    if type(got) is not type(want) or got != want:
        return f"{path} is {describe(got)}" + (f", expected {shown(want)}" if reveal else "")
    return None


def describe(value: Any) -> str:
    """A short description of a value's type (and shape) for feedback."""
    if isinstance(value, Opaque):
        return f"an object of type {value.type_name} ({value.reason})"
    if isinstance(value, np.ndarray):
        return f"a numpy array of shape {value.shape} and dtype {value.dtype}"
    if value is None:
        return "None (did you forget a return statement?)"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)} item{'s' * (len(value) != 1)}"
    if isinstance(value, dict):
        return f"a dict with keys {_keys(value)}"
    if isinstance(value, np.generic):
        return f"a numpy {value.dtype} scalar ({value!r})"
    name = type(value).__name__
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name} ({shown(value)})"


def shown(value: Any, depth: int = 0) -> str:
    """A value as Python would show it, bounded in length and in the work it takes, whatever it is."""
    kind = type(value)
    if kind is str:
        text = repr(value[:SHOWN_CHARS])
        return text if len(value) <= SHOWN_CHARS else f"{text[:-1]}...{text[-1]} ({len(value):,} characters)"
    if kind is int and value.bit_length() > 3 * SHOWN_CHARS:
        return f"an integer of about {int(value.bit_length() * math.log10(2)) + 1:,} digits"
    if kind in (tuple, list):
        brackets = "()" if kind is tuple else "[]"
        if depth >= 2 and value:
            return f"{brackets[0]}... ({len(value):,} items){brackets[1]}"
        items = [shown(item, depth + 1) for item in value[:SHOWN_ITEMS]]
        more = [f"... ({len(value):,} items)"] if len(value) > SHOWN_ITEMS else []
        text = brackets[0] + ", ".join(items + more) + ("," if kind is tuple and len(value) == 1 else "") + brackets[1]
        return text if len(text) <= 4 * SHOWN_CHARS else f"{text[:4 * SHOWN_CHARS]}... ({len(value):,} items)"
    if isinstance(value, (dict, np.ndarray, Opaque)):
        return describe(value)
    scalar = isinstance(value, (int, float, complex, np.generic, type(None)))
    text = repr(value) if scalar else f"a {kind.__name__}"
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "..."


def _array_difference(got: Any, want: np.ndarray, path: str, reveal: bool) -> str | None:
    if type(got) is not np.ndarray:
        return f"{path} should be a numpy array of shape {want.shape}, but it is {describe(got)}"
    if got.shape != want.shape:
        return f"{path} has shape {got.shape}, but it should have shape {want.shape}"
    if got.dtype != want.dtype:
        return f"{path} has dtype {got.dtype}, but it should have dtype {want.dtype}"
    if np.array_equal(got, want):  # the common case, far cheaper than isclose (and than equal_nan=True)
        return None
    inexact = want.dtype.kind in "fc"
    close = np.isclose(got, want, rtol=RTOL, atol=ATOL, equal_nan=True) if inexact else got == want
    wrong = ~close
    if not wrong.any():
        return None
    index = tuple(int(i) for i in np.argwhere(wrong)[0])
    message = (f"{path} has wrong values: {int(wrong.sum())} of {want.size} differ; "
               f"the first is at index {index}: got {_number(got[index])}")
    return message + (f", expected {_number(want[index])}" if reveal else "")


def _dict_difference(got: Any, want: dict, path: str, reveal: bool) -> str | None:
    if type(got) is not dict:
        return f"{path} should be a dict with keys {_keys(want)}, but it is {describe(got)}"
    missing = [key for key in want if key not in got]
    if missing:
        return f"{path} is missing the key{'s' * (len(missing) > 1)} {_keys(missing)} (it has {_keys(got)})"
    extra = [key for key in got if key not in want]
    if extra:
        return f"{path} has unexpected key{'s' * (len(extra) > 1)} {_keys(extra)}; expected exactly {_keys(want)}"
    for key, value in want.items():
        problem = difference(got[key], value, f"{path}[{shown(key)}]", reveal)
        if problem:
            return problem
    return None


def _sequence_difference(got: Any, want: tuple | list, path: str, reveal: bool) -> str | None:
    if type(got) not in (tuple, list):
        return f"{path} should be a {type(want).__name__} of {len(want)} items, but it is {describe(got)}"
    if len(got) != len(want):
        return f"{path} has {len(got)} item{'s' * (len(got) != 1)}, but it should have {len(want)}"
    for i, (got_item, want_item) in enumerate(zip(got, want, strict=True)):
        problem = difference(got_item, want_item, f"{path}[{i}]", reveal)
        if problem:
            return problem
    return None


def _scalar_difference(got: Any, want: Any, path: str, reveal: bool) -> str | None:
    if not isinstance(got, REAL_SCALARS) or isinstance(got, (bool, np.bool_)):
        return f"{path} should be a single number, but it is {describe(got)}"
    try:
        if math.isclose(float(got), float(want), rel_tol=RTOL, abs_tol=ATOL):
            return None
    except OverflowError:  # an integer beyond any float: not the expected value
        pass
    expected = f", expected {_number(want)}" if reveal else ", which is not the expected value"
    return f"{path} is {_number(got)}{expected}"


def _diagnose(got: Any, case: Case, misconceptions: tuple[Misconception, ...]) -> str | None:
    for misconception in misconceptions:
        args, kwargs = case.fresh_args()
        if difference(got, misconception.wrong(*args, **kwargs), "", reveal=False) is None:
            return f"your result is exactly what this mistake gives: {misconception.description}"
    return None


def _number(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    try:
        return f"{value:.8g}" if isinstance(value, REAL_SCALARS) else shown(value)
    except OverflowError:  # an integer beyond any float
        return shown(value)


def _keys(keys: Any) -> str:
    first = [shown(key) for key in itertools.islice(keys, SHOWN_ITEMS)]
    return "[" + ", ".join(first + ([f"... ({len(keys):,} keys)"] if len(keys) > SHOWN_ITEMS else [])) + "]"
