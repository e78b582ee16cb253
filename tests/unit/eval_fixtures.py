"""A tiny results tree for the evaluate/grade tests: params file, benchmarks, base model, checkpoints."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import yaml

from spurious_rewards import paths

REPO = Path(__file__).resolve().parents[2]


def write_params(root: Path, **overrides) -> Path:
    raw = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    raw = copy.deepcopy(raw)
    raw["experiment"].update(results_dir=str(root / "results"), models=["toy"],
                             conditions=["ground_truth"], seeds=[1], device="cpu", torch_threads=2)
    raw["data"]["benchmarks"] = {
        "arith": {"source": "synthetic", "n": 4, "samples": 1, "temperature": 0.0, "max_new_tokens": 6},
        "arith_hard": {"source": "synthetic", "n": 3, "samples": 2, "temperature": 0.7, "max_new_tokens": 6},
    }
    raw["evaluate"]["batch_size"] = 4
    raw["resources"]["grade"]["cpus"] = 1
    for key, value in overrides.items():
        section, _, name = key.partition("__")
        raw[section][name] = value
    path = root / "params.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def write_benchmarks(results: Path) -> None:
    for name, n in (("arith", 4), ("arith_hard", 3)):
        path = paths.benchmark_data(results, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = [{"id": f"{name}-{i}", "prompt": f"What is {i} plus {i + 2}?", "answer": str(2 * i + 2),
                 "source": "synthetic"} for i in range(n)]
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def build_tree(root: Path, template_model: Path) -> Path:
    """Results tree with a base model and checkpoints step000005/step000010 of toy/ground_truth/seed1."""
    results = root / "results"
    write_benchmarks(results)
    shutil.copytree(template_model, paths.base_model(results, "toy"))
    ckpts = paths.checkpoints_dir(results, "toy", "ground_truth", 1)
    for step in (5, 10):
        shutil.copytree(template_model, ckpts / paths.step_name(step))
    return results
