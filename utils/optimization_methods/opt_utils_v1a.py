"""Model plumbing for the "Optimization Methods" assignment.

A three-layer network (LINEAR -> RELU -> LINEAR -> RELU -> LINEAR -> SIGMOID)
trained on the two-moons data set.  Parameters live in a dict with keys
``W1, b1, ..., WL, bL``; gradients use the keys ``dW1, db1, ...``.  Examples
are stored as columns: ``X`` has shape (number of features, number of examples).

matplotlib and scikit-learn are imported by the functions that draw or load
data, so that the model code alone imports nothing but numpy.
"""

import numpy as np


def sigmoid(z):
    """Element-wise logistic function 1 / (1 + exp(-z))."""
    return 1 / (1 + np.exp(-z))


def relu(z):
    """Element-wise rectified linear unit max(0, z)."""
    return np.maximum(0, z)


def load_params_and_grads(seed=1):
    """Draw a small two-layer network and its gradients ("Recipe A").

    With ``np.random.seed(seed)`` the draws are, in order: W1 (2, 3), b1 (2, 1),
    W2 (3, 2), b2 (3, 1), then dW1, db1, dW2, db2 of the same shapes.

    Returns:
    W1, b1, W2, b2, dW1, db1, dW2, db2 -- numpy arrays
    """
    np.random.seed(seed)
    W1 = np.random.randn(2, 3)
    b1 = np.random.randn(2, 1)
    W2 = np.random.randn(3, 2)
    b2 = np.random.randn(3, 1)

    dW1 = np.random.randn(2, 3)
    db1 = np.random.randn(2, 1)
    dW2 = np.random.randn(3, 2)
    db2 = np.random.randn(3, 1)

    return W1, b1, W2, b2, dW1, db1, dW2, db2


def initialize_parameters(layer_dims):
    """He initialisation of a fully connected network.

    Arguments:
    layer_dims -- list of layer sizes, input layer first, e.g. [2, 5, 2, 1]

    Returns:
    parameters -- dict with W_l of shape (layer_dims[l], layer_dims[l-1]),
                  scaled by sqrt(2 / layer_dims[l-1]), and zero biases b_l
                  of shape (layer_dims[l], 1)
    """
    np.random.seed(3)
    parameters = {}
    for l in range(1, len(layer_dims)):
        scale = np.sqrt(2 / layer_dims[l - 1])
        parameters["W" + str(l)] = np.random.randn(layer_dims[l], layer_dims[l - 1]) * scale
        parameters["b" + str(l)] = np.zeros((layer_dims[l], 1))
    return parameters


def compute_cost(a3, Y):
    """Summed (not averaged) cross-entropy cost of a mini-batch.

    Arguments:
    a3 -- output of forward propagation, shape (1, number of examples)
    Y -- true labels (0 or 1), same shape as a3

    Returns:
    cost_total -- sum over the examples of -[y log(a3) + (1 - y) log(1 - a3)]
    """
    logprobs = np.multiply(-np.log(a3), Y) + np.multiply(-np.log(1 - a3), 1 - Y)
    return np.sum(logprobs)


def forward_propagation(X, parameters):
    """LINEAR -> RELU -> LINEAR -> RELU -> LINEAR -> SIGMOID.

    Arguments:
    X -- input data, shape (input size, number of examples)
    parameters -- dict with W1, b1, W2, b2, W3, b3

    Returns:
    a3 -- output of the last activation, shape (1, number of examples)
    cache -- every intermediate value, for backward propagation
    """
    W1, b1 = parameters["W1"], parameters["b1"]
    W2, b2 = parameters["W2"], parameters["b2"]
    W3, b3 = parameters["W3"], parameters["b3"]

    z1 = np.dot(W1, X) + b1
    a1 = relu(z1)
    z2 = np.dot(W2, a1) + b2
    a2 = relu(z2)
    z3 = np.dot(W3, a2) + b3
    a3 = sigmoid(z3)

    cache = (z1, a1, W1, b1, z2, a2, W2, b2, z3, a3, W3, b3)
    return a3, cache


def backward_propagation(X, Y, cache):
    """Gradients of the mean cost of a mini-batch with respect to every parameter.

    Arguments:
    X -- input data, shape (input size, number of examples)
    Y -- true labels, shape (1, number of examples)
    cache -- the cache returned by forward_propagation

    Returns:
    gradients -- dict with dW1, db1, dW2, db2, dW3, db3 (and the dz/da terms)
    """
    m = X.shape[1]
    (_, a1, _, _, _, a2, W2, _, _, a3, W3, _) = cache

    dz3 = 1.0 / m * (a3 - Y)
    dW3 = np.dot(dz3, a2.T)
    db3 = np.sum(dz3, axis=1, keepdims=True)

    da2 = np.dot(W3.T, dz3)
    dz2 = np.multiply(da2, a2 > 0)
    dW2 = np.dot(dz2, a1.T)
    db2 = np.sum(dz2, axis=1, keepdims=True)

    da1 = np.dot(W2.T, dz2)
    dz1 = np.multiply(da1, a1 > 0)
    dW1 = np.dot(dz1, X.T)
    db1 = np.sum(dz1, axis=1, keepdims=True)

    return {"dz3": dz3, "dW3": dW3, "db3": db3,
            "da2": da2, "dz2": dz2, "dW2": dW2, "db2": db2,
            "da1": da1, "dz1": dz1, "dW1": dW1, "db1": db1}


def predict(X, y, parameters):
    """Predict labels with a trained network and print the accuracy.

    Arguments:
    X -- data set of examples to label, shape (input size, number of examples)
    y -- true labels, shape (1, number of examples)
    parameters -- parameters of the trained model

    Returns:
    p -- predictions (0 or 1) for X, shape (1, number of examples)
    """
    a3, _ = forward_propagation(X, parameters)
    p = (a3 > 0.5).astype(int)
    print(f"Accuracy: {np.mean(p[0, :] == y[0, :]):.4f}")
    return p


def predict_dec(parameters, X):
    """Predict labels (True for class 1) for plotting a decision boundary.

    Arguments:
    parameters -- parameters of the trained model
    X -- points to label, shape (input size, number of points)

    Returns:
    predictions -- boolean array, shape (1, number of points)
    """
    a3, _ = forward_propagation(X, parameters)
    return a3 > 0.5


def plot_decision_boundary(model, X, y, ax=None):
    """Shade the plane by a classifier's prediction and scatter the data on top.

    Arguments:
    model -- function mapping an (n_points, 2) array of points to labels
    X -- data, shape (2, number of examples)
    y -- labels, shape (1, number of examples)
    ax -- matplotlib Axes to draw on; a new figure is made when omitted

    Returns:
    ax -- the Axes drawn on
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots()
    x_min, x_max = X[0, :].min() - 1, X[0, :].max() + 1
    y_min, y_max = X[1, :].min() - 1, X[1, :].max() + 1
    step = 0.01
    xx, yy = np.meshgrid(np.arange(x_min, x_max, step), np.arange(y_min, y_max, step))
    Z = model(np.c_[xx.ravel(), yy.ravel()]).reshape(xx.shape)
    ax.contourf(xx, yy, Z, cmap=plt.cm.Spectral)
    ax.scatter(X[0, :], X[1, :], c=np.ravel(y), cmap=plt.cm.Spectral)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    return ax


def load_dataset(plot=False):
    """The two-moons training set: 300 noisy points, drawn with np.random.seed(3).

    Arguments:
    plot -- if True, also draw a scatter plot of the data

    Returns:
    train_X -- features, shape (2, 300)
    train_Y -- labels (0 or 1), shape (1, 300)
    """
    import matplotlib.pyplot as plt
    import sklearn.datasets

    np.random.seed(3)
    train_X, train_Y = sklearn.datasets.make_moons(n_samples=300, noise=0.2)
    if plot:
        _, ax = plt.subplots()
        ax.scatter(train_X[:, 0], train_X[:, 1], c=train_Y, s=40, cmap=plt.cm.Spectral)
    return train_X.T, train_Y.reshape((1, train_Y.shape[0]))
