"""Benchmark 3: no-op rerun time of both engines when everything is up to date.

Runs the smoke configuration once through Snakemake (clone A) and once through DVC (clone B), then
times `snakemake` and `dvc repro` again, `--repeat` times each (median printed last).
Target: under 5 s with either engine.

    python bench/bench_noop.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from _scratch import checkout, smoke_params, timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    params = smoke_params()
    smk = checkout(Path(tempfile.mkdtemp(prefix="bench-noop-smk-")), params)
    dvc = checkout(Path(tempfile.mkdtemp(prefix="bench-noop-dvc-")), params)
    timed(["snakemake", "--cores", "2"], smk)
    timed(["dvc", "repro", "dvc.yaml"], dvc)
    results = {}
    for name, cmd, cwd in (("snakemake (no-op)", ["snakemake", "--cores", "2"], smk),
                           ("snakemake -n", ["snakemake", "-n", "--cores", "2"], smk),
                           ("dvc repro (no-op)", ["dvc", "repro", "dvc.yaml"], dvc),
                           ("dvc status", ["dvc", "status", "dvc.yaml"], dvc)):
        times = []
        for _ in range(args.repeat):
            elapsed, proc = timed(cmd, cwd)
            times.append(elapsed)
        results[name] = times
        out = proc.stdout + proc.stderr
        assert ("Nothing to be done" in out) or ("up to date" in out), out[-500:]
    print(f"{'command':<20} {'min':>6} {'median':>7} {'max':>6}  (seconds, {args.repeat} runs)")
    for name, times in results.items():
        print(f"{name:<20} {min(times):6.2f} {statistics.median(times):7.2f} {max(times):6.2f}")
    worst = max(statistics.median(t) for t in results.values())
    print(f"slowest no-op median: {worst:.2f} s; target < 5 s: {'met' if worst < 5 else 'MISSED'}")


if __name__ == "__main__":
    main()
