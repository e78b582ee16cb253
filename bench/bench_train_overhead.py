"""Overhead of our train stage over a bare TRL GRPO script, same config, tiny default model (CPU).

A = spurious_rewards.commands.train.run (our dataset order, reward wrapper logging the code frequency,
    NaN guard, checkpoint marks/export/pruning, SIGTERM hook, CSV + provenance at the end)
B = GRPOTrainer(GRPOConfig(**the same kwargs)) with the bare reward, same data, same checkpoints

Runs alternate A/B (default 3 pairs) in one process, so both see the same machine load. The measured
unit is one rollout step (generation + its optimizer updates + any checkpoint save that follows),
timed between consecutive on_step_end events; the first rollout step of each run is warm-up and
dropped. Prints median seconds per rollout step for A and B, then the ratio A/B on the last line.

    PYTHONPATH=src python bench/bench_train_overhead.py [--pairs 3] [--steps 6]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from transformers import TrainerCallback  # noqa: E402


class RolloutTimer(TrainerCallback):
    def __init__(self, updates_per_rollout: int):
        self.u = updates_per_rollout
        self.ends: list[float] = []

    def on_train_begin(self, args, state, control, **kwargs):
        self.ends = [time.perf_counter()]

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step % self.u == 0:
            self.ends.append(time.perf_counter())

    def rollout_seconds(self) -> list[float]:
        return [b - a for a, b in zip(self.ends, self.ends[1:])][1:]  # drop warm-up rollout


def run_ours(params, timer) -> None:
    from spurious_rewards.commands import train as stage

    stage.run(params, "toy", "random", 1, callbacks=[timer])


def run_bare(params, timer, out_dir: Path) -> None:
    from trl import GRPOConfig, GRPOTrainer

    from spurious_rewards import paths
    from spurious_rewards.model.loading import load_tokenizer
    from spurious_rewards.rewards import build_reward
    from spurious_rewards.training import dataset
    from spurious_rewards.training.grpo_config import grpo_kwargs

    r = params.results_dir
    base = paths.base_model(r, "toy")
    kw = grpo_kwargs(params, "toy", "random", 1, output_dir=out_dir, device="cpu")
    train = params.train("toy", "random")
    rows = dataset.load_rows(paths.train_data(r), "chat", None)
    ds = dataset.ordered_dataset(rows, train["prompts_per_step"], train["steps"], 1)
    reward = build_reward("random", grader=params.raw["grader"], seed=1, gamma=0.5)
    trainer = GRPOTrainer(model=str(base), reward_funcs=[reward], args=GRPOConfig(**kw), train_dataset=ds,
                          processing_class=load_tokenizer(base), callbacks=[timer])
    trainer.train()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--steps", type=int, default=6, help="rollout steps per run")
    args = ap.parse_args()

    import torch

    from spurious_rewards import paths
    from spurious_rewards.config import load_params
    from spurious_rewards.training import smoke
    from spurious_rewards.training.grpo_config import plan

    root = Path(tempfile.mkdtemp(prefix="bench_train_"))
    try:
        repo_params = Path(__file__).resolve().parents[1] / "params.yaml"
        raw_params = load_params(repo_params)
        toy = raw_params.model("toy")
        # the default train section (16 prompts x 8, optimizer batch 64), shortened; report_to none
        short = {"steps": args.steps, "save_every": max(1, args.steps // 2), "report_to": []}
        pf = smoke.write_setup(root, repo_params, n_rows=256, **{**raw_params.raw["train"], **short})
        params = load_params(pf)
        base = paths.base_model(params.results_dir, "toy")
        shutil.rmtree(base)  # the tiny *default* model shape (params.yaml models.toy.architecture)
        smoke.build_base_model(base, arch=toy["architecture"], vocab_size=toy["tokenizer"]["vocab_size"])
        torch.set_num_threads(params.experiment["torch_threads"])
        u = plan(params.train("toy", "random")).updates_per_rollout
        times = {"ours": [], "bare": []}
        for i in range(args.pairs):
            for name in ("ours", "bare"):
                shutil.rmtree(params.results_dir / "state", ignore_errors=True)
                shutil.rmtree(params.results_dir / "runs", ignore_errors=True)
                timer = RolloutTimer(u)
                t0 = time.perf_counter()
                if name == "ours":
                    run_ours(params, timer)
                else:
                    run_bare(params, timer, root / f"bare{i}")
                times[name] += timer.rollout_seconds()
                print(f"pair {i + 1} {name}: run {time.perf_counter() - t0:.1f} s, rollout steps "
                      + " ".join(f"{t:.3f}" for t in timer.rollout_seconds()), file=sys.stderr, flush=True)
        med = {k: statistics.median(v) for k, v in times.items()}
        print(f"load average {os.getloadavg()[0]:.2f}; {len(times['ours'])} timed rollout steps per side")
        print(f"median s/rollout step: ours {med['ours']:.4f}  bare TRL {med['bare']:.4f}")
        print(f"ratio ours/bare: {med['ours'] / med['bare']:.3f}")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
