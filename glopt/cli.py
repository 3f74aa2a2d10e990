"""The `glopt` command: ``glopt validate`` certifies the solvers and reruns the papers' experiments."""
from __future__ import annotations

import argparse
import os
import sys

from . import __version__

SUBCOMMANDS = {"validate": "certify the solvers and rerun the papers' experiments; writes a report"}


def validate(args) -> int:
    from .experiments import SECTIONS, validate as run

    sections = SECTIONS if args.only is None else tuple(s.strip() for s in args.only.split(",") if s.strip())
    scheduler = "local" if args.dask else args.scheduler
    n_jobs = args.n_jobs if args.n_jobs > 0 else (os.cpu_count() or 1)
    failures = run(out=args.out, seed=args.seed, quick=args.quick, n_jobs=n_jobs, sections=sections,
                   scheduler=scheduler, progress=not args.no_progress)
    return 1 if failures else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="glopt", description="Support-vector learning with a generalized loss.",
        epilog="subcommands: " + "; ".join(f"{k}: {v}" for k, v in SUBCOMMANDS.items()))
    parser.add_argument("--version", action="version", version=f"glopt {__version__}")
    sub = parser.add_subparsers(dest="command")
    p_val = sub.add_parser("validate", help=SUBCOMMANDS["validate"],
                           description="Certify every solver against the cvxpy reference and LIBSVM, and rerun "
                                       "the papers' experiments; writes report.md, CSV tables and PNG plots. "
                                       "Exits 1 if any check fails.")
    mode = p_val.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", default=True,
                      help="small versions of every section, a few minutes (default)")
    mode.add_argument("--full", dest="quick", action="store_false",
                      help="the full experiments (all seven paper sets, 10 outer folds): about an hour on 2 cores")
    p_val.add_argument("--out", default="glopt-report", help="report directory (default: glopt-report/)")
    p_val.add_argument("--seed", type=int, default=0, help="seed of every split and random problem (default 0)")
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
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if args.only is not None:
        from .experiments import SECTIONS

        unknown = sorted(set(s.strip() for s in args.only.split(",")) - set(SECTIONS) - {""})
        if unknown:
            parser.error(f"unknown section(s) {', '.join(unknown)}; known: {', '.join(SECTIONS)}")
    return validate(args)


if __name__ == "__main__":
    sys.exit(main())
