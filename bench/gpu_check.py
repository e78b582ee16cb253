"""GPU check for the train stage: one H100/H200, offline, under 5 minutes.

1. bf16 GRPO (TRL) on CUDA with the tiny model built from config, eager attention: median update
   time and peak memory, with our NonFiniteGuard attached.
2. Generation throughput of the tiny model in bf16 (HF generate, sampling).
3. Per-token costs at a paper shape (Qwen2.5-Math-1.5B; --shapes 1.5b,7b adds 7B), random weights,
   bf16: training fwd+bwd tokens/s (gradient checkpointing) and HF-generate tokens/s; from them an
   estimate of GPU-hours per paper run (300 steps x 1,024 responses) and for the matrix, next to the
   paper's "about 24 hours on 8 A100s" (192 A100-hours) per run.
4. Last (a CUDA device-side assert poisons the context): the same GRPO with SDPA attention, to show
   whether the NaN guard trips before sampling crashes (reported: NaN from update 9).

Without CUDA it prints a message and exits 0. With CUDA it exits 1 if any section failed (each
failure is in the JSON report and named on stderr), else 0.  PYTHONPATH=src python bench/gpu_check.py
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

SHAPES = {  # Qwen2.5(-Math) configs (public model cards), random weights here
    "1.5b": dict(hidden_size=1536, intermediate_size=8960, num_hidden_layers=28, num_attention_heads=12,
                 num_key_value_heads=2, vocab_size=151936, tie_word_embeddings=True),
    "7b": dict(hidden_size=3584, intermediate_size=18944, num_hidden_layers=28, num_attention_heads=28,
               num_key_value_heads=4, vocab_size=152064, tie_word_embeddings=False),
}
PAPER_A100_HOURS_PER_RUN = 24 * 8


def grpo(base: Path, attn: str, steps: int) -> dict:
    import torch
    from datasets import Dataset
    from transformers import TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    from spurious_rewards import prompts
    from spurious_rewards.model.loading import load_tokenizer
    from spurious_rewards.rewards import build_reward
    from spurious_rewards.training import smoke
    from spurious_rewards.training.callbacks import NonFiniteError, NonFiniteGuard
    from spurious_rewards.training.grpo_config import plan

    class Timer(TrainerCallback):
        """Update times (CUDA-synchronised) and the logged grad norms."""

        def __init__(self):
            self.t, self.times, self.norms = 0.0, [], []

        def on_log(self, args, state, control, logs=None, **kw):
            if logs and "grad_norm" in logs:
                self.norms.append(float(logs["grad_norm"]))

        def on_step_begin(self, args, state, control, **kw):
            torch.cuda.synchronize()
            self.t = time.perf_counter()

        def on_step_end(self, args, state, control, **kw):
            torch.cuda.synchronize()
            self.times.append(time.perf_counter() - self.t)

    rows = [{"prompt": prompts.trl_prompt(r["prompt"]), "answer": r["answer"]} for r in smoke.problems(2048)]
    p = plan({"steps": steps, "save_every": steps, "prompts_per_step": 64, "generations_per_prompt": 8,
              "optimizer_batch": 64})
    cfg = GRPOConfig(output_dir=str(base.parent / f"grpo_{attn}"), max_steps=p.max_steps, seed=0,
                     per_device_train_batch_size=64, steps_per_generation=p.steps_per_generation,
                     num_generations=8, max_completion_length=64, learning_rate=3e-5, beta=0.0, loss_type="bnpo",
                     bf16=True, gradient_checkpointing=False, logging_steps=1, logging_nan_inf_filter=False,
                     save_strategy="no", report_to="none", disable_tqdm=True,
                     model_init_kwargs={"dtype": "float32", "attn_implementation": attn})
    timer = Timer()
    # The paper's random reward (gamma 0.5): an untrained model almost never earns a correctness
    # reward, which would leave every advantage and gradient at zero and the NaN check vacuous.
    reward = build_reward("random", seed=0, gamma=0.5)
    trainer = GRPOTrainer(model=str(base), reward_funcs=[reward], args=cfg,
                          train_dataset=Dataset.from_list(rows), processing_class=load_tokenizer(base),
                          callbacks=[NonFiniteGuard(p), timer])
    torch.cuda.reset_peak_memory_stats()
    out = {"attn": attn, "updates": p.max_steps, "updates_per_rollout": p.updates_per_rollout}
    try:
        trainer.train()
        out["result"] = "finished, all losses and grad norms finite"
    except NonFiniteError as exc:
        out["result"] = f"NaN guard tripped: {exc}"
    except RuntimeError as exc:  # e.g. device-side assert in sampling: the guard did NOT catch it first
        out["result"] = f"crashed before the guard: {str(exc).splitlines()[0]}"
    finite = [n for n in timer.norms if math.isfinite(n)]
    out["grad_norm"] = {"logged": len(timer.norms), "nonzero": sum(1 for n in finite if n > 0),
                        "max": round(max(finite), 4) if finite else None}
    out["median_update_s"] = round(statistics.median(timer.times), 4) if timer.times else None
    out["peak_mem_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 3)
    return out


def tiny_generation(base: Path) -> dict:
    import torch
    from transformers import AutoModelForCausalLM

    from spurious_rewards.model.loading import load_tokenizer
    from spurious_rewards.training import smoke

    tok = load_tokenizer(base)
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.bfloat16, attn_implementation="eager").cuda()
    texts = [tok.apply_chat_template([{"role": "user", "content": r["prompt"]}], tokenize=False,
                                     add_generation_prompt=True) for r in smoke.problems(256)]
    batch = tok(texts, return_tensors="pt", padding=True).to("cuda")
    return {"tiny_bf16_generate": _generate_rate(model, batch, 64, tok.pad_token_id)}


def _generate_rate(model, batch, new_tokens: int, pad_id) -> dict:
    import torch

    kw = dict(max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=True, temperature=1.0,
              pad_token_id=pad_id)
    model.generate(**{k: v[:8] for k, v in batch.items()}, **{**kw, "max_new_tokens": 4, "min_new_tokens": 4})
    torch.cuda.synchronize()
    t = time.perf_counter()
    model.generate(**batch, **kw)
    torch.cuda.synchronize()
    dt = time.perf_counter() - t
    n = batch["input_ids"].shape[0] * new_tokens
    return {"batch": batch["input_ids"].shape[0], "new_tokens": new_tokens, "seconds": round(dt, 3),
            "tokens_per_s": round(n / dt, 1)}


def shape_costs(name: str) -> dict:
    import torch
    from transformers import AutoModelForCausalLM, Qwen2Config

    cfg = Qwen2Config(max_position_embeddings=4096, **SHAPES[name])
    with torch.device("cuda"):
        model = AutoModelForCausalLM.from_config(cfg, dtype=torch.bfloat16, attn_implementation="sdpa")
    n_params = sum(p.numel() for p in model.parameters())
    # training: micro-batch 4 x 2048 tokens, fwd+bwd with gradient checkpointing (no optimizer step:
    # the paper offloads Adam to the CPU, and ZeRO-3 shards it)
    model.gradient_checkpointing_enable()
    model.train()
    ids = torch.randint(0, cfg.vocab_size, (4, 2048), device="cuda")
    torch.cuda.reset_peak_memory_stats()
    times = []
    for i in range(4):
        torch.cuda.synchronize()
        t = time.perf_counter()
        model(input_ids=ids, labels=ids).loss.backward()
        model.zero_grad(set_to_none=True)
        torch.cuda.synchronize()
        if i:
            times.append(time.perf_counter() - t)
    train_tps = ids.numel() / statistics.median(times)
    peak = torch.cuda.max_memory_allocated() / 2**30
    model.gradient_checkpointing_disable()
    model.eval()
    batch = {"input_ids": torch.randint(0, cfg.vocab_size, (256, 128), device="cuda"),
             "attention_mask": torch.ones(256, 128, dtype=torch.long, device="cuda")}
    with torch.no_grad():
        gen = _generate_rate(model, batch, 128, 0)
    del model
    torch.cuda.empty_cache()
    return {"params_b": round(n_params / 1e9, 2), "train_tokens_per_s": round(train_tps, 1),
            "train_peak_gib": round(peak, 1), "hf_generate": gen}


def estimate(costs: dict, runs: int, prompt_tokens: int, completion_tokens: int) -> dict:
    """GPU-hours of one paper run (300 x 1,024 responses) from the measured per-token rates."""
    responses = 300 * 1024
    gen_h = responses * completion_tokens / costs["hf_generate"]["tokens_per_s"] / 3600
    # policy update (fwd+bwd) plus one forward for pi_old logprobs (~1/3 of fwd+bwd)
    train_h = responses * (prompt_tokens + completion_tokens) / costs["train_tokens_per_s"] * (4 / 3) / 3600
    per_run = gen_h + train_h
    return {"assumed_tokens": {"prompt": prompt_tokens, "completion_mean": completion_tokens},
            "per_run_gpu_hours": {"generation_hf": round(gen_h, 1), "training": round(train_h, 1),
                                  "total": round(per_run, 1)},
            "paper_a100_hours_per_run": PAPER_A100_HOURS_PER_RUN,
            "matrix_runs": runs, "matrix_gpu_hours": round(per_run * runs, 1),
            "note": "HF generate is launch-bound; vLLM rollouts are typically several times faster, so "
                    "generation_hf is an upper bound"}


def paper_runs() -> int:
    from spurious_rewards.config import load_params

    paper = load_params(Path(__file__).resolve().parents[1] / "presets" / "paper.yaml")
    return len(paper.runs())


def _section(report: dict, key: str, measure) -> bool:
    ok = True
    try:
        report[key] = measure()
    except Exception as exc:  # noqa: BLE001 - a benchmark reports what broke and goes on
        report[key] = {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"}
        ok = False
    print(json.dumps({key: report[key]}), flush=True)
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=3, help="GRPO rollout steps (8 updates each)")
    ap.add_argument("--shapes", default="1.5b", help="comma list of paper shapes: 1.5b,7b")
    ap.add_argument("--runs", type=int, default=None,
                    help="runs in the matrix (default: presets/paper.yaml's models x conditions x seeds)")
    ap.add_argument("--prompt-tokens", type=int, default=150)
    ap.add_argument("--completion-tokens", type=int, default=700)
    ap.add_argument("--skip-sdpa", action="store_true")
    args = ap.parse_args()

    import torch

    if not torch.cuda.is_available():
        print("gpu_check: CUDA is not available on this machine; nothing to measure (exit 0).")
        return 0
    from spurious_rewards.training import smoke

    if args.runs is None:
        args.runs = paper_runs()
    report: dict = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__}
    t0 = time.perf_counter()
    failed = []

    def section(key, measure) -> bool:
        ok = _section(report, key, measure)
        if not ok:
            failed.append(key)
        return ok

    with tempfile.TemporaryDirectory() as tmp:
        base = smoke.build_base_model(Path(tmp) / "tiny", hidden=128, layers=4)
        # Each section on its own: one failure is reported and the rest still measure.
        section("grpo_bf16_eager", lambda: grpo(base, "eager", args.steps))
        section("tiny_bf16_generate", lambda: tiny_generation(base)["tiny_bf16_generate"])
        for name in filter(None, args.shapes.split(",")):
            if section(f"shape_{name}", lambda: shape_costs(name)):  # noqa: B023  (called at once)
                report[f"estimate_{name}"] = estimate(report[f"shape_{name}"], args.runs, args.prompt_tokens,
                                                      args.completion_tokens)
                print(json.dumps({f"estimate_{name}": report[f"estimate_{name}"]}), flush=True)
        if not args.skip_sdpa:
            section("grpo_bf16_sdpa", lambda: grpo(base, "sdpa", max(args.steps, 3)))
    report["wall_s"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(report, indent=2))
    if failed:
        print(f"gpu_check: {len(failed)} section(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
