"""Public tests of the "Optimization Methods" assignment.

The notebook calls ``<name>_test(<name>)`` after each exercise.  A test runs a
few checks on the function it is given (what it returns, shapes, dtypes,
values), each on fresh inputs from ``testCases``.  Every failed check is printed
in red with what was expected and what was found; if any check failed the test
ends with one ``AssertionError`` (so the notebook cell shows an error),
otherwise it prints "All tests passed!" in green.
"""

import copy
import math
import numbers
import re
import traceback
from dataclasses import dataclass

import numpy as np
from testCases import (
    initialize_adam_test_case,
    initialize_velocity_test_case,
    random_mini_batches_large_test_case,
    random_mini_batches_test_case,
    schedule_lr_decay_test_cases,
    update_lr_test_case,
    update_parameters_with_adam_test_case,
    update_parameters_with_gd_test_case,
    update_parameters_with_momentum_test_case,
)

__all__ = [
    "initialize_adam_test",
    "initialize_velocity_test",
    "random_mini_batches_test",
    "schedule_lr_decay_test",
    "update_lr_test",
    "update_parameters_with_adam_test",
    "update_parameters_with_gd_test",
    "update_parameters_with_momentum_test",
]

RED = "\033[91m"
GREEN = "\033[92m"
RESET = "\033[0m"

MAX_PROBLEMS_SHOWN = 4  # per check; the first ones are usually enough to spot the mistake

# Expected values are published with 8 decimals.
RTOL = 1e-5
ATOL = 1e-7

RECIPE_A_SHAPES = {"W1": (2, 3), "b1": (2, 1), "W2": (3, 2), "b2": (3, 1)}


# ----------------------------------------------------------------------------
# Running checks
# ----------------------------------------------------------------------------


class _NotImplemented(Exception):
    """The function under test is still the release stub."""


class _StudentError(Exception):
    """The function under test raised an exception; the message says which and where."""


class _Failed(Exception):
    """A check cannot go on; ``args[0]`` is the list of problems found."""


def _where(error):
    """' (line N: code)' for the innermost frame of student code in the traceback, or ''."""
    frames = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if frame.filename != __file__ and not re.search(r"[/\\](site|dist)-packages[/\\]", frame.filename)
    ]
    if not frames:
        return ""
    frame = frames[-1]
    return f" (line {frame.lineno}: {frame.line.strip()})" if frame.line else f" (line {frame.lineno})"


def _invoke(name, target, args, copy_args=True):
    """Call ``target`` on (deep copies of) ``args``, turning its exceptions into readable ones."""
    if copy_args:
        args = copy.deepcopy(args)
    try:
        return target(*args)
    except NotImplementedError:
        raise _NotImplemented from None
    except Exception as error:  # noqa: BLE001 -- any error in student code becomes a message
        message = f"{name} raised {type(error).__name__}: {error}{_where(error)}"
        raise _StudentError(message) from None


def _problems_of(check, call):
    """Run one check; return its problems, counting an exception as one (not-implemented propagates)."""
    try:
        return check(call)
    except _NotImplemented:
        raise
    except _StudentError as error:
        return [str(error)]
    except _Failed as failure:
        return failure.args[0]
    except Exception as error:  # noqa: BLE001 -- a result the checks did not foresee
        return [f"Could not check what the function returned ({type(error).__name__}: {error})"]


def _run(name, target, checks):
    """Run ``checks`` on ``target``, print the outcome, raise AssertionError if any failed.

    Each check is a function ``check(call) -> list of problems``; ``call(*args)``
    runs the function under test on deep copies of ``args`` (on ``args``
    themselves with ``copy_args=False``).  The first check is about the structure
    of the result (types, keys): if it fails, the others are skipped.
    """
    printed = set()

    def report(message):
        if message not in printed:  # several checks may meet the same problem
            printed.add(message)
            print(f"{RED}{message}{RESET}")

    def call(*args, copy_args=True):
        return _invoke(name, target, args, copy_args)

    failed = 0
    try:
        for index, check in enumerate(checks):
            problems = _problems_of(check, call)
            for problem in problems[:MAX_PROBLEMS_SHOWN]:
                report(problem)
            if len(problems) > MAX_PROBLEMS_SHOWN:
                report(f"... and {len(problems) - MAX_PROBLEMS_SHOWN} more problems like these")
            failed += bool(problems)
            if problems and index == 0 and len(checks) > 1:
                others = f"{len(checks) - 1} other check" + ("s" if len(checks) > 2 else "")
                report(f"Skipped the {others} of {name}: fix the problem above first")
                failed = len(checks)
                break
    except _NotImplemented:
        report(f'{name} is not implemented yet: replace the "raise NotImplementedError" line(s) with your code')
        failed = len(checks)
    if failed:
        message = f"{failed} of {len(checks)} checks failed for {name}: see the messages above"
        raise AssertionError(message) from None
    print(f"{GREEN}All tests passed!{RESET}")


# ----------------------------------------------------------------------------
# Describing values
# ----------------------------------------------------------------------------


def _fmt(value):
    """A compact one-line rendering of a number or an array."""
    if isinstance(value, np.ndarray):
        text = np.array2string(
            value,
            separator=", ",
            threshold=20,
            edgeitems=3,
            max_line_width=10**6,
            formatter={"float_kind": lambda x: np.format_float_positional(x, precision=8, trim="0")},
        )
        return re.sub(r"\[\s+", "[", re.sub(r"\s+", " ", text))
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        return repr(float(value)) if isinstance(value, (float, np.floating)) else repr(int(value))
    return repr(value)


def _kind(value):
    """What ``value`` is, for messages: 'None', 'a list of 3 items', ..."""
    if value is None:
        return "None (is a return statement missing?)"
    if isinstance(value, np.ndarray):
        return f"a numpy array of shape {value.shape}"
    if isinstance(value, dict):
        return f"a dict with keys {list(value)}"
    if isinstance(value, list):
        return f"a list of {len(value)} items"
    if isinstance(value, tuple):
        return f"a tuple of {len(value)} values"
    type_name = type(value).__name__
    article = "an" if type_name[0] in "aeiou" else "a"
    return f"{article} {type_name} ({_fmt(value)})"


def _entry(what, key):
    """The label of a dict entry, e.g. v["dW1"]."""
    return f'{what}["{key}"]'


# ----------------------------------------------------------------------------
# Shared checking helpers: each returns a list of problems (empty when fine)
# ----------------------------------------------------------------------------


def _unpack(name, result, names):
    """Split ``result`` into the ``names`` the function should return; raise _Failed if it can't."""
    if len(names) == 1:
        if not isinstance(result, dict):
            raise _Failed([f"{name} should return {names[0]} (a dict) but returned {_kind(result)}"])
        return [result]
    if not isinstance(result, (tuple, list)) or len(result) != len(names):
        expected = f"{len(names)} values ({', '.join(names)})"
        raise _Failed([f"{name} should return {expected} but returned {_kind(result)}"])
    return list(result)


def _dict_problems(what, value, keys):
    """``value`` should be a dict with exactly ``keys`` whose values are numpy arrays."""
    if not isinstance(value, dict):
        return [f"{what} should be a dict but is {_kind(value)}"]
    missing = [key for key in keys if key not in value]
    unexpected = [key for key in value if key not in keys]
    if missing or unexpected:
        details = "; ".join(
            part
            for part in (
                f"missing {missing}" if missing else "",
                f"unexpected {unexpected}" if unexpected else "",
            )
            if part
        )
        return [f"{what} has keys {list(value)} but should have exactly the keys {list(keys)} ({details})"]
    return [
        f"{_entry(what, key)} should be a numpy array but is {_kind(value[key])}"
        for key in keys
        if not isinstance(value[key], np.ndarray)
    ]


def _shape_problems(label, array, shape):
    """``array`` should have ``shape``."""
    if array.shape != tuple(shape):
        return [f"{label} has shape {array.shape} but should be {tuple(shape)}"]
    return []


def _float_problems(label, array):
    """``array`` should hold floating-point numbers."""
    if not np.issubdtype(array.dtype, np.floating):
        return [f"{label} has dtype {array.dtype} but should hold floats (float64)"]
    return []


def _value_problems(label, got, expected, *, exact=False):
    """``got`` should equal ``expected`` (within RTOL/ATOL unless ``exact``)."""
    expected = np.asarray(expected)
    if got.shape != expected.shape:
        return [f"{label} has shape {got.shape} but should be {expected.shape}"]
    same = np.array_equal(got, expected) if exact else np.allclose(got, expected, rtol=RTOL, atol=ATOL)
    if same:
        return []
    message = f"Wrong value for {label}: expected {_fmt(expected)} but got {_fmt(got)}"
    if np.issubdtype(got.dtype, np.number) and not got.any() and expected.any():
        message += f" ({label} is still all zeros: was it updated?)"
    return [message]


# ----------------------------------------------------------------------------
# Checks of functions that return dicts of arrays
# ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Output:
    """One dict the function returns and what it should hold.

    name -- its name in the function's docstring, e.g. "v"
    shapes -- key -> expected shape
    values -- key -> expected value (None: values not checked)
    first_row -- ``values`` give only the first row of each array
    """

    name: str
    shapes: dict
    values: dict | None = None
    first_row: bool = False


def _arguments(case):
    """The arguments a test case gives: its tuple, or its single value as a 1-tuple."""
    arguments = case()
    return arguments if isinstance(arguments, tuple) else (arguments,)


def _outputs(name, call, case, outputs):
    """Call the function on ``case()``; return its dicts, or raise _Failed if they are malformed."""
    results = _unpack(name, call(*_arguments(case)), [output.name for output in outputs])
    problems = []
    for output, result in zip(outputs, results, strict=True):
        problems += _dict_problems(output.name, result, tuple(output.shapes))
    if problems:
        raise _Failed(problems)
    return results


def _dict_checks(name, case, outputs):
    """Structure, shape, dtype and value checks of a function returning the dicts ``outputs``."""

    def structure(call):
        _outputs(name, call, case, outputs)
        return []

    def shapes(call):
        problems = []
        for output, result in zip(outputs, _outputs(name, call, case, outputs), strict=True):
            for key, shape in output.shapes.items():
                problems += _shape_problems(_entry(output.name, key), result[key], shape)
        return problems

    def dtypes(call):
        problems = []
        for output, result in zip(outputs, _outputs(name, call, case, outputs), strict=True):
            for key in output.shapes:
                problems += _float_problems(_entry(output.name, key), result[key])
        return problems

    def values_of(index):
        output = outputs[index]

        def values(call):
            result = _outputs(name, call, case, outputs)[index]
            problems = []
            for key, expected in output.values.items():
                label, got = _entry(output.name, key), result[key]
                wrong_shape = _shape_problems(label, got, output.shapes[key])
                if wrong_shape:
                    problems += wrong_shape
                    continue
                if output.first_row:
                    label, got = f"{label}[0] (first row)", got[0]
                problems += _value_problems(label, got, expected)
            return problems

        return values

    checks = [structure, shapes, dtypes]
    checks += [values_of(index) for index, output in enumerate(outputs) if output.values is not None]
    return checks


def _zeros(shapes):
    """Expected all-zero values for the given shapes."""
    return {key: np.zeros(shape) for key, shape in shapes.items()}


def _state_shapes(parameter_shapes):
    """Shapes of optimizer state (keys dW1, db1, ...) for the given parameter shapes."""
    return {"d" + key: shape for key, shape in parameter_shapes.items()}


def _leaves_parameters_alone(name, case):
    """A check that the function does not modify the parameters it is given."""

    def check(call):
        parameters = case()
        call(parameters, copy_args=False)
        problems = []
        for key, original in case().items():
            if not np.array_equal(parameters[key], original):
                problems.append(f"{name} changed {_entry('parameters', key)}: it should only read parameters")
        return problems

    return check


# ----------------------------------------------------------------------------
# Exercise 1: update_parameters_with_gd
# ----------------------------------------------------------------------------

GD_PARAMETERS = {
    "W1": [[1.63312395, -0.61217855, -0.5339999], [-1.06196243, 0.85396039, -2.3105546]],
    "b1": [[1.73978682], [-0.77021546]],
    "W2": [[0.32587637, -0.24814147], [1.47146563, -2.05746183], [-0.32772076, -0.37713775]],
    "b2": [[1.13773698], [-1.09301954], [-0.16397615]],
}


def update_parameters_with_gd_test(target):
    """Check ``update_parameters_with_gd`` on Recipe A with learning rate 0.01."""
    outputs = [_Output("parameters", RECIPE_A_SHAPES, GD_PARAMETERS)]
    _run(
        "update_parameters_with_gd",
        target,
        _dict_checks("update_parameters_with_gd", update_parameters_with_gd_test_case, outputs),
    )


# ----------------------------------------------------------------------------
# Exercise 2: random_mini_batches
# ----------------------------------------------------------------------------

SMALL_FIRST_COLUMNS = [
    [1.74481176, -0.38405435, -1.10061918, -0.93576943, -0.67124613],
    [-0.61175641, 0.3190391, -1.09989127, 0.90159072, 0.53035547],
    [1.62434536, -0.7612069, 1.13376944, 1.14472371, -0.26788808],
    [0.86540763, -2.06014071, 0.04221375, -0.68372786, -0.6871727],
]
SMALL_Y_BATCHES = [[[True, True]], [[True, False]], [[True, True]], [[False]]]
SMALL_WIDTHS = [2, 2, 2, 1]
LARGE_WIDTHS = [64, 64, 20]
LARGE_FIRST_ROW_START = [294912, 86016, 454656]  # mini_batches[0][0][0][0:3]
LARGE_LAST_ROW_START = [1425407, 1769471, 897023]  # mini_batches[-1][0][-1][0:3]


def _batches(call, args):
    """Call random_mini_batches(*args); return its list, or raise _Failed if it is malformed."""
    result = call(*args)
    if not isinstance(result, list):
        raise _Failed(
            [f"random_mini_batches should return a list of (mini_batch_X, mini_batch_Y) tuples "
             f"but returned {_kind(result)}"]
        )
    problems = []
    for k, batch in enumerate(result):
        if not isinstance(batch, (tuple, list)) or len(batch) != 2:
            problems.append(
                f"mini_batches[{k}] should be a tuple (mini_batch_X, mini_batch_Y) but is {_kind(batch)}"
            )
            continue
        for part, part_name in zip(batch, ("mini_batch_X", "mini_batch_Y"), strict=True):
            if not isinstance(part, np.ndarray):
                problems.append(f"{part_name} of mini_batches[{k}] should be a numpy array: {_kind(part)}")
    if problems:
        raise _Failed(problems)
    return result


def _count_problems(batches, m, size):
    """There should be ceil(m / size) mini-batches."""
    full, rest = divmod(m, size)
    expected = full + (rest > 0)
    if len(batches) == expected:
        return []
    detail = f"{full} of {size} examples" + (f" and a last one of {rest}" if rest else "")
    return [
        f"random_mini_batches returned {len(batches)} mini-batches for m = {m} examples and "
        f"mini_batch_size = {size} but should return {expected} ({detail})"
    ]


def _width_problems(batches, n_features, widths):
    """Mini-batch k should have X of shape (n_features, widths[k]) and Y of shape (1, widths[k])."""
    problems = []
    for k, ((batch_X, batch_Y), width) in enumerate(zip(batches, widths, strict=False)):
        problems += _shape_problems(f"mini_batch_X of mini_batches[{k}]", batch_X, (n_features, width))
        problems += _shape_problems(f"mini_batch_Y of mini_batches[{k}]", batch_Y, (1, width))
    return problems


def _example_ids(batch_X, n_features):
    """Which example each column of a mini-batch of the large case is (X[0, j] = j * n_features)."""
    return batch_X[0] // n_features


def random_mini_batches_test(target):
    """Check ``random_mini_batches`` on the small 5 x 7 case and on the 12288 x 148 case."""
    small, large = random_mini_batches_test_case, random_mini_batches_large_test_case
    X_small = small()[0]
    n_features, m = large()[0].shape  # large() leaves random_mini_batches' seed at its default

    def structure(call):
        _batches(call, small())
        return []

    def small_count(call):
        _, _, size, _ = small()
        return _count_problems(_batches(call, small()), X_small.shape[1], size)

    def small_shapes(call):
        return _width_problems(_batches(call, small()), X_small.shape[0], SMALL_WIDTHS)

    def small_values(call):
        problems = []
        batches = _batches(call, small())
        for k, ((batch_X, batch_Y), first_column, labels) in enumerate(
            zip(batches, SMALL_FIRST_COLUMNS, SMALL_Y_BATCHES, strict=False)
        ):
            # Batches of the wrong shape are reported by small_shapes.
            if batch_X.shape == (X_small.shape[0], len(labels[0])):
                label = f"mini_batch_X[:, 0] of mini_batches[{k}]"
                problems += _value_problems(label, batch_X[:, 0], first_column)
            if batch_Y.shape == (1, len(labels[0])):
                problems += _value_problems(f"mini_batch_Y of mini_batches[{k}]", batch_Y, labels, exact=True)
        return problems

    def large_shapes(call):
        batches = _batches(call, large())
        return _count_problems(batches, m, large()[2]) + _width_problems(batches, n_features, LARGE_WIDTHS)

    def large_values(call):
        batches = _batches(call, large())
        first, last = batches[0][0], batches[-1][0]
        return _value_problems("mini_batches[0][0][0][0:3]", first[0][0:3], LARGE_FIRST_ROW_START) + (
            _value_problems("mini_batches[-1][0][-1][0:3]", last[-1][0:3], LARGE_LAST_ROW_START)
        )

    def feature_order(call):
        problems = []
        for k, (batch_X, _) in enumerate(_batches(call, large())):
            if batch_X.ndim == 2 and batch_X.shape[0] == n_features:
                offsets = batch_X - batch_X[0]  # row i minus row 0 is i in every column
                if not (offsets == np.arange(n_features)[:, None]).all():
                    problems.append(
                        f"The rows (features) of mini_batch_X in mini_batches[{k}] are not in X's order: "
                        "shuffle and slice the columns (examples) only"
                    )
        return problems

    def examples_and_labels(call):
        Y = large()[1]
        batches = _batches(call, large())
        ids = [_example_ids(batch_X, n_features) for batch_X, _ in batches if batch_X.ndim == 2]
        ids = np.concatenate(ids) if ids else np.array([], dtype=int)
        if sorted(ids.tolist()) != list(range(m)):
            return [
                "Each example (column) of X should be in exactly one mini-batch: some are missing or repeated"
            ]
        if np.array_equal(ids, np.arange(m)):
            return [
                "The mini-batches hold the examples in their original order: "
                "shuffle the columns of X and Y with the permutation before partitioning"
            ]
        problems = []
        for k, (batch_X, batch_Y) in enumerate(batches):
            if batch_Y.shape != (1, batch_X.shape[1]):
                continue  # reported by large_shapes
            if not np.array_equal(batch_Y[0], Y[0, _example_ids(batch_X, n_features)]):
                problems.append(
                    f"mini_batch_Y of mini_batches[{k}] does not hold the labels of the examples in its "
                    "mini_batch_X: shuffle X and Y with the same permutation"
                )
        return problems

    checks = [
        structure,
        small_count,
        small_shapes,
        small_values,
        large_shapes,
        large_values,
        feature_order,
        examples_and_labels,
    ]
    _run("random_mini_batches", target, checks)


# ----------------------------------------------------------------------------
# Exercises 3 and 5: initialize_velocity, initialize_adam
# ----------------------------------------------------------------------------

VELOCITY_SHAPES = _state_shapes({"W1": (3, 2), "b1": (3, 1), "W2": (3, 3), "b2": (3, 1)})
ADAM_STATE_SHAPES = _state_shapes(RECIPE_A_SHAPES)


def initialize_velocity_test(target):
    """Check ``initialize_velocity``: zeros shaped like each parameter, keys dW1, db1, ..."""
    name = "initialize_velocity"
    outputs = [_Output("v", VELOCITY_SHAPES, _zeros(VELOCITY_SHAPES))]
    checks = _dict_checks(name, initialize_velocity_test_case, outputs)
    checks.append(_leaves_parameters_alone(name, initialize_velocity_test_case))
    _run(name, target, checks)


def initialize_adam_test(target):
    """Check ``initialize_adam``: two separate dicts v and s of zeros shaped like the parameters."""
    name = "initialize_adam"
    outputs = [
        _Output("v", ADAM_STATE_SHAPES, _zeros(ADAM_STATE_SHAPES)),
        _Output("s", ADAM_STATE_SHAPES, _zeros(ADAM_STATE_SHAPES)),
    ]

    def separate(call):
        v, s = _outputs(name, call, initialize_adam_test_case, outputs)
        if v is s:
            return ["initialize_adam returned the same dict for v and s: create two separate dicts"]
        return [
            f"{_entry('v', key)} and {_entry('s', key)} are the same array: give each its own np.zeros(...)"
            for key in ADAM_STATE_SHAPES
            if np.shares_memory(v[key], s[key])
        ]

    checks = _dict_checks(name, initialize_adam_test_case, outputs)
    checks += [separate, _leaves_parameters_alone(name, initialize_adam_test_case)]
    _run(name, target, checks)


# ----------------------------------------------------------------------------
# Exercise 4: update_parameters_with_momentum
# ----------------------------------------------------------------------------

MOMENTUM_PARAMETERS = {
    "W1": [[1.62522322, -0.61179863, -0.52875457], [-1.071868, 0.86426291, -2.30244029]],
    "b1": [[1.74430927], [-0.76210776]],
    "W2": [[0.31972282, -0.24924749], [1.46304371, -2.05987282], [-0.32294756, -0.38336269]],
    "b2": [[1.1341662], [-1.09920409], [-0.171583]],
}
MOMENTUM_V = {
    "dW1": [[-0.08778584, 0.00422137, 0.05828152], [-0.11006192, 0.11447237, 0.09015907]],
    "db1": [[0.05024943], [0.09008559]],
    "dW2": [[-0.06837279, -0.01228902], [-0.09357694, -0.02678881], [0.05303555, -0.06916608]],
    "db2": [[-0.03967535], [-0.06871727], [-0.08452056]],
}


def update_parameters_with_momentum_test(target):
    """Check ``update_parameters_with_momentum`` on Recipe A, zero velocity, beta 0.9, rate 0.01."""
    name = "update_parameters_with_momentum"
    outputs = [
        _Output("parameters", RECIPE_A_SHAPES, MOMENTUM_PARAMETERS),
        _Output("v", _state_shapes(RECIPE_A_SHAPES), MOMENTUM_V),
    ]
    _run(name, target, _dict_checks(name, update_parameters_with_momentum_test_case, outputs))


# ----------------------------------------------------------------------------
# Exercise 6: update_parameters_with_adam
# ----------------------------------------------------------------------------

ADAM_PARAMETERS = {
    "W1": [[1.63937725, -0.62327448, -0.54308727], [-1.0578897, 0.85032154, -2.31657668]],
    "b1": [[1.72995096], [-0.7762447]],
    "W2": [[0.33400549, -0.23563857], [1.47715417, -2.04561842], [-0.33729882, -0.36908457]],
    "b2": [[1.14852557], [-1.08492339], [-0.15740527]],
}
ADAM_V_FIRST_ROWS = {
    "dW1": [-0.17557168, 0.00844275, 0.11656304],
    "db1": [0.10049887],
    "dW2": [-0.13674557, -0.02457805],
    "db2": [-0.07935071],
}
ADAM_S_FIRST_ROWS = {
    "dW1": [0.08631117, 0.00019958, 0.03804344],
    "db1": [0.02828006],
    "dW2": [0.05235818, 0.00169142],
    "db2": [0.0176303],
}
ADAM_BETA1, ADAM_BETA2, ADAM_T = 0.8, 0.888, 2  # as in update_parameters_with_adam_test_case


def _scaled(rows, factor):
    """Each expected row multiplied by ``factor``."""
    return {key: np.multiply(row, factor) for key, row in rows.items()}


def update_parameters_with_adam_test(target):
    """Check ``update_parameters_with_adam`` on Recipe A, zero v and s, t = 2, beta1 0.8, beta2 0.888."""
    name = "update_parameters_with_adam"
    state_shapes = _state_shapes(RECIPE_A_SHAPES)
    v_corrected = _scaled(ADAM_V_FIRST_ROWS, 1 / (1 - ADAM_BETA1**ADAM_T))
    s_corrected = _scaled(ADAM_S_FIRST_ROWS, 1 / (1 - ADAM_BETA2**ADAM_T))
    outputs = [
        _Output("parameters", RECIPE_A_SHAPES, ADAM_PARAMETERS),
        _Output("v", state_shapes, ADAM_V_FIRST_ROWS, first_row=True),
        _Output("s", state_shapes, ADAM_S_FIRST_ROWS, first_row=True),
        _Output("v_corrected", state_shapes, v_corrected, first_row=True),
        _Output("s_corrected", state_shapes, s_corrected, first_row=True),
    ]
    _run(name, target, _dict_checks(name, update_parameters_with_adam_test_case, outputs))


# ----------------------------------------------------------------------------
# Exercises 7 and 8: update_lr, schedule_lr_decay
# ----------------------------------------------------------------------------


def _call_text(name, arg_names, args):
    """How a call reads in messages, e.g. update_lr(learning_rate0=0.5, ...)."""
    return f"{name}({', '.join(f'{arg}={value!r}' for arg, value in zip(arg_names, args, strict=True))})"


def _rate_checks(name, arg_names, cases, expected_rates):
    """Checks that ``name(*case)`` returns a number (first case), equal to the expected rate (each case)."""

    def returns_number(call):
        got = call(*cases[0])
        if isinstance(got, (bool, np.bool_)) or not isinstance(got, numbers.Real):
            call_text = _call_text(name, arg_names, cases[0])
            return [f"{call_text} should return a number but returned {_kind(got)}"]
        return []

    def value_check(args, expected):
        def check(call):
            got = call(*args)
            if not math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-12):
                call_text = _call_text(name, arg_names, args)
                return [f"{call_text} returned {_fmt(got)} but should return {_fmt(expected)}"]
            return []

        return check

    pairs = zip(cases, expected_rates, strict=True)
    return [returns_number] + [value_check(args, expected) for args, expected in pairs]


UPDATE_LR_ARGS = ("learning_rate0", "epoch_num", "decay_rate")
UPDATE_LR_EXPECTED = 0.16666666666666666
SCHEDULE_ARGS = (*UPDATE_LR_ARGS, "time_interval")
SCHEDULE_EXPECTED = [0.25, 0.5, 0.3 / 3.5, 0.24, 0.3846153846153846]


def update_lr_test(target):
    """Check ``update_lr`` on (0.5, epoch 2, decay rate 1)."""
    name = "update_lr"
    _run(name, target, _rate_checks(name, UPDATE_LR_ARGS, [update_lr_test_case()], [UPDATE_LR_EXPECTED]))


def schedule_lr_decay_test(target):
    """Check ``schedule_lr_decay`` on five cases, decaying every 100 epochs."""
    name = "schedule_lr_decay"
    _run(name, target, _rate_checks(name, SCHEDULE_ARGS, schedule_lr_decay_test_cases(), SCHEDULE_EXPECTED))
