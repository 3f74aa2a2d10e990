"""The seed papers' network experiments on scikit-learn's digits, as a results page.

    python validation/neural_digits.py [--seed 0] [--quick] [--out docs/results/neural-digits.md]

Runs the ``neural`` section of ``glopt validate`` (``glopt.experiments.neural``: a small CNN on
digits, the same split, initialization and mini-batches for every loss of a seed; (a) the
generalized loss with S = G, Q, M, with and without the class mask, against S = I, (b) the
one-vs-rest SVM head with and without 0.5 ||W||^2 against cross-entropy, (c) ISM3 against
cross-entropy; 5 seeds, 3 with ``--quick``) and writes its table, test accuracy and macro F1
as mean and standard deviation over the seeds with the paired tests against each experiment's
baseline, to a results page headed by the command and the machine.
"""
from __future__ import annotations

import argparse
import csv
import os
import shlex
import sys
import tempfile


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default="docs/results/neural-digits.md")
    args = parser.parse_args(argv)

    from glopt.experiments import validate
    from glopt.experiments.neural import plan
    from glopt.experiments.report import markdown_table, write_results_page

    with tempfile.TemporaryDirectory() as tmp:
        failures = validate(out=tmp, seed=args.seed, quick=args.quick, sections=("neural",), progress=False)
        with open(os.path.join(tmp, "neural.csv")) as fh:
            rows = list(csv.DictReader(fh))
    cfg = plan(args.quick)
    body = (f"{cfg['seeds']} seeds, {cfg['epochs']} epochs, mini-batches of {cfg['batch']}, Adam at "
            f"lr {cfg['lr']:g}; test accuracy and macro F1 on the held-out quarter of the digits, mean "
            "and standard deviation over the seeds; p-values of the paired t and Wilcoxon signed-rank "
            "tests over the seeds against the baseline of each experiment (with 5 seeds Wilcoxon's "
            "two-sided p cannot go below 0.0625).\n\n" + markdown_table(rows) + "\n")
    if args.out:
        command = "python validation/neural_digits.py " + shlex.join(argv if argv is not None else sys.argv[1:])
        path = write_results_page(args.out, "Seed papers' network experiments: a CNN on digits",
                                  command.strip(), body)
        print(f"wrote {path}")
    print(body)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
