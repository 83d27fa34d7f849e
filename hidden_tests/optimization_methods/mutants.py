"""The assignment's catalogue of mutants: plausible wrong implementations, one mistake each, and correct variants.

Every wrong function has the graded function's signature and a docstring naming
the mistake it makes.  ``WRONG`` groups them by exercise, in notebook order;
``NAMED`` gives, for those whose mistake is a known misconception of the hidden
tests, a fragment of that misconception's description (the feedback must name
it); ``CORRECT_VARIANTS`` are right answers written unlike the reference;
``DEMO_MISTAKES`` the two mistakes of the demo's "typical mistakes" sample.
``python -m autograder mutants`` grades them all through the real grader; the
kit's tests check the public and hidden tests against them.
"""

import math

import numpy as np

# ----------------------------------------------------------------------------
# Exercise 1: update_parameters_with_gd
# ----------------------------------------------------------------------------


def gd_sign_flipped(parameters, grads, learning_rate):
    """Climbs the gradient: W += alpha * dW instead of W -= alpha * dW."""
    L = len(parameters) // 2
    for l in range(1, L + 1):
        parameters["W" + str(l)] = parameters["W" + str(l)] + learning_rate * grads["dW" + str(l)]
        parameters["b" + str(l)] = parameters["b" + str(l)] + learning_rate * grads["db" + str(l)]
    return parameters


def gd_forgets_b(parameters, grads, learning_rate):
    """Updates the weights W but forgets the biases b."""
    L = len(parameters) // 2
    for l in range(1, L + 1):
        parameters["W" + str(l)] = parameters["W" + str(l)] - learning_rate * grads["dW" + str(l)]
    return parameters


def gd_only_first_layers(parameters, grads, learning_rate):
    """Loops over range(1, L) and so never updates the last layer."""
    L = len(parameters) // 2
    for l in range(1, L):
        parameters["W" + str(l)] = parameters["W" + str(l)] - learning_rate * grads["dW" + str(l)]
        parameters["b" + str(l)] = parameters["b" + str(l)] - learning_rate * grads["db" + str(l)]
    return parameters


def gd_counts_layers_wrong(parameters, grads, learning_rate):
    """Takes L = len(parameters) (4 entries, not 2 layers) and looks up layers that don't exist."""
    L = len(parameters)
    for l in range(1, L + 1):
        parameters["W" + str(l)] = parameters["W" + str(l)] - learning_rate * grads["dW" + str(l)]
        parameters["b" + str(l)] = parameters["b" + str(l)] - learning_rate * grads["db" + str(l)]
    return parameters


# ----------------------------------------------------------------------------
# Exercise 2: random_mini_batches
# ----------------------------------------------------------------------------


def _partition(shuffled_X, shuffled_Y, mini_batch_size):
    """The correct partition of already shuffled data (used by the shuffling mistakes)."""
    m = shuffled_X.shape[1]
    mini_batches = []
    for k in range(math.ceil(m / mini_batch_size)):
        columns = slice(k * mini_batch_size, (k + 1) * mini_batch_size)
        mini_batches.append((shuffled_X[:, columns], shuffled_Y[:, columns]))
    return mini_batches


def rmb_no_shuffle(X, Y, mini_batch_size=64, seed=0):
    """Partitions X and Y in their original order, skipping the shuffle."""
    return _partition(X, Y, mini_batch_size)


def rmb_different_permutations(X, Y, mini_batch_size=64, seed=0):
    """Shuffles X and Y with two different permutations, so labels no longer match examples."""
    np.random.seed(seed)
    m = X.shape[1]
    shuffled_X = X[:, list(np.random.permutation(m))]
    shuffled_Y = Y[:, list(np.random.permutation(m))].reshape((1, m))
    return _partition(shuffled_X, shuffled_Y, mini_batch_size)


def rmb_drops_last_batch(X, Y, mini_batch_size=64, seed=0):
    """Keeps only the complete mini-batches and drops the last, smaller one."""
    np.random.seed(seed)
    m = X.shape[1]
    permutation = list(np.random.permutation(m))
    shuffled_X, shuffled_Y = X[:, permutation], Y[:, permutation].reshape((1, m))
    mini_batches = []
    for k in range(math.floor(m / mini_batch_size)):
        columns = slice(k * mini_batch_size, (k + 1) * mini_batch_size)
        mini_batches.append((shuffled_X[:, columns], shuffled_Y[:, columns]))
    return mini_batches


def rmb_slices_rows(X, Y, mini_batch_size=64, seed=0):
    """Cuts the mini-batches out of the rows (features) instead of the columns (examples)."""
    np.random.seed(seed)
    m = X.shape[1]
    permutation = list(np.random.permutation(m))
    shuffled_X, shuffled_Y = X[:, permutation], Y[:, permutation].reshape((1, m))
    mini_batches = []
    for k in range(math.ceil(m / mini_batch_size)):
        rows = slice(k * mini_batch_size, (k + 1) * mini_batch_size)
        mini_batches.append((shuffled_X[rows, :], shuffled_Y[:, rows]))
    return mini_batches


def rmb_examples_are_rows(X, Y, mini_batch_size=64, seed=0):
    """Takes m = X.shape[0], as if examples were rows, and shuffles that many columns."""
    np.random.seed(seed)
    m = X.shape[0]
    permutation = list(np.random.permutation(m))
    shuffled_X, shuffled_Y = X[:, permutation], Y[:, permutation].reshape((1, m))
    return _partition(shuffled_X, shuffled_Y, mini_batch_size)


def rmb_end_off_by_one(X, Y, mini_batch_size=64, seed=0):
    """Ends each full mini-batch at (k + 1) * size - 1, as if slice ends were inclusive."""
    np.random.seed(seed)
    m = X.shape[1]
    permutation = list(np.random.permutation(m))
    shuffled_X, shuffled_Y = X[:, permutation], Y[:, permutation].reshape((1, m))
    num_complete = math.floor(m / mini_batch_size)
    mini_batches = []
    for k in range(num_complete):
        columns = slice(k * mini_batch_size, (k + 1) * mini_batch_size - 1)
        mini_batches.append((shuffled_X[:, columns], shuffled_Y[:, columns]))
    if m % mini_batch_size != 0:
        columns = slice(num_complete * mini_batch_size, m)
        mini_batches.append((shuffled_X[:, columns], shuffled_Y[:, columns]))
    return mini_batches


def rmb_start_off_by_one(X, Y, mini_batch_size=64, seed=0):
    """Shifts every full mini-batch one column right: k * size + 1 to (k + 1) * size + 1."""
    np.random.seed(seed)
    m = X.shape[1]
    permutation = list(np.random.permutation(m))
    shuffled_X, shuffled_Y = X[:, permutation], Y[:, permutation].reshape((1, m))
    num_complete = math.floor(m / mini_batch_size)
    mini_batches = []
    for k in range(num_complete):
        columns = slice(k * mini_batch_size + 1, (k + 1) * mini_batch_size + 1)
        mini_batches.append((shuffled_X[:, columns], shuffled_Y[:, columns]))
    if m % mini_batch_size != 0:
        columns = slice(num_complete * mini_batch_size, m)
        mini_batches.append((shuffled_X[:, columns], shuffled_Y[:, columns]))
    return mini_batches


def rmb_last_batch_off_by_one(X, Y, mini_batch_size=64, seed=0):
    """Starts the last mini-batch one column late, losing an example."""
    np.random.seed(seed)
    m = X.shape[1]
    permutation = list(np.random.permutation(m))
    shuffled_X, shuffled_Y = X[:, permutation], Y[:, permutation].reshape((1, m))
    num_complete = math.floor(m / mini_batch_size)
    mini_batches = _partition(shuffled_X[:, : num_complete * mini_batch_size],
                              shuffled_Y[:, : num_complete * mini_batch_size], mini_batch_size)
    if m % mini_batch_size != 0:
        columns = slice(num_complete * mini_batch_size + 1, m)
        mini_batches.append((shuffled_X[:, columns], shuffled_Y[:, columns]))
    return mini_batches


def rmb_flat_labels(X, Y, mini_batch_size=64, seed=0):
    """Indexes Y as Y[0, permutation], so the label mini-batches are 1-D, shape (k,) not (1, k)."""
    np.random.seed(seed)
    m = X.shape[1]
    permutation = list(np.random.permutation(m))
    shuffled_X, shuffled_Y = X[:, permutation], Y[0, permutation]
    mini_batches = []
    for k in range(math.ceil(m / mini_batch_size)):
        columns = slice(k * mini_batch_size, (k + 1) * mini_batch_size)
        mini_batches.append((shuffled_X[:, columns], shuffled_Y[columns]))
    return mini_batches


# ----------------------------------------------------------------------------
# Exercise 3: initialize_velocity
# ----------------------------------------------------------------------------


def velocity_one_dimensional(parameters):
    """Uses np.zeros(n) with the number of rows, giving 1-D arrays instead of the parameters' shapes."""
    L = len(parameters) // 2
    v = {}
    for l in range(1, L + 1):
        v["dW" + str(l)] = np.zeros(parameters["W" + str(l)].shape[0])
        v["db" + str(l)] = np.zeros(parameters["b" + str(l)].shape[0])
    return v


def velocity_parameter_keys(parameters):
    """Keys the velocity like the parameters ("W1") instead of like the gradients ("dW1")."""
    L = len(parameters) // 2
    v = {}
    for l in range(1, L + 1):
        v["W" + str(l)] = np.zeros(parameters["W" + str(l)].shape)
        v["b" + str(l)] = np.zeros(parameters["b" + str(l)].shape)
    return v


def velocity_ones(parameters):
    """Starts the velocity at ones instead of zeros."""
    L = len(parameters) // 2
    v = {}
    for l in range(1, L + 1):
        v["dW" + str(l)] = np.ones(parameters["W" + str(l)].shape)
        v["db" + str(l)] = np.ones(parameters["b" + str(l)].shape)
    return v


def velocity_integer_zeros(parameters):
    """Creates integer zeros (dtype=int), so later in-place float updates are truncated."""
    L = len(parameters) // 2
    v = {}
    for l in range(1, L + 1):
        v["dW" + str(l)] = np.zeros(parameters["W" + str(l)].shape, dtype=int)
        v["db" + str(l)] = np.zeros(parameters["b" + str(l)].shape, dtype=int)
    return v


def velocity_first_layer_only(parameters):
    """Loops over range(1, L), leaving out the last layer's velocity."""
    L = len(parameters) // 2
    v = {}
    for l in range(1, L):
        v["dW" + str(l)] = np.zeros(parameters["W" + str(l)].shape)
        v["db" + str(l)] = np.zeros(parameters["b" + str(l)].shape)
    return v


def velocity_zeroes_parameters(parameters):
    """Reuses the parameter arrays and zeroes them in place, wiping out the parameters."""
    L = len(parameters) // 2
    v = {}
    for l in range(1, L + 1):
        for name in ("W", "b"):
            v["d" + name + str(l)] = parameters[name + str(l)]
            v["d" + name + str(l)][...] = 0
    return v


# ----------------------------------------------------------------------------
# Exercise 4: update_parameters_with_momentum
# ----------------------------------------------------------------------------


def momentum_beta_swapped(parameters, grads, v, beta, learning_rate):
    """Swaps beta and 1 - beta: v = (1 - beta) * v + beta * dW."""
    L = len(parameters) // 2
    for l in range(1, L + 1):
        for name in ("W", "b"):
            key = "d" + name + str(l)
            v[key] = (1 - beta) * v[key] + beta * grads[key]
            parameters[name + str(l)] = parameters[name + str(l)] - learning_rate * v[key]
    return parameters, v


def momentum_v_not_stored(parameters, grads, v, beta, learning_rate):
    """Computes the new velocity in a local variable but never stores it in v."""
    L = len(parameters) // 2
    for l in range(1, L + 1):
        for name in ("W", "b"):
            key = "d" + name + str(l)
            velocity = beta * v[key] + (1 - beta) * grads[key]
            parameters[name + str(l)] = parameters[name + str(l)] - learning_rate * velocity
    return parameters, v


def momentum_steps_with_gradient(parameters, grads, v, beta, learning_rate):
    """Updates v but steps the parameters with the raw gradient dW instead of v."""
    L = len(parameters) // 2
    for l in range(1, L + 1):
        for name in ("W", "b"):
            key = "d" + name + str(l)
            v[key] = beta * v[key] + (1 - beta) * grads[key]
            parameters[name + str(l)] = parameters[name + str(l)] - learning_rate * grads[key]
    return parameters, v


def momentum_steps_with_old_velocity(parameters, grads, v, beta, learning_rate):
    """Steps the parameters with the velocity before updating it (the previous step's v)."""
    L = len(parameters) // 2
    for l in range(1, L + 1):
        for name in ("W", "b"):
            key = "d" + name + str(l)
            parameters[name + str(l)] = parameters[name + str(l)] - learning_rate * v[key]
            v[key] = beta * v[key] + (1 - beta) * grads[key]
    return parameters, v


# ----------------------------------------------------------------------------
# Exercise 5: initialize_adam
# ----------------------------------------------------------------------------


def adam_init_one_dimensional(parameters):
    """Uses np.zeros(n) with the number of rows, giving 1-D arrays instead of the parameters' shapes."""
    return velocity_one_dimensional(parameters), velocity_one_dimensional(parameters)


def adam_init_parameter_keys(parameters):
    """Keys v and s like the parameters ("W1") instead of like the gradients ("dW1")."""
    return velocity_parameter_keys(parameters), velocity_parameter_keys(parameters)


def adam_init_ones(parameters):
    """Starts v and s at ones instead of zeros."""
    return velocity_ones(parameters), velocity_ones(parameters)


def adam_init_same_dict(parameters):
    """Writes v = s = {}: one dict under two names, so updating s overwrites v."""
    L = len(parameters) // 2
    v = s = {}
    for l in range(1, L + 1):
        v["dW" + str(l)] = np.zeros(parameters["W" + str(l)].shape)
        v["db" + str(l)] = np.zeros(parameters["b" + str(l)].shape)
    return v, s


def adam_init_shared_arrays(parameters):
    """Puts the same zero array in v and s (v[k] = s[k] = np.zeros(...)), so in-place updates leak."""
    L = len(parameters) // 2
    v, s = {}, {}
    for l in range(1, L + 1):
        for name in ("W", "b"):
            key = "d" + name + str(l)
            v[key] = s[key] = np.zeros(parameters[name + str(l)].shape)
    return v, s


# ----------------------------------------------------------------------------
# Exercise 6: update_parameters_with_adam
# ----------------------------------------------------------------------------


def _adam(parameters, grads, v, s, t, learning_rate, beta1, beta2, epsilon, *, correct_v=True,
          correct_s=True, t_correction=0, eps_inside=False, s_beta=None, square=True,
          step_uncorrected=False):
    """Adam with switches for the mistakes below (all off: the correct update)."""
    s_beta = beta2 if s_beta is None else s_beta
    L = len(parameters) // 2
    v_corrected, s_corrected = {}, {}
    for l in range(1, L + 1):
        for name in ("W", "b"):
            key = "d" + name + str(l)
            grad = grads[key]
            v[key] = beta1 * v[key] + (1 - beta1) * grad
            v_corrected[key] = v[key] / (1 - beta1 ** (t + t_correction)) if correct_v else v[key]
            s[key] = s_beta * s[key] + (1 - s_beta) * (np.square(grad) if square else grad)
            s_corrected[key] = s[key] / (1 - beta2 ** (t + t_correction)) if correct_s else s[key]
            first, second = (v[key], s[key]) if step_uncorrected else (v_corrected[key], s_corrected[key])
            denominator = np.sqrt(second + epsilon) if eps_inside else np.sqrt(second) + epsilon
            step = first / denominator
            parameters[name + str(l)] = parameters[name + str(l)] - learning_rate * step
    return parameters, v, s, v_corrected, s_corrected


def adam_no_bias_correction(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999,
                            epsilon=1e-8):
    """Skips the bias correction: v_corrected = v and s_corrected = s."""
    return _adam(parameters, grads, v, s, t, learning_rate, beta1, beta2, epsilon,
                 correct_v=False, correct_s=False)


def adam_epsilon_inside_sqrt(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999,
                             epsilon=1e-8):
    """Divides by sqrt(s_corrected + epsilon) instead of sqrt(s_corrected) + epsilon."""
    return _adam(parameters, grads, v, s, t, learning_rate, beta1, beta2, epsilon, eps_inside=True)


def adam_beta1_for_s(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999,
                     epsilon=1e-8):
    """Averages the squared gradients with beta1 instead of beta2."""
    return _adam(parameters, grads, v, s, t, learning_rate, beta1, beta2, epsilon, s_beta=beta1)


def adam_t_plus_one(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999,
                    epsilon=1e-8):
    """Bias-corrects with beta ** (t + 1), as if t counted from 0."""
    return _adam(parameters, grads, v, s, t, learning_rate, beta1, beta2, epsilon, t_correction=1)


def adam_not_squared(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999,
                     epsilon=1e-8):
    """Averages the gradients themselves into s instead of their squares."""
    with np.errstate(invalid="ignore"):  # sqrt of the resulting negative entries
        return _adam(parameters, grads, v, s, t, learning_rate, beta1, beta2, epsilon, square=False)


def adam_uncorrected_step(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999,
                          epsilon=1e-8):
    """Computes v_corrected and s_corrected but steps the parameters with the uncorrected v and s."""
    return _adam(parameters, grads, v, s, t, learning_rate, beta1, beta2, epsilon, step_uncorrected=True)


# ----------------------------------------------------------------------------
# Exercises 7 and 8: update_lr, schedule_lr_decay
# ----------------------------------------------------------------------------


def update_lr_multiplies(learning_rate0, epoch_num, decay_rate):
    """Multiplies by (1 + decay_rate * epoch_num) instead of dividing: the rate grows."""
    return learning_rate0 * (1 + decay_rate * epoch_num)


def update_lr_epoch_plus_one(learning_rate0, epoch_num, decay_rate):
    """Counts epochs from 1: uses epoch_num + 1."""
    return learning_rate0 / (1 + decay_rate * (epoch_num + 1))


def update_lr_precedence(learning_rate0, epoch_num, decay_rate):
    """Drops the parentheses: learning_rate0 / 1 + decay_rate * epoch_num."""
    return learning_rate0 / 1 + decay_rate * epoch_num


def schedule_no_floor(learning_rate0, epoch_num, decay_rate, time_interval=1000):
    """Forgets the floor: decays continuously by epoch_num / time_interval."""
    return learning_rate0 / (1 + decay_rate * (epoch_num / time_interval))


def schedule_update_lr_formula(learning_rate0, epoch_num, decay_rate, time_interval=1000):
    """Reuses update_lr's formula and ignores time_interval."""
    return learning_rate0 / (1 + decay_rate * epoch_num)


def schedule_integer_division(learning_rate0, epoch_num, decay_rate, time_interval=1000):
    """Divides the learning rate with // (floor division), which rounds it down to a whole number."""
    return learning_rate0 // (1 + decay_rate * math.floor(epoch_num / time_interval))


def schedule_ceil(learning_rate0, epoch_num, decay_rate, time_interval=1000):
    """Rounds the number of intervals up (math.ceil) instead of down."""
    return learning_rate0 / (1 + decay_rate * math.ceil(epoch_num / time_interval))


WRONG = {
    "update_parameters_with_gd": [
        gd_sign_flipped,
        gd_forgets_b,
        gd_only_first_layers,
        gd_counts_layers_wrong,
    ],
    "random_mini_batches": [
        rmb_no_shuffle,
        rmb_different_permutations,
        rmb_drops_last_batch,
        rmb_slices_rows,
        rmb_examples_are_rows,
        rmb_end_off_by_one,
        rmb_start_off_by_one,
        rmb_last_batch_off_by_one,
        rmb_flat_labels,
    ],
    "initialize_velocity": [
        velocity_one_dimensional,
        velocity_parameter_keys,
        velocity_ones,
        velocity_integer_zeros,
        velocity_first_layer_only,
        velocity_zeroes_parameters,
    ],
    "update_parameters_with_momentum": [
        momentum_beta_swapped,
        momentum_v_not_stored,
        momentum_steps_with_gradient,
        momentum_steps_with_old_velocity,
    ],
    "initialize_adam": [
        adam_init_one_dimensional,
        adam_init_parameter_keys,
        adam_init_ones,
        adam_init_same_dict,
        adam_init_shared_arrays,
    ],
    "update_parameters_with_adam": [
        adam_no_bias_correction,
        adam_epsilon_inside_sqrt,
        adam_beta1_for_s,
        adam_t_plus_one,
        adam_not_squared,
        adam_uncorrected_step,
    ],
    "update_lr": [update_lr_multiplies, update_lr_epoch_plus_one, update_lr_precedence],
    "schedule_lr_decay": [
        schedule_no_floor,
        schedule_update_lr_formula,
        schedule_integer_division,
        schedule_ceil,
    ],
}

# For these wrong implementations the feedback must name the misconception (a fragment of its description
# in the exercise's hidden test module).
NAMED = {
    "gd_sign_flipped": "climbs the gradient",
    "gd_forgets_b": "biases b are left as they were",
    "gd_only_first_layers": "the last layer is not updated",
    "rmb_no_shuffle": "the examples are not shuffled",
    "rmb_different_permutations": "two different permutations",
    "rmb_drops_last_batch": "the last, smaller mini-batch is missing",
    "rmb_slices_rows": "cut from the rows (features) of X",
    "rmb_flat_labels": "the label mini-batches are 1-D",
    "velocity_one_dimensional": "1-D arrays",
    "velocity_parameter_keys": "the keys are the parameters'",
    "velocity_ones": "starts at ones",
    "velocity_integer_zeros": "the zeros are integers",
    "velocity_first_layer_only": "the last layer has no velocity",
    "momentum_beta_swapped": "beta and 1 - beta are swapped",
    "momentum_v_not_stored": "not stored in v",
    "momentum_steps_with_gradient": "stepped with the gradient dW",
    "momentum_steps_with_old_velocity": "the velocity from before this update",
    "adam_init_one_dimensional": "1-D arrays",
    "adam_init_parameter_keys": "the keys are the parameters'",
    "adam_init_ones": "v and s start at ones",
    "adam_no_bias_correction": "the bias correction is missing",
    "adam_epsilon_inside_sqrt": "epsilon is inside the square root",
    "adam_beta1_for_s": "averaged with beta1 instead of beta2",
    "adam_t_plus_one": "uses t + 1 instead of t",
    "adam_not_squared": "instead of their squares",
    "adam_uncorrected_step": "stepped with the uncorrected v and s",
    "update_lr_multiplies": "the decay multiplies instead of dividing",
    "update_lr_epoch_plus_one": "epoch_num + 1 is used",
    "update_lr_precedence": "the parentheses are missing",
    "rmb_end_off_by_one": "ends one column early",
    "rmb_start_off_by_one": "starts one column late, at k * mini_batch_size + 1",
    "rmb_last_batch_off_by_one": "the last mini-batch starts one column late",
    "schedule_no_floor": "the floor is missing",
    "schedule_update_lr_formula": "time_interval is ignored",
    "schedule_integer_division": "divided with // (floor division)",
    "schedule_ceil": "rounded up (ceil)",
}

# The demo's "typical mistakes" sample: the last mini-batch dropped, Adam without bias correction.
DEMO_MISTAKES = ("rmb_drops_last_batch", "adam_no_bias_correction")

# Right answers written unlike the reference: each dict is one notebook (exercise -> graded cell's code).
CORRECT_VARIANTS = (
    {
        "update_parameters_with_gd": """
def update_parameters_with_gd(parameters, grads, learning_rate):
    for key in parameters:
        parameters[key] -= learning_rate * grads["d" + key]
    return parameters
""",
        "random_mini_batches": """
def random_mini_batches(X, Y, mini_batch_size=64, seed=0):
    np.random.seed(seed)
    m = X.shape[1]
    permutation = np.random.permutation(m)
    X, Y = X[:, permutation], Y[:, permutation]
    return [(X[:, k:k + mini_batch_size], Y[:, k:k + mini_batch_size]) for k in range(0, m, mini_batch_size)]
""",
        "initialize_velocity": """
def initialize_velocity(parameters):
    return {"d" + key: np.zeros_like(value) for key, value in parameters.items()}
""",
        "update_parameters_with_momentum": """
def update_parameters_with_momentum(parameters, grads, v, beta, learning_rate):
    for key in grads:
        v[key] *= beta
        v[key] += (1 - beta) * grads[key]
        parameters[key[1:]] -= learning_rate * v[key]
    return parameters, v
""",
        "initialize_adam": """
def initialize_adam(parameters):
    v = {"d" + key: np.zeros_like(value) for key, value in parameters.items()}
    s = {key: value.copy() for key, value in v.items()}
    return v, s
""",
        "update_parameters_with_adam": """
def update_parameters_with_adam(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999,
                                epsilon=1e-8):
    v_corrected, s_corrected = {}, {}
    for key, grad in grads.items():
        v[key] *= beta1
        v[key] += (1 - beta1) * grad
        s[key] *= beta2
        s[key] += (1 - beta2) * grad ** 2
        v_corrected[key] = v[key] / (1 - beta1 ** t)
        s_corrected[key] = s[key] / (1 - beta2 ** t)
        parameters[key[1:]] -= learning_rate * v_corrected[key] / (s_corrected[key] ** 0.5 + epsilon)
    return parameters, v, s, v_corrected, s_corrected
""",
        "update_lr": """
def update_lr(learning_rate0, epoch_num, decay_rate):
    return learning_rate0 * (1 + decay_rate * epoch_num) ** -1.0
""",
        "schedule_lr_decay": """
def schedule_lr_decay(learning_rate0, epoch_num, decay_rate, time_interval=1000):
    return learning_rate0 / (1 + decay_rate * (epoch_num // time_interval))
""",
    },
    {
        "update_parameters_with_gd": """
def update_parameters_with_gd(parameters, grads, learning_rate):
    return {key: value - learning_rate * grads["d" + key] for key, value in parameters.items()}
""",
        "random_mini_batches": """
def random_mini_batches(X, Y, mini_batch_size=64, seed=0):
    np.random.seed(seed)
    m = X.shape[1]
    order = list(np.random.permutation(m))
    shuffled_X = np.take(X, order, axis=1)
    shuffled_Y = np.take(Y, order, axis=1).reshape((1, m))
    mini_batches = []
    start = 0
    while start < m:
        stop = min(start + mini_batch_size, m)
        mini_batches.append((shuffled_X[:, start:stop], shuffled_Y[:, start:stop]))
        start = stop
    return mini_batches
""",
        "initialize_velocity": """
def initialize_velocity(parameters):
    v = {}
    for l in range(len(parameters) // 2):
        rows, columns = parameters["W%d" % (l + 1)].shape
        v["dW%d" % (l + 1)] = np.zeros((rows, columns), dtype=float)
        v["db%d" % (l + 1)] = np.zeros((rows, 1))
    return v
""",
        "update_parameters_with_momentum": """
def update_parameters_with_momentum(parameters, grads, v, beta, learning_rate):
    new_parameters, new_v = {}, {}
    for l in range(1, len(parameters) // 2 + 1):
        for name in ("W", "b"):
            key = f"d{name}{l}"
            new_v[key] = np.add(np.multiply(beta, v[key]), np.multiply(1 - beta, grads[key]))
            new_parameters[f"{name}{l}"] = parameters[f"{name}{l}"] - learning_rate * new_v[key]
    return new_parameters, new_v
""",
        "initialize_adam": """
def initialize_adam(parameters):
    v, s = {}, {}
    for l in range(1, len(parameters) // 2 + 1):
        for name in ("W", "b"):
            shape = parameters[name + str(l)].shape
            v["d" + name + str(l)] = np.zeros(shape)
            s["d" + name + str(l)] = np.zeros(shape)
    return v, s
""",
        "update_parameters_with_adam": """
def update_parameters_with_adam(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999,
                                epsilon=1e-8):
    L = len(parameters) // 2
    new_v = {k: beta1 * v[k] + (1 - beta1) * grads[k] for k in grads}
    new_s = {k: beta2 * s[k] + (1 - beta2) * np.power(grads[k], 2) for k in grads}
    v_corrected = {k: new_v[k] / (1 - math.pow(beta1, t)) for k in grads}
    s_corrected = {k: new_s[k] / (1 - math.pow(beta2, t)) for k in grads}
    new_parameters = {}
    for l in range(1, L + 1):
        for name in ("W", "b"):
            key = "d" + name + str(l)
            step = v_corrected[key] / (np.sqrt(s_corrected[key]) + epsilon)
            new_parameters[name + str(l)] = parameters[name + str(l)] - learning_rate * step
    return new_parameters, new_v, new_s, v_corrected, s_corrected
""",
        "update_lr": """
def update_lr(learning_rate0, epoch_num, decay_rate):
    denominator = 1.0 + decay_rate * epoch_num
    return learning_rate0 / denominator
""",
        "schedule_lr_decay": """
def schedule_lr_decay(learning_rate0, epoch_num, decay_rate, time_interval=1000):
    return learning_rate0 / (1 + decay_rate * np.floor(epoch_num / time_interval))
""",
    },
)
