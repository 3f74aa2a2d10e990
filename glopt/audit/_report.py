"""The report types of :func:`glopt.audit.certify_model`: one certificate per subproblem a model solved."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from .._checks import positive_scalar
from ..certify import Certificate


@dataclass(frozen=True)
class SubproblemReport:
    """The certificate of one optimization problem a fitted model solved, and that problem.

    Parameters
    ----------
    label : str
        Which subproblem: ``"classes (a, b)"`` for a one-vs-one pair, ``"class a vs rest"``,
        ``"binary"``, ``"regression"`` or ``"one-class"``.
    form : str
        The problem's form: ``"c_svc"``, ``"nu_svc"``, ``"epsilon_svr"``, ``"nu_svr"``,
        ``"one_class"``, a liblinear form (``"liblinear:<loss>"``), ``"generalized"`` or
        ``"m3svm"``.
    problem : dict
        The problem as reconstructed from the model: C or nu, epsilon, the kernel with its
        resolved parameters, the number of samples and a summary of the per-sample bounds.
    certificate : Certificate
        Objectives, duality gap, KKT violation and infeasibility of the model's answer.
    reference : dict, optional
        With ``reference=True``: the distance to glopt's certified optimum of the same problem
        (``objective_diff``, ``max_decision_diff``, ``prediction_mismatch``).
    """

    label: str
    form: str
    problem: dict
    certificate: Certificate
    reference: dict | None = None

    def ok(self, tol: float = 1e-3, gap_tol: float | None = None) -> bool:
        """Whether the subproblem certifies: KKT violation and infeasibility <= ``tol``.

        These are the optimality conditions an SVM solver's stopping rule promises (LIBSVM's
        ``tol`` bounds the KKT violation); the relative gap, which says how far the objective is
        from the optimum, is judged only when ``gap_tol`` is given.

        Parameters
        ----------
        tol : float > 0, default=1e-3
            Tolerance of the KKT violation and the infeasibility; a NaN quantity never certifies.
        gap_tol : float > 0, optional
            Tolerance of the relative gap (None: the gap is reported, not judged).

        Returns
        -------
        bool
            True when the certificate meets ``tol`` (and ``gap_tol``).
        """
        tol = positive_scalar(tol, "tol")
        c = self.certificate
        good = bool(c.kkt_violation <= tol and c.infeasibility <= tol)
        if gap_tol is not None:
            good = good and bool(c.rel_gap <= positive_scalar(gap_tol, "gap_tol"))
        return good

    def to_dict(self) -> dict:
        """The report as plain Python values (for JSON).

        Returns
        -------
        dict
            label, form, problem, the certificate's quantities and the reference figures.
        """
        c = self.certificate
        return {"label": self.label, "form": self.form, "problem": _plain(self.problem),
                "primal": c.primal, "dual": c.dual, "gap": c.gap, "rel_gap": c.rel_gap,
                "kkt_violation": c.kkt_violation, "infeasibility": c.infeasibility,
                "reference": None if self.reference is None else _plain(self.reference)}


@dataclass(frozen=True)
class ModelReport:
    """The certificates of every subproblem of one fitted model.

    Parameters
    ----------
    model : str
        The model's class, as ``module.ClassName`` (a pipeline names its steps; a LIBSVM model
        file its path and type).
    subproblems : tuple of SubproblemReport
        One report per problem the model solved.
    tol : float, default=1e-3
        The tolerance :meth:`ok` applies by default to the KKT violation and the infeasibility.
    gap_tol : float, optional
        The default tolerance of the relative gap (None: the gap is reported, not judged).
    reference : dict, optional
        With ``reference=True``: model-level figures, ``prediction_mismatch`` (the share of the
        given samples whose predicted label differs from the reference model's; None for
        regressors).
    """

    model: str
    subproblems: tuple = field(default_factory=tuple)
    tol: float = 1e-3
    gap_tol: float | None = None
    reference: dict | None = None

    def ok(self, tol: float | None = None, gap_tol: float | None = None) -> bool:
        """Whether every subproblem certifies at ``tol``.

        Parameters
        ----------
        tol : float > 0, optional
            Tolerance of the KKT violation and the infeasibility (default the report's ``tol``).
        gap_tol : float > 0, optional
            Tolerance of the relative gap (default the report's ``gap_tol``; None: not judged).

        Returns
        -------
        bool
            True when the model has subproblems and every subproblem's certificate meets the
            tolerances.
        """
        tol = self.tol if tol is None else tol
        gap_tol = self.gap_tol if gap_tol is None else gap_tol
        return bool(self.subproblems) and all(s.ok(tol, gap_tol) for s in self.subproblems)

    def failing(self) -> list:
        """The subproblems that do not certify at the report's tolerances.

        Returns
        -------
        list of SubproblemReport
            Those whose certificate misses ``tol`` (or ``gap_tol``), in the model's order.
        """
        return [s for s in self.subproblems if not s.ok(self.tol, self.gap_tol)]

    def to_dict(self) -> dict:
        """The report as plain Python values (for JSON; NaN becomes None).

        Returns
        -------
        dict
            ``model``, ``ok``, ``tol``, ``gap_tol``, ``reference`` and the list of ``subproblems``
            as :meth:`SubproblemReport.to_dict` gives them, each with its own ``ok``.
        """
        subs = []
        for s in self.subproblems:
            d = s.to_dict()
            d["ok"] = s.ok(self.tol, self.gap_tol)
            subs.append(d)
        return _plain({"model": self.model, "ok": self.ok(), "tol": self.tol, "gap_tol": self.gap_tol,
                       "reference": self.reference, "subproblems": subs})

    def __str__(self):
        width = max([28] + [len(s.label) + 1 for s in self.subproblems])
        fwidth = max([12] + [len(s.form) for s in self.subproblems])
        ref = self.reference is not None
        head = (f"{'subproblem':<{width}s} {'form':<{fwidth}s} {'rel. gap':>10s} {'KKT':>10s} {'infeas.':>10s}"
                + (f" {'obj. diff':>10s} {'max |df|':>10s}" if ref else "") + "  status")
        judged = (f"KKT violation and infeasibility <= {self.tol:g}"
                  + ("" if self.gap_tol is None else f", relative gap <= {self.gap_tol:g}"))
        rows = [f"certificate of {self.model}", f"tolerance: {judged}", "", head, "-" * len(head)]
        for s in self.subproblems:
            c = s.certificate
            line = f"{s.label:<{width}s} {s.form:<{fwidth}s} {_num(c.rel_gap)} {_num(c.kkt_violation)} {_num(c.infeasibility)}"
            if ref:
                r = s.reference or {}
                line += f" {_num(r.get('rel_objective_diff', math.nan))} {_num(r.get('max_decision_diff', math.nan))}"
            rows.append(line + ("  ok" if s.ok(self.tol, self.gap_tol) else "  FAIL"))
        if ref and self.reference.get("prediction_mismatch") is not None:
            rows.append(f"predictions differing from the reference: {100 * self.reference['prediction_mismatch']:.2f}%")
        n_bad = len(self.failing())
        rows.append("" if not self.subproblems else
                    ("certified: every subproblem meets the tolerances" if n_bad == 0 else
                     f"NOT certified: {n_bad} of {len(self.subproblems)} subproblem(s) miss the tolerances"))
        return "\n".join(rows)


def _num(x) -> str:
    return f"{'nan':>10s}" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x + 0.0:10.2e}"


def _plain(value):
    """``value`` with numpy scalars and arrays as Python values, tuples as lists, NaN as None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist"):
        return _plain(value.tolist())
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
