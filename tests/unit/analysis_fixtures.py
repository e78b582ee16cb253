"""A results tree that analyze can read without running the sweep: synthetic grades for the base
model and every run, and training metrics, under a params file derived from params.yaml.

Two models (one named like a paper model, so the paper comparison renders; two, so the organism
section renders), two conditions and two seeds, both graders, a forced-prefix variant of the base
evaluation (the prompting table) and a second, sampled benchmark.
"""

from __future__ import annotations

import copy
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from spurious_rewards import io, paths

REPO = Path(__file__).resolve().parents[2]
MODELS = ("qwen25-math-7b", "toy")
CONDITIONS = ("ground_truth", "random")
SEEDS = (1, 2)


def _grades(model: str, cond: str, seed: int, steps, variants, gain: float) -> pd.DataFrame:
    rows = []
    for step in steps:
        for variant in variants:
            for bench, samples, scale in (("math500", 1, 1.0), ("arith_hard", 4, 0.5)):
                p = scale * (0.65 if variant == "forced_prefix" else 0.5 + gain * step / 10)
                for grader in ("math_verify", "paper"):
                    for i in range(30):
                        for k in range(samples):
                            r = np.random.default_rng(
                                zlib.crc32(repr((model, cond, seed, step, variant, bench, i, k)).encode()))
                            rows.append({"model": model, "condition": cond, "seed": seed, "step": step,
                                         "benchmark": bench, "variant": variant, "grader": grader,
                                         "grader_version": grader + "-1", "problem_id": f"{bench}-{i}",
                                         "sample_index": k, "correct": bool(r.random() < p),
                                         "has_python": bool(r.random() < (0.4 + gain)),
                                         "has_code_block": bool(r.random() < 0.1),
                                         "n_tokens": int(r.integers(5, 50)),
                                         "finish_reason": "length" if r.random() < 0.05 else "stop"})
    return pd.DataFrame(rows)


def write_params(root: Path, models=MODELS) -> Path:
    raw = copy.deepcopy(yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8")))
    raw["experiment"].update(results_dir=str(root / "results"), models=list(models),
                             conditions=list(CONDITIONS), seeds=list(SEEDS))
    for model in models:
        raw["models"].setdefault(model, copy.deepcopy(raw["models"]["toy"]))
    raw["analysis"]["bootstrap_samples"] = 200
    path = root / "params.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def build_results(root: Path, models=MODELS) -> Path:
    """Writes params.yaml and the results tree under root; returns the params file."""
    root.mkdir(parents=True, exist_ok=True)
    pf = write_params(root, models)
    r = root / "results"
    for mi, model in enumerate(models):
        base = _grades(model, "base", -1, [0], ["default", "forced_prefix"], 0.0)
        path = paths.grades(r, model, paths.BASE_RUN)
        path.parent.mkdir(parents=True, exist_ok=True)
        io.write_parquet(path, base)
        for ci, cond in enumerate(CONDITIONS):
            for seed in SEEDS:
                gain = 0.3 - 0.1 * ci - 0.15 * mi
                g = _grades(model, cond, seed, [5, 10], ["default"], gain)
                path = paths.grades(r, model, paths.run_id(cond, seed))
                path.parent.mkdir(parents=True, exist_ok=True)
                io.write_parquet(path, g)
                train = pd.DataFrame([{"step": st, "reward": 0.1 * st * (1 + ci),
                                       "clip_ratio_low_mean": 0.001 * st, "clip_ratio_high_mean": 0.002 * st,
                                       "clip_ratio_region_mean": 0.003 * st, "entropy": 1.0 / st}
                                      for st in range(1, 11)])
                tpath = paths.train_metrics(r, model, cond, seed)
                tpath.parent.mkdir(parents=True, exist_ok=True)
                train.to_csv(tpath, index=False)
    return pf
