import numpy as np
import pytest

from glopt.kernels import Kernel
from glopt.problem import SVMProblem


def random_problem(seed, n=40, d=3, task="svc", kernel="rbf", p=1, weighted=True, s_kernel="G"):
    """A random small problem with a noisy linear label/target and random per-sample weights."""
    from glopt.kernels import correlation_matrix

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    score = X @ rng.normal(size=d) + 0.5 * rng.normal(size=n)
    if task == "svc":
        y = np.where(score > np.median(score), 1.0, -1.0)
    else:
        y = score
    k = {"rbf": Kernel("rbf", gamma=1.0 / d), "linear": Kernel("linear"),
         "poly": Kernel("poly", gamma=0.5 / d, degree=3, coef0=1.0)}[kernel]
    w = rng.uniform(0.1, 5.0, size=n) if weighted and p == 1 else None
    S = correlation_matrix(X, s_kernel, 0.5) if p == 2 else None
    return SVMProblem(X, y, k, task, C=float(rng.uniform(0.3, 3.0)), weights=w, epsilon=0.2, p=p, S=S)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
