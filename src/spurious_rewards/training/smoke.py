"""A throw-away base model, training set and parameter file for smoke tests and benchmarks (offline).

The tests and bench/bench_train_overhead.py need a real, loadable base folder (tokenizer + weights) in
under a second, without the pipeline's `data` and `base` stages. The model comes from the one builder of
the tiny Qwen2, spurious_rewards.model.build (what the `base` stage builds), just smaller and untrained:
GRPO machinery, not accuracy, is under test.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path

import yaml

# The CLI's default parameter file (cliargs.add_params), relative to the working directory; callers
# outside the repository root pass their own.
DEFAULT_PARAMS = Path("params.yaml")


def problems(n: int, seed: int = 0) -> list[dict]:
    """n rows {id, prompt, answer, source} of "What is a + b?"."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        a, b = rng.randint(0, 49), rng.randint(0, 49)
        rows.append({"id": f"add-{i:04d}", "prompt": f"What is {a} + {b}?", "answer": str(a + b),
                     "source": "smoke"})
    return rows


def _corpus(rows: list[dict]) -> list[str]:
    from spurious_rewards.model.build import chat_text

    # Chat-formatted text, so "user"/"assistant" get merged (model/build.py).
    out = []
    for r in rows:
        reply = f"{r['prompt'][8:-1]} = {r['answer']}. The answer is \\boxed{{{r['answer']}}}."
        out.append(chat_text([{"role": "user", "content": r["prompt"]},
                              {"role": "assistant", "content": reply}]))
        out.append(f"```python\nprint({r['prompt'][8:-1]})\n```\nOutput: {r['answer']}")
    return out


def build_tokenizer(rows: list[dict], vocab_size: int = 512):
    from spurious_rewards.model.build import train_tokenizer

    return train_tokenizer(_corpus(rows), vocab_size=vocab_size)


def architecture(hidden: int = 64, layers: int = 2) -> dict:
    """models.<m>.architecture of a smoke model: `hidden` wide, `layers` deep, 4 heads (2 KV)."""
    return {"hidden_size": hidden, "intermediate_size": hidden * 3, "num_hidden_layers": layers,
            "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 512}


def build_base_model(out_dir: str | Path, *, hidden: int = 64, layers: int = 2, vocab_size: int = 512,
                     seed: int = 0, arch: dict | None = None) -> Path:
    """Write a loadable base folder (config, weights, tokenizer) with an untrained tiny Qwen2; `arch`
    (a models.<m>.architecture) replaces hidden and layers."""
    from spurious_rewards.model import build

    tokenizer = build_tokenizer(problems(400, seed=seed), vocab_size=vocab_size)
    model = build.build_model(tokenizer, arch or architecture(hidden, layers), vocab_size, seed)
    return build.save(model, tokenizer, out_dir)


def params_dict(results_dir: str | Path, params_file: str | Path = DEFAULT_PARAMS, **train: object) -> dict:
    """The project's params.yaml with a tiny, fast `train` section and results_dir redirected."""
    try:
        with open(params_file, encoding="utf-8") as fh:
            raw = yaml.safe_load(fh)
    except FileNotFoundError:
        raise FileNotFoundError(f"{params_file}: no parameter file (run from the repository root, or pass "
                                "params_file)") from None
    raw = copy.deepcopy(raw)
    raw["experiment"].update(results_dir=str(results_dir), seeds=[1])
    raw["train"].update({"steps": 4, "save_every": 2, "prompts_per_step": 4, "generations_per_prompt": 4,
                         "optimizer_batch": 8, "max_completion_length": 16, "learning_rate": 1e-3,
                         "report_to": []})
    raw["train"].update(train)
    return raw


def write_setup(root: str | Path, params_file: str | Path = DEFAULT_PARAMS, n_rows: int = 32,
                **train: object) -> Path:
    """Base model + training set + params file under `root`; returns the params file path."""
    from spurious_rewards import paths
    from spurious_rewards.io import write_jsonl

    root = Path(root)
    results = root / "results"
    raw = params_dict(results, params_file, **train)
    model = raw["experiment"]["models"][0]
    build_base_model(paths.base_model(results, model))
    write_jsonl(paths.train_data(results), problems(n_rows, seed=1))
    out = root / "params.yaml"
    out.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return out


# manual use: python -m spurious_rewards.training.smoke DIR [PARAMS]
if __name__ == "__main__":  # pragma: no cover
    import sys

    print(json.dumps({"params": str(write_setup(sys.argv[1], *sys.argv[2:3]))}))
