"""The validation suite behind ``glopt validate``: solver certification and the seed papers'
experiments, written as a report (``report.md``, one CSV per table, PNG plots).

Sections (``--only`` takes their names): ``certification``, ``binary`` (generalized loss vs the
standard SVM on the paper's seven sets), ``regression`` (GLSVR vs SVR; an MLP with MSELoss vs the
generalized loss), ``multiclass`` (M3SVM vs linear SVMs and logistic regression), ``sweep``
(decision boundaries over gamma_s), ``neural`` (a CNN with the torch losses: generalized
loss, SVM head, ISM3), ``peers`` (other SVM libraries' answers certified by glopt.audit).
"""
from __future__ import annotations

import os
import platform
import time

SECTIONS = ("certification", "binary", "regression", "multiclass", "sweep", "neural", "peers")


def run_sections(report, sections, *, seed: int, quick: bool, n_jobs: int) -> dict:
    """Run the chosen sections of the suite into a report.

    A section that raises is recorded as a failure of the report (and an ``ERROR`` section), and
    the next one runs.

    Parameters
    ----------
    report : glopt.experiments.report.Report
        The report the sections write their tables, plots and failures to.
    sections : iterable of str
        Section names, from ``SECTIONS``, run in this order.
    seed : int
        Seed of every split and random problem.
    quick : bool
        Small versions of the sections (True) or the full experiments.
    n_jobs : int
        Parallel fits in the grid searches.

    Returns
    -------
    dict of str to float
        Wall-clock seconds of each section run.
    """
    from . import binary, certification, multiclass, neural, peers, regression, sweep

    calls = {
        "certification": lambda: certification.run(report, seed, quick),
        "binary": lambda: binary.run(report, seed, quick, n_jobs),
        "regression": lambda: regression.run(report, seed, quick, n_jobs),
        "multiclass": lambda: multiclass.run(report, seed, quick, n_jobs),
        "sweep": lambda: sweep.run(report, seed, quick),
        "neural": lambda: neural.run(report, seed, quick),
        "peers": lambda: peers.run(report, seed, quick),
    }
    times = {}
    for name in sections:
        t0 = time.perf_counter()
        try:
            calls[name]()
        except Exception as exc:  # a broken section is a failure of the validation, reported, not hidden
            report.fail(f"section {name}: {type(exc).__name__}: {exc}")
            report.section(f"{name}: ERROR", f"The section stopped: `{type(exc).__name__}: {exc}`")
        times[name] = time.perf_counter() - t0
    return times


def validate(*, out: str, seed: int = 0, quick: bool = True, n_jobs: int = 1, sections=SECTIONS,
             scheduler: str | None = None, progress: bool = True, echo=print) -> int:
    """Run the validation suite and write its report (what ``glopt validate`` runs).

    Parameters
    ----------
    out : str
        Report directory: ``report.md``, one CSV per table, ``timings.csv`` and PNG plots.
    seed : int, default 0
        Seed of every split and random problem.
    quick : bool, default True
        Small versions of the sections (True) or the full experiments.
    n_jobs : int, default 1
        Parallel fits in the grid searches (the workers of a local Dask cluster).
    sections : sequence of str, default ``SECTIONS``
        The sections to run, in this order.
    scheduler : str, optional
        Where the grid searches run: None for local joblib processes, ``"local"`` for a local
        Dask cluster, or the address of a running Dask scheduler (``tcp://host:8786``).
    progress : bool, default True
        Show progress bars.
    echo : callable, default print
        Receives the progress and summary lines.

    Returns
    -------
    int
        The number of failures (0 when every check passes).

    Raises
    ------
    ValueError
        When a section name is unknown.
    """
    import numpy as np

    from .. import __version__
    from .parallel import backend
    from .report import Report

    unknown = [s for s in sections if s not in SECTIONS]
    if unknown:
        raise ValueError(f"unknown section(s) {unknown}; known: {', '.join(SECTIONS)}")
    mode = "quick" if quick else "full"
    report = Report(out, f"glopt {__version__} validation report ({mode})", progress=progress)
    t0 = time.perf_counter()
    with backend(scheduler, n_workers=max(1, n_jobs)) as where:
        echo(f"glopt validate --{mode}: sections {', '.join(sections)}; seed {seed}; grid searches on {where}")
        times = run_sections(report, sections, seed=seed, quick=quick, n_jobs=n_jobs)
    total = time.perf_counter() - t0
    header = (f"Command: `glopt validate --{mode} --seed {seed} --n-jobs {n_jobs}"
              + (f" --only {','.join(sections)}" if tuple(sections) != SECTIONS else "") + "`. "
              f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
              f"numpy {np.__version__}. Wall time {total:.0f} s ("
              + ", ".join(f"{k} {v:.0f} s" for k, v in times.items()) + ").")
    path = report.write(header)
    for line in report.summaries:
        echo(f"  {line}")
    for failure in report.failures:
        echo(f"  FAIL {failure}")
    echo(f"{len(report.failures)} failure(s); report: {path} ({total:.0f} s)")
    return len(report.failures)
