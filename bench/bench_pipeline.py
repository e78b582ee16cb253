"""Benchmark 1: the default pipeline end to end with `snakemake --cores 2`: total wall time, and per
stage the summed wall time and peak memory from Snakemake's own `benchmark:` records.

    python bench/bench_pipeline.py [--params params.yaml] [--keep DIR]

Target (issue 2): the default pipeline, all conditions, in at most 15 minutes on 2 CPU cores.
Figures are printed last.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
from collections import defaultdict
from pathlib import Path

import pandas as pd
from _scratch import REPO, checkout, read_yaml, timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", default=str(REPO / "params.yaml"))
    parser.add_argument("--keep", help="run in this folder and keep it (default: a temp folder)")
    parser.add_argument("--cores", type=int, default=2)
    args = parser.parse_args()
    params = read_yaml(Path(args.params))
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    work.mkdir(parents=True, exist_ok=True)
    checkout(work, params)
    wall, _ = timed(["snakemake", "--cores", str(args.cores)], work)
    bench_dir = work / params["experiment"]["results_dir"] / "benchmarks"
    per_stage: dict[str, list[pd.DataFrame]] = defaultdict(list)
    for tsv in bench_dir.rglob("*.tsv"):
        per_stage[tsv.relative_to(bench_dir).parts[0]].append(pd.read_csv(tsv, sep="\t"))
    rows = []
    for stage, frames in per_stage.items():
        frame = pd.concat(frames)
        rows.append({"stage": stage, "jobs": len(frame), "wall_s_sum": frame["s"].sum(),
                     "wall_s_max": frame["s"].max(), "peak_rss_mb": frame["max_rss"].max()})
    table = pd.DataFrame(rows).sort_values("wall_s_sum", ascending=False)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cpus, load {os.getloadavg()[0]:.2f}; "
          f"params {args.params}; folder {work}")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.1f}"))
    print(f"pipeline wall time: {wall:.1f} s ({wall / 60:.1f} min) with --cores {args.cores}; "
          f"target <= 900 s: {'met' if wall <= 900 else 'MISSED'}")


if __name__ == "__main__":
    main()
