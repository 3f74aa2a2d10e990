"""Reference layer: every convex glopt problem in cvxpy, primal and dual, solved by Clarabel."""
from .reference import CLARABEL_DEFAULTS, Reference, ReferenceSolveError, solve_reference

__all__ = ["CLARABEL_DEFAULTS", "Reference", "ReferenceSolveError", "solve_reference"]
