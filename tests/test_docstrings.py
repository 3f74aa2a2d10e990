"""Public callables document every parameter they take."""
import inspect
import re

import pytest

from glopt import GLSVC, GLSVR, M3SVM
from glopt.smo import solve_svc, solve_svr


def _documented(doc: str) -> set:
    """Parameter names of a numpydoc 'Parameters' section (lines 'name : ...', 'a, b : ...')."""
    names = set()
    for line in doc.splitlines():
        m = re.match(r"^\s{4}([A-Za-z_][\w, ]*) :", line)
        if m:
            names.update(n.strip() for n in m.group(1).split(","))
    return names


@pytest.mark.parametrize("func", [solve_svc, solve_svr])
def test_solver_docstrings_name_every_parameter(func):
    assert func.__doc__, f"{func.__name__} has no docstring"
    params = set(inspect.signature(func).parameters)
    assert params <= _documented(func.__doc__), params - _documented(func.__doc__)


@pytest.mark.parametrize("cls", [GLSVC, GLSVR, M3SVM])
def test_estimator_docstrings_name_every_parameter(cls):
    params = set(inspect.signature(cls.__init__).parameters) - {"self"}
    assert params <= _documented(cls.__doc__), params - _documented(cls.__doc__)
    for method in ("fit", "predict"):
        assert getattr(cls, method).__doc__, f"{cls.__name__}.{method} has no docstring"
