"""The notebook's public tests (utils/public_tests.py) and their inputs (utils/testCases.py).

They must pass the master notebook's reference solutions, reject each plausible
wrong implementation of the mutants catalogue (hidden_tests/optimization_methods/mutants.py) with a message naming
the problem, and fail cleanly (one AssertionError, a readable message) on
stubs, wrong return types and exceptions raised by student code.
"""

import numpy as np
import public_tests
import pytest
import testCases

from autograder.mutants import load_catalogue
from autograder.notebook.assignment import load_assignment

WRONG = load_catalogue().WRONG
EXERCISES = list(load_assignment().names)  # from the master notebook

GREEN_PASS = "\033[92mAll tests passed!"
RED = "\033[91m"

# A distinctive fragment of what the public test prints for each wrong implementation.
EXPECTED_MESSAGE = {
    "gd_sign_flipped": 'Wrong value for parameters["W1"]: expected [[1.63312395, -0.61217855',
    "gd_forgets_b": 'Wrong value for parameters["b1"]',
    "gd_only_first_layers": 'Wrong value for parameters["W2"]',
    "gd_counts_layers_wrong": "update_parameters_with_gd raised KeyError: 'W3' (line",
    "rmb_no_shuffle": "The mini-batches hold the examples in their original order",
    "rmb_different_permutations": "shuffle X and Y with the same permutation",
    "rmb_drops_last_batch": "returned 3 mini-batches for m = 7 examples and mini_batch_size = 2 but should return 4",
    "rmb_slices_rows": "mini_batch_X of mini_batches[0] has shape (2, 7) but should be (5, 2)",
    "rmb_examples_are_rows": "random_mini_batches raised IndexError",
    "rmb_end_off_by_one": "mini_batch_X of mini_batches[0] has shape (12288, 63) but should be (12288, 64)",
    "rmb_start_off_by_one": "Wrong value for mini_batches[0][0][0][0:3]: expected [294912, 86016, 454656]",
    "rmb_last_batch_off_by_one": "Each example (column) of X should be in exactly one mini-batch",
    "rmb_flat_labels": "mini_batch_Y of mini_batches[0] has shape (2,) but should be (1, 2)",
    "velocity_one_dimensional": 'v["db1"] has shape (3,) but should be (3, 1)',
    "velocity_parameter_keys": "but should have exactly the keys ['dW1', 'db1', 'dW2', 'db2']",
    "velocity_ones": 'Wrong value for v["dW1"]: expected [[0.0, 0.0]',
    "velocity_integer_zeros": 'v["dW1"] has dtype int64 but should hold floats',
    "velocity_first_layer_only": "(missing ['dW2', 'db2'])",
    "velocity_zeroes_parameters": 'initialize_velocity changed parameters["W1"]',
    "momentum_beta_swapped": 'Wrong value for v["dW1"]: expected [[-0.08778584',
    "momentum_v_not_stored": 'v["dW1"] is still all zeros',
    "momentum_steps_with_gradient": 'Wrong value for parameters["W1"]: expected [[1.62522322',
    "momentum_steps_with_old_velocity": 'Wrong value for parameters["b2"]',
    "adam_init_one_dimensional": 's["db2"] has shape (3,) but should be (3, 1)',
    "adam_init_parameter_keys": "s has keys ['W1', 'b1', 'W2', 'b2']",
    "adam_init_ones": 'Wrong value for s["dW1"]',
    "adam_init_same_dict": "returned the same dict for v and s",
    "adam_init_shared_arrays": 'v["dW1"] and s["dW1"] are the same array',
    "adam_no_bias_correction": 'Wrong value for v_corrected["dW1"][0] (first row)',
    "adam_epsilon_inside_sqrt": 'Wrong value for parameters["W1"]: expected [[1.63937725',
    "adam_beta1_for_s": 'Wrong value for s["dW1"][0] (first row): expected [0.08631117',
    "adam_t_plus_one": 'Wrong value for s_corrected["dW1"][0] (first row)',
    "adam_not_squared": 'Wrong value for s["db2"][0] (first row)',
    "adam_uncorrected_step": 'Wrong value for parameters["b1"]',
    "update_lr_multiplies": "returned 1.5 but should return 0.16666666666666666",
    "update_lr_epoch_plus_one": "returned 0.125 but should return 0.16666666666666666",
    "update_lr_precedence": "returned 2.5 but should return",
    "schedule_no_floor": "epoch_num=10, decay_rate=1, time_interval=100) returned 0.45454545454545453",
    "schedule_update_lr_formula": "epoch_num=100, decay_rate=1, time_interval=100) returned 0.0049504950495049506",
    "schedule_integer_division": "returned 0.0 but should return 0.25",
    "schedule_ceil": "epoch_num=10, decay_rate=1, time_interval=100) returned 0.25 but should return 0.5",
}

WRONG_CASES = [
    pytest.param(exercise, wrong, id=wrong.__name__) for exercise, wrongs in WRONG.items() for wrong in wrongs
]


def public_test(exercise):
    """The public test the notebook runs after ``exercise``."""
    return getattr(public_tests, exercise + "_test")


def run_failing(exercise, function, capsys):
    """Run the public test of ``exercise`` on ``function``; it must fail. Return (printed, AssertionError)."""
    with pytest.raises(AssertionError, match=rf"^\d+ of \d+ checks failed for {exercise}: see the messages above$"):
        public_test(exercise)(function)
    printed = capsys.readouterr().out
    assert "All tests passed" not in printed
    assert RED in printed
    return printed


# ----------------------------------------------------------------------------
# The reference solutions pass
# ----------------------------------------------------------------------------


def test_every_exercise_has_a_public_test_and_wrong_implementations(assignment):
    names = [exercise.name for exercise in assignment.exercises]
    assert names == EXERCISES == list(WRONG)
    assert sorted(public_tests.__all__) == sorted(name + "_test" for name in names)


@pytest.mark.parametrize("exercise", EXERCISES)
def test_reference_passes(exercise, reference, capsys):
    public_test(exercise)(reference[exercise])
    printed = capsys.readouterr().out
    assert printed.strip() == GREEN_PASS + "\033[0m"


# ----------------------------------------------------------------------------
# Wrong implementations fail, with a message naming the problem
# ----------------------------------------------------------------------------


def test_every_wrong_implementation_has_an_expected_message():
    names = [wrong.__name__ for wrongs in WRONG.values() for wrong in wrongs]
    assert sorted(names) == sorted(EXPECTED_MESSAGE)
    for wrongs in WRONG.values():
        for wrong in wrongs:
            assert wrong.__doc__, f"{wrong.__name__} should name its misconception in a docstring"


@pytest.mark.parametrize(("exercise", "wrong"), WRONG_CASES)
def test_wrong_implementation_fails(exercise, wrong, capsys):
    printed = run_failing(exercise, wrong, capsys)
    assert EXPECTED_MESSAGE[wrong.__name__] in printed


# ----------------------------------------------------------------------------
# Stubs, wrong return types, exceptions
# ----------------------------------------------------------------------------


def _raises(error):
    def function(*args, **kwargs):
        raise error

    return function


@pytest.mark.parametrize("exercise", EXERCISES)
def test_stub_is_reported_as_not_implemented(exercise, capsys):
    stub = _raises(NotImplementedError("Replace this line with your code"))
    with pytest.raises(AssertionError) as excinfo:
        public_test(exercise)(stub)
    printed = capsys.readouterr().out
    expected = f'{exercise} is not implemented yet: replace the "raise NotImplementedError" line(s) with your code'
    assert expected in printed
    assert printed.count("not implemented yet") == 1
    assert "Traceback" not in printed
    error = excinfo.value
    assert str(error).startswith(f"{_total(exercise)} of {_total(exercise)} checks failed")
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__


def _total(exercise):
    """How many checks the public test of ``exercise`` runs (read from its message on a stub)."""
    try:
        public_test(exercise)(_raises(NotImplementedError()))
    except AssertionError as error:
        return int(str(error).split()[0])
    raise AssertionError("the stub passed")


@pytest.mark.parametrize("exercise", EXERCISES)
def test_returning_none_is_reported(exercise, capsys):
    printed = run_failing(exercise, lambda *args, **kwargs: None, capsys)
    assert "returned None (is a return statement missing?)" in printed
    assert "Could not check" not in printed


LIST_MESSAGES = {
    "update_parameters_with_gd": "should return parameters (a dict) but returned a list of 3 items",
    "random_mini_batches": "mini_batches[0] should be a tuple (mini_batch_X, mini_batch_Y) but is an int (1)",
    "initialize_velocity": "should return v (a dict) but returned a list of 3 items",
    "update_parameters_with_momentum": "should return 2 values (parameters, v) but returned a list of 3 items",
    "initialize_adam": "should return 2 values (v, s) but returned a list of 3 items",
    "update_parameters_with_adam": (
        "should return 5 values (parameters, v, s, v_corrected, s_corrected) but returned a list of 3 items"
    ),
    "update_lr": "should return a number but returned a list of 3 items",
    "schedule_lr_decay": "should return a number but returned a list of 3 items",
}


@pytest.mark.parametrize("exercise", EXERCISES)
def test_returning_a_list_is_reported(exercise, capsys):
    printed = run_failing(exercise, lambda *args, **kwargs: [1, 2, 3], capsys)
    assert LIST_MESSAGES[exercise] in printed
    assert "Could not check" not in printed


def test_other_exceptions_are_reported_with_type_and_message(capsys):
    printed = run_failing("update_lr", _raises(ZeroDivisionError("float division by zero")), capsys)
    assert "update_lr raised ZeroDivisionError: float division by zero" in printed
    assert "Traceback" not in printed


def test_unexpected_results_do_not_crash_the_test(capsys):
    def strange(parameters, grads, learning_rate):
        return {key: "not an array" for key in parameters}

    printed = run_failing("update_parameters_with_gd", strange, capsys)
    assert 'parameters["W1"] should be a numpy array but is a str' in printed


# ----------------------------------------------------------------------------
# Correct variants pass: the tests check behaviour, not one way of writing it
# ----------------------------------------------------------------------------


def gd_in_place(parameters, grads, learning_rate):
    for key in list(parameters):
        parameters[key] -= learning_rate * grads["d" + key]
    return parameters


def momentum_in_place(parameters, grads, v, beta, learning_rate):
    for key in list(parameters):
        v["d" + key] *= beta
        v["d" + key] += (1 - beta) * grads["d" + key]
        parameters[key] -= learning_rate * v["d" + key]
    return parameters, v


def velocity_zeros_like(parameters):
    return {"d" + key: np.zeros_like(value) for key, value in parameters.items()}


def adam_init_zeros_like(parameters):
    return velocity_zeros_like(parameters), velocity_zeros_like(parameters)


def schedule_np_floor(learning_rate0, epoch_num, decay_rate, time_interval=1000):
    return learning_rate0 / (1 + decay_rate * np.floor(epoch_num / time_interval))


@pytest.mark.parametrize(
    ("exercise", "variant"),
    [
        ("update_parameters_with_gd", gd_in_place),
        ("update_parameters_with_momentum", momentum_in_place),
        ("initialize_velocity", velocity_zeros_like),
        ("initialize_adam", adam_init_zeros_like),
        ("schedule_lr_decay", schedule_np_floor),
    ],
)
def test_correct_variants_pass(exercise, variant, capsys):
    public_test(exercise)(variant)
    assert "All tests passed" in capsys.readouterr().out


# ----------------------------------------------------------------------------
# testCases
# ----------------------------------------------------------------------------


def test_test_cases_export_only_case_functions():
    assert all(name.endswith(("_test_case", "_test_cases")) for name in testCases.__all__)
    namespace = {}
    exec("from testCases import *", namespace)
    assert sorted(key for key in namespace if key != "__builtins__") == sorted(testCases.__all__)


def test_test_cases_are_fresh_on_every_call():
    parameters, grads, _ = testCases.update_parameters_with_gd_test_case()
    parameters["W1"][...] = 0
    grads.clear()
    again, grads_again, _ = testCases.update_parameters_with_gd_test_case()
    assert again["W1"].any()
    assert set(grads_again) == {"dW1", "db1", "dW2", "db2"}


def test_recipe_a_shapes_and_state():
    parameters, grads, v, s, t, learning_rate, beta1, beta2, epsilon = (
        testCases.update_parameters_with_adam_test_case()
    )
    assert {key: value.shape for key, value in parameters.items()} == {
        "W1": (2, 3), "b1": (2, 1), "W2": (3, 2), "b2": (3, 1),
    }
    assert {key: value.shape for key, value in grads.items()} == {
        "dW1": (2, 3), "db1": (2, 1), "dW2": (3, 2), "db2": (3, 1),
    }
    assert v is not s and all(not v[key].any() and not s[key].any() for key in grads)
    assert (t, learning_rate, beta1, beta2, epsilon) == (2, 0.02, 0.8, 0.888, 1e-2)


def test_large_mini_batch_case_matches_the_seed_notes():
    X, Y, mini_batch_size = testCases.random_mini_batches_large_test_case()
    nx, m = 12288, 148
    assert X.shape == (nx, m) and Y.shape == (1, m) and Y.dtype == bool and mini_batch_size == 64
    assert np.issubdtype(X.dtype, np.integer)
    # The seed notes' construction, on a slice to keep it cheap: X[i, j] = j * nx + i.
    assert X[5, 7] == 7 * nx + 5 and X[-1, -1] == nx * m - 1
