"""Does decoding rollouts WITH special tokens (as the paper's vLLM rollouts: skip_special_tokens=False,
include_stop_str_in_output=True, so the EOS text "<|im_end|>" stays at the end) change any reward?

Samples rollouts from local model folders the way a GRPO step does (the model's prompt template, T 1.0,
top_p 1.0, max_completion_length tokens), keeps each completion up to and including its first EOS (TRL's
completion), decodes it both ways and scores both texts with every label/format reward and grader.

    python bench/special_tokens.py /tmp/fid/toy_base /tmp/fid/toy_gt_step2 --data train.jsonl
    python bench/special_tokens.py --corpus 4000      # the tiny model's solution corpus + EOS text

Prints one JSON line per (model, reward, grader): rollouts, rewards that differ, mean reward each way.
Measured (2026-12-01): sampled rollouts of the default toy base model and a 2-step ground-truth
checkpoint, 512 each: no reward changed (the model answered 0.8% correctly, so no correct unboxed
answer to lose). Corpus of 4,000 solutions (124 unboxed): paper ground truth 75 changed (0.807 ->
0.788), math_verify ground truth 0, format 0.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch


def sample(folder: Path, rows: list[dict], n_gen: int, max_new: int, seed: int):
    from transformers import AutoModelForCausalLM

    from spurious_rewards import prompts
    from spurious_rewards.model.loading import load_tokenizer

    tok = load_tokenizer(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    torch.manual_seed(seed)
    texts = [prompts.render(tok, r["prompt"], "chat") for r in rows]
    plain, special, answers = [], [], []
    eos = tok.eos_token_id
    for i in range(0, len(texts), 16):
        batch = texts[i:i + 16]
        enc = tok(batch, return_tensors="pt", padding=True, padding_side="left", add_special_tokens=False)
        with torch.no_grad():
            out = model.generate(**enc, do_sample=True, temperature=1.0, top_p=1.0, top_k=0,
                                 max_new_tokens=max_new, num_return_sequences=n_gen,
                                 pad_token_id=tok.pad_token_id, eos_token_id=eos)
        gen = out[:, enc["input_ids"].shape[1]:].tolist()
        for j, ids in enumerate(gen):
            if eos in ids:
                ids = ids[:ids.index(eos) + 1]  # TRL's completion: up to and including the first EOS
            plain.append(tok.decode(ids, skip_special_tokens=True))
            special.append(tok.decode(ids, skip_special_tokens=False).replace(tok.pad_token or "\0", ""))
            answers.append(str(rows[i + j // n_gen]["answer"]))
    return plain, special, answers


def score_both(label: str, plain: list[str], special: list[str], answers: list[str]) -> None:
    from spurious_rewards.rewards import build_reward

    n_eos = sum(a != b for a, b in zip(plain, special))
    examples = []
    for name, grader in (("ground_truth", "paper"), ("ground_truth", "math_verify"),
                         ("format_boxed", "paper"), ("mention_python", "paper"), ("no_repetition", "paper")):
        f = build_reward(name, grader=grader)
        a = f([""] * len(plain), plain, answer=answers)
        b = f([""] * len(special), special, answer=answers)
        diff = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
        examples += [special[i][-60:] for i in diff[:2]]
        print(json.dumps({"model": label, "reward": name, "grader": grader, "rollouts": len(a),
                          "with_eos_text": n_eos, "differ": len(diff),
                          "mean_skip": round(sum(a) / len(a), 4), "mean_special": round(sum(b) / len(b), 4)}))
    print(json.dumps({"model": label, "examples": examples[:4]}))


def corpus(n: int) -> tuple[list[str], list[str], list[str]]:
    """The tiny model's pre-training solutions (what its rollouts imitate), plain and + EOS text."""
    from spurious_rewards.model.corpus import StyleMix, build

    rows = build(n, StyleMix(), seed=0, add_max=99, mul_max=12, exclude=set())
    plain = [r["completion"][0]["content"] for r in rows]
    return plain, [t + "<|im_end|>" for t in plain], [str(r["answer"]) for r in rows]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("models", nargs="*", type=Path)
    ap.add_argument("--data", type=Path, help="training rows (JSONL: prompt, answer)")
    ap.add_argument("--corpus", type=int, default=0, help="also score this many corpus solutions")
    ap.add_argument("--prompts", type=int, default=64)
    ap.add_argument("--generations", type=int, default=8)
    ap.add_argument("--max-new-tokens", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    from spurious_rewards.io import read_jsonl

    torch.set_num_threads(2)
    if args.corpus:
        score_both("corpus", *corpus(args.corpus))
    if args.models and not args.data:
        ap.error("--data is needed to sample from models")
    rows = read_jsonl(args.data)[: args.prompts] if args.models else []
    for folder in args.models:
        score_both(folder.name, *sample(folder, rows, args.generations, args.max_new_tokens, args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
