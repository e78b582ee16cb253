"""Benchmark 2: DAG scale. `snakemake -n` and `dvc status` time for the paper's full matrix
(presets/paper.yaml: 10 models x 9 conditions x 3 seeds, checkpoints every 10 of 300 steps, 4
benchmarks) and for smaller and larger matrices, to see how the time grows with the matrix.

    python bench/bench_dag_scale.py [--repeat 3] [--plot bench/dag_scale.png]

Matrices are built by slicing/extending the paper preset's model, condition and seed lists (all
conditions in the preset are real; extra seeds are added for the largest size). Each size runs in a
scratch checkout with that matrix as params.yaml; the paper's dvc.yaml is the generated root dvc.yaml.
Targets: under 10 s for the full matrix, and no worse than linear growth. Figures are printed last.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from _scratch import REPO, checkout, read_yaml, timed

SIZES = (  # (models, conditions, seeds)
    (2, 3, 1), (5, 9, 1), (10, 9, 1), (10, 9, 2), (10, 9, 3), (10, 18, 3),
)


def matrix(paper: dict, models: int, conditions: int, seeds: int) -> dict:
    params = {**paper, "experiment": dict(paper["experiment"])}
    all_conditions = list(paper["conditions"])
    params["experiment"]["models"] = list(paper["models"])[:models]
    params["experiment"]["conditions"] = all_conditions[:conditions]
    params["experiment"]["seeds"] = [42 + i for i in range(seeds)]
    params["experiment"]["results_dir"] = "results/scale"
    return params


def jobs_of(proc_text: str) -> int:
    for line in proc_text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "total" and parts[1].isdigit():
            return int(parts[1])
    return -1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--plot", default=str(REPO / "bench" / "dag_scale.png"))
    args = parser.parse_args()
    paper = read_yaml(REPO / "presets" / "paper.yaml")
    rows = []
    for models, conditions, seeds in SIZES:
        work = checkout(Path(tempfile.mkdtemp(prefix="bench-scale-")), matrix(paper, models, conditions, seeds))
        smk, dvc = [], []
        for _ in range(args.repeat):
            elapsed, proc = timed(["snakemake", "-n", "--cores", "2", "--quiet", "rules"], work)
            smk.append(elapsed)
            jobs = jobs_of(proc.stdout + proc.stderr)
            elapsed, _ = timed(["dvc", "status"], work)
            dvc.append(elapsed)
        rows.append({"runs": models * conditions * seeds, "jobs": jobs,
                     "snakemake_n_s": statistics.median(smk), "dvc_status_s": statistics.median(dvc)})
        print(f"runs {rows[-1]['runs']:>4}  jobs {jobs:>5}  snakemake -n {rows[-1]['snakemake_n_s']:6.2f} s  "
              f"dvc status {rows[-1]['dvc_status_s']:6.2f} s", flush=True)
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot([r["jobs"] for r in rows], [r["snakemake_n_s"] for r in rows], "o-", label="snakemake -n")
        ax.plot([r["jobs"] for r in rows], [r["dvc_status_s"] for r in rows], "s-", label="dvc status")
        ax.set_xlabel("jobs / stages in the DAG")
        ax.set_ylabel("seconds (median)")
        ax.set_title("DAG build + dry run vs matrix size")
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)
    except ImportError:
        pass
    full = next(r for r in rows if r["runs"] == 270)
    per_job = [(r["snakemake_n_s"] / r["jobs"]) for r in rows]
    print(f"{'runs':>5} {'jobs':>6} {'snakemake -n (s)':>17} {'dvc status (s)':>15}")
    for r in rows:
        print(f"{r['runs']:>5} {r['jobs']:>6} {r['snakemake_n_s']:>17.2f} {r['dvc_status_s']:>15.2f}")
    print(f"paper matrix (270 runs, {full['jobs']} jobs): snakemake -n {full['snakemake_n_s']:.2f} s, "
          f"dvc status {full['dvc_status_s']:.2f} s; target < 10 s: "
          f"{'met' if max(full['snakemake_n_s'], full['dvc_status_s']) < 10 else 'MISSED'}; "
          f"seconds per job from smallest to largest: {per_job[0]:.4f} -> {per_job[-1]:.4f} "
          f"({'sub-linear or linear' if per_job[-1] <= per_job[0] * 1.1 else 'super-linear'})")


if __name__ == "__main__":
    main()
