"""glopt: support-vector learning with a generalized (pattern-correlated) loss.

``import glopt`` stays light: the estimators and solvers load on first use, either through the
package (``glopt.GLSVC``, ``glopt.GLSVR``, ``glopt.M3SVM``, ``glopt.SVMProblem``,
``glopt.SVMResult``, ``glopt.solve_reference``, ``glopt.solve_mm``, ``glopt.solve_quadratic``,
``glopt.certify_model``) or from their modules directly.
"""
__version__ = "0.1.0"

# (`certify` is not among them: the submodule glopt.certify shadows any package attribute of that
# name once imported; use ``from glopt.certify import certify``)
_LAZY = {"GLSVC": "estimators", "GLSVR": "estimators", "M3SVM": "multiclass", "SVMProblem": "problem",
         "SVMResult": "result", "solve_reference": "cvx", "solve_mm": "mm", "solve_quadratic": "quadratic",
         "certify_model": "audit"}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'glopt' has no attribute {name!r}")
