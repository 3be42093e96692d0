"""Central finite differences for gradient checks in this folder's tests."""
import numpy as np


def central_gradient(f, values, k, eps=1e-6):
    """d f(*values) / d values[k], element by element (f returns a float)."""
    grad = np.zeros_like(values[k])
    for idx in np.ndindex(*values[k].shape):
        up, down = [v.copy() for v in values], [v.copy() for v in values]
        up[k][idx] += eps
        down[k][idx] -= eps
        grad[idx] = (f(*up) - f(*down)) / (2 * eps)
    return grad
