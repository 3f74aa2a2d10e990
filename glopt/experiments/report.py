"""The validation report: tables (markdown + CSV), plots (PNG), failures, and progress bars.

Every table goes to ``<out>/<name>.csv`` and into ``report.md``. Wall-clock columns (names ending
in ``time_s``) vary from run to run, so they are kept out of the table CSVs and written to
``timings.csv`` instead: the other CSVs are then identical for two runs with the same ``--seed``.
"""
from __future__ import annotations

import csv
import math
import os
from contextlib import contextmanager

FAIL = "FAIL"
ERROR = "ERROR"


def _fmt(value) -> str:
    """Numbers at 6 significant digits: enough to compare, stable across runs of the same seed."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return f"{value:.6g}"
    return str(value)


def _volatile(column: str) -> bool:
    return column.endswith("time_s")


class Report:
    """Collects sections and writes them to ``out`` as they are completed."""

    def __init__(self, out: str, title: str, progress: bool = True):
        self.out = out
        self.title = title
        self.progress = progress
        self.parts: list[str] = []
        self.failures: list[str] = []
        self.timings: list[dict] = []
        self.files: list[str] = []
        self.summaries: list[str] = []
        os.makedirs(out, exist_ok=True)

    # -- content ---------------------------------------------------------------------------
    def section(self, title: str, text: str = "") -> None:
        self.parts.append(f"## {title}\n\n{text}".rstrip() + "\n")

    def text(self, text: str) -> None:
        self.parts.append(text.rstrip() + "\n")

    def table(self, name: str, rows: list[dict], caption: str = "") -> None:
        """A table of dict rows (same keys); a row whose ``verdict`` is FAIL/ERROR counts as a failure."""
        if not rows:
            raise ValueError(f"table {name!r} is empty: every section must produce numbers")
        columns = list(dict.fromkeys(k for row in rows for k in row))  # ERROR rows may carry fewer
        rows = [{c: row.get(c, "") for c in columns} for row in rows]
        for row in rows:
            if row.get("verdict") in (FAIL, ERROR):
                self.failures.append(f"{name}: " + ", ".join(f"{k}={_fmt(v)}" for k, v in row.items()
                                                             if not _volatile(k)))
        stable = [c for c in columns if not _volatile(c)]
        path = os.path.join(self.out, f"{name}.csv")
        with open(path, "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(stable)
            writer.writerows([[_fmt(row[c]) for c in stable] for row in rows])
        self.files.append(path)
        for i, row in enumerate(rows):
            for c in columns:
                if _volatile(c):
                    self.timings.append({"table": name, "row": i, "column": c, "value": _fmt(row[c])})
        md = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        md += ["| " + " | ".join(_fmt(row[c]) for c in columns) + " |" for row in rows]
        self.parts.append((caption + "\n\n" if caption else "") + "\n".join(md)
                          + f"\n\n(`{name}.csv`)\n")

    def figure(self, name: str, fig, caption: str) -> None:
        path = os.path.join(self.out, f"{name}.png")
        fig.savefig(path, dpi=100, bbox_inches="tight")
        import matplotlib.pyplot as plt

        plt.close(fig)
        self.files.append(path)
        self.parts.append(f"![{caption}]({name}.png)\n\n{caption}\n")

    def summary(self, line: str) -> None:
        """One line for the console summary (and the report's head)."""
        self.summaries.append(line)

    def fail(self, what: str) -> None:
        self.failures.append(what)

    # -- progress --------------------------------------------------------------------------
    @contextmanager
    def bar(self, total: int, desc: str):
        """A progress bar on stderr (tqdm; silent when stderr is not a terminal)."""
        from tqdm.auto import tqdm

        with tqdm(total=total, desc=desc, leave=False, disable=None if self.progress else True,
                  dynamic_ncols=True) as bar:
            yield bar

    # -- output ----------------------------------------------------------------------------
    def write(self, header: str = "") -> str:
        if self.timings:
            path = os.path.join(self.out, "timings.csv")
            with open(path, "w", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=["table", "row", "column", "value"])
                writer.writeheader()
                writer.writerows(self.timings)
        verdict = (f"**{len(self.failures)} failure(s)**:\n\n" + "\n".join(f"- {f}" for f in self.failures)
                   if self.failures else "**0 failures.**")
        lines = "\n".join(f"- {line}" for line in self.summaries)
        body = f"# {self.title}\n\n{header}\n\n{verdict}\n\n{lines}\n\n" + "\n".join(self.parts)
        path = os.path.join(self.out, "report.md")
        with open(path, "w") as fh:
            fh.write(body)
        return path


def machine() -> str:
    """One line naming the machine a measurement ran on: CPU model, cores, Python and numpy."""
    import platform

    import numpy as np

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.machine()}, "
            f"Python {platform.python_version()}, numpy {np.__version__}")


def write_results_page(path: str, title: str, command: str, body: str) -> str:
    """A results page: the title, the command that produced it and the machine, then ``body``."""
    import datetime

    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    with open(path, "w") as fh:
        fh.write(f"# {title}\n\nCommand: `{command}`\n\nMachine: {machine()}; run {stamp}.\n\n{body.rstrip()}\n")
    return path


def markdown_table(rows: list, columns: list | None = None) -> str:
    """Dict rows as a markdown table (numbers at 6 significant digits)."""
    columns = columns or list(dict.fromkeys(k for row in rows for k in row))
    md = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    md += ["| " + " | ".join(_fmt(row.get(c, "")) for c in columns) + " |" for row in rows]
    return "\n".join(md)


def grouped_bars(groups: list, series: dict, ylabel: str, width_per_group: float = 2.0):
    """A bar chart: one group of bars per entry of ``groups``, one bar per ``series`` label, each
    series a list of (mean, std) per group (None: no bar). Returns the matplotlib figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(width_per_group * len(groups) + 3, 3.5))
    width = 0.8 / len(series)
    x = np.arange(len(groups))
    for j, (label, values) in enumerate(series.items()):
        ax.bar(x + j * width, [v[0] if v else 0.0 for v in values], width,
               yerr=[v[1] if v else 0.0 for v in values], label=label)
    ax.set_xticks(x + 0.4 - width / 2, groups)
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 1)
    ax.legend(ncol=min(len(series), 4), fontsize=7, loc="lower right")
    return fig

