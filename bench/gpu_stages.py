"""The pipeline's own stages on CUDA, engine-free: the check that our code (not only TRL) runs on a GPU.

Runs every job of a small sweep through the same commands Snakemake and DVC run
(`python -m spurious_rewards <stage> --params ... [--model ..]`), in the stage table's order, with
the smoke sizes and these changes: experiment.device cuda, train.precision bf16, eager attention
(SDPA + bf16 was reported to give NaN on the tiny model's shapes; BENCHMARKS.md §7), more rollout steps. Snakemake
and DVC are not on the GPU image, so the order comes from stages.STAGES itself.

Prints, last: wall seconds per stage, whether every logged loss and grad norm of every run is finite,
the runs' per-rollout-step time, and the metrics table. Exit 1 if a stage fails or a value is not finite.
Without CUDA it prints a message and exits 0.

    PYTHONPATH=src python bench/gpu_stages.py [--steps 20] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

RESULTS = "results/gpu_stages"


def gpu_params(steps: int, device: str = "cuda", pretrain_steps: int = 600) -> dict:
    from spurious_rewards.config import _merge
    from spurious_rewards.scratch import smoke_params

    return _merge(smoke_params(REPO), {
        "experiment": {"results_dir": RESULTS, "device": device,
                       # majority_vote exercises the labels stage; random the seeded reward
                       "conditions": ["ground_truth", "majority_vote", "random"]},
        "models": {"toy": {"pretrain": {"steps": pretrain_steps}}},
        "train": {"steps": steps, "save_every": max(1, steps // 2), "precision": "bf16",
                  "attn_implementation": "eager", "prompts_per_step": 16, "generations_per_prompt": 8,
                  "optimizer_batch": 32},
    })


def jobs(params) -> list[tuple[str, dict]]:
    """Every (stage, wildcards) of the sweep, stage by stage in the table's order."""
    from spurious_rewards import stages

    by_wildcards = {(): [{}], ("model",): [{"model": m} for m in params.models],
                    stages.RUN: [dict(zip(stages.RUN, run)) for run in params.runs()]}
    return [(st.name, wc) for st in stages.STAGES for wc in by_wildcards[st.wildcards]]


def finite_train_logs(run_dir: Path) -> dict:
    import numpy as np
    import pandas as pd

    df = pd.read_csv(run_dir / "train_metrics.csv")
    cols = [c for c in ("loss", "grad_norm") if c in df.columns]
    bad = {c: int((~np.isfinite(pd.to_numeric(df[c], errors="coerce"))).sum()) for c in cols}
    return {"rows": len(df), "columns_checked": cols, "non_finite": bad}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=20, help="GRPO rollout steps per run")
    ap.add_argument("--keep", action="store_true", help="keep results/gpu_stages afterwards")
    ap.add_argument("--device", default="cuda", help="cpu checks this script itself on a machine without a GPU")
    ap.add_argument("--pretrain-steps", type=int, default=600)
    args = ap.parse_args()

    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        print("gpu_stages: CUDA is not available on this machine; nothing to run (exit 0).")
        return 0
    from spurious_rewards import stages
    from spurious_rewards.config import load_params

    shutil.rmtree(REPO / RESULTS, ignore_errors=True)
    (REPO / RESULTS).mkdir(parents=True)
    params_file = REPO / RESULTS / "params.gpu.yaml"
    params_file.write_text(yaml.safe_dump(gpu_params(args.steps, args.device, args.pretrain_steps), sort_keys=False), encoding="utf-8")
    params = load_params(params_file)
    # src first, then whatever the caller had (on the GPU image: the carried wheels' --target folder)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")])),
           "HF_HUB_OFFLINE": "1",
           "TOKENIZERS_PARALLELISM": "false"}

    per_stage: dict[str, float] = {}
    failed = None
    for name, wc in jobs(params):
        cmd = stages.stage(name).command(str(params_file.relative_to(REPO)), **wc)
        t = time.perf_counter()
        argv = cmd.split()
        if argv[0] == "python":  # the interpreter running this script (the GPU image has python3 only)
            argv[0] = sys.executable
        proc = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True)
        dt = time.perf_counter() - t
        per_stage[name] = round(per_stage.get(name, 0.0) + dt, 1)
        print(json.dumps({"job": name, **wc, "rc": proc.returncode, "seconds": round(dt, 1)}), flush=True)
        if proc.returncode:
            failed = {"job": name, **wc, "rc": proc.returncode, "stderr_tail": proc.stderr[-3000:]}
            break

    summary: dict = {"device": torch.cuda.get_device_name(0) if args.device == "cuda" else "cpu", "torch": torch.__version__,
                     "steps": args.steps, "seconds_per_stage": per_stage}
    ok = failed is None
    if failed:
        summary["failed"] = failed
    else:
        runs = sorted((REPO / RESULTS / "runs").glob("*/*/seed*"))
        summary["train_logs"] = {str(r.relative_to(REPO / RESULTS)): finite_train_logs(r) for r in runs}
        ok = all(not any(v["non_finite"].values()) for v in summary["train_logs"].values())
        summary["train_seconds_per_rollout_step"] = round(per_stage["train"] / len(runs) / args.steps, 3)
        import pandas as pd

        metrics = pd.read_csv(REPO / RESULTS / "analysis" / "metrics.csv")
        shown = metrics[metrics["metric"].isin(["accuracy", "code_frequency"])]
        print(shown.pivot_table(index=["condition", "seed", "step", "benchmark"], columns="metric",
                                values="value").round(3).to_string())
    if not args.keep:
        shutil.rmtree(REPO / RESULTS, ignore_errors=True)
    summary["result"] = f"ok: every stage ran on {args.device}, all losses and grad norms finite" if ok else "FAILED"
    print(json.dumps(summary, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
