"""Throughput of the HF generation backend vs a bare `model.generate` loop, same model and batch size.

The default tiny model (params.yaml models.toy architecture, random weights: throughput does not
depend on the weights) generates greedy completions for the same prompts in both arms. The bare arm is
what a user would write: tokenize a batch with left padding, model.generate, batch_decode. Arms
alternate (A B A B ...) so drift on a shared machine hits both; medians and the ratio are printed, the
ratio last (target >= 0.90). Both wall time and this process's CPU time are measured: on a shared
machine the CPU-time ratio is the robust one (other jobs stretch wall time, not our CPU seconds), and
the ratio printed last is the CPU-time one.

    PYTHONPATH=src python bench/bench_generation.py [--prompts 128] [--batch-size 64] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import yaml

from spurious_rewards import prompts as prompt_lib
from spurious_rewards.generation.hf import HFGenerator
from spurious_rewards.model.build import build_model, chat_text, train_tokenizer


def tiny(params_file: str):
    raw = yaml.safe_load(open(params_file, encoding="utf-8"))
    spec = raw["models"]["toy"]
    corpus = [chat_text([{"role": "user", "content": f"What is {a} plus {b}?"},
                         {"role": "assistant", "content": f"{a} + {b} = {a + b}. \\boxed{{{a + b}}}"}])
              for a in range(60) for b in range(0, 60, 7)]
    vocab = spec["tokenizer"]["vocab_size"]
    tok = train_tokenizer(corpus, vocab_size=vocab)
    model = build_model(tok, spec["architecture"], vocab_size=vocab, seed=0).eval()
    return tok, model


def bare_loop(model, tok, texts, batch_size, max_new_tokens):
    out = []
    for i in range(0, len(texts), batch_size):
        enc = tok(texts[i:i + batch_size], return_tensors="pt", padding=True, add_special_tokens=False)
        with torch.inference_mode():
            seqs = model.generate(**enc, do_sample=False, max_new_tokens=max_new_tokens,
                                  pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
        out += tok.batch_decode(seqs[:, enc["input_ids"].shape[1]:], skip_special_tokens=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--prompts", type=int, default=128)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--max-new-tokens", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    tok, model = tiny(args.params)
    tok.padding_side = "left"
    gen = HFGenerator(model, tok, device="cpu", batch_size=args.batch_size)
    # Varied lengths, as in a benchmark: the backend's length sorting gets to matter.
    texts = [prompt_lib.render(tok, f"What is {i} plus {i * 7 % 97}?" + " Think." * (i % 9))
             for i in range(args.prompts)]

    def arm_a():
        return gen.generate(texts, samples=1, temperature=0.0, max_new_tokens=args.max_new_tokens, seed=0)

    def arm_b():
        return bare_loop(model, tok, texts, args.batch_size, args.max_new_tokens)

    arm_a(), arm_b()  # warm-up
    wall = {"backend": [], "bare": []}
    cpu = {"backend": [], "bare": []}
    for _ in range(args.repeats):
        for name, fn in (("backend", arm_a), ("bare", arm_b)):
            w0, c0 = time.perf_counter(), time.process_time()
            fn()
            wall[name].append(time.perf_counter() - w0)
            cpu[name].append(time.process_time() - c0)
    med_w = {k: statistics.median(v) for k, v in wall.items()}
    med_c = {k: statistics.median(v) for k, v in cpu.items()}
    for name in ("backend", "bare"):
        print(f"{name:8s} wall median {med_w[name]:.3f} s ({args.prompts / med_w[name]:.1f} completions/s), "
              f"cpu median {med_c[name]:.3f} s; wall runs: {', '.join(f'{t:.2f}' for t in wall[name])}")
    print(f"batch_size={args.batch_size} prompts={args.prompts} max_new_tokens={args.max_new_tokens} "
          f"threads={args.threads} repeats={args.repeats}")
    print(f"wall-time throughput ratio backend/bare = {med_w['bare'] / med_w['backend']:.3f}")
    print(f"throughput ratio backend/bare (cpu time) = {med_c['bare'] / med_c['backend']:.3f}")


if __name__ == "__main__":
    main()
