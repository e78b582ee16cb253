"""A throw-away base model, training set and parameter file for smoke tests and benchmarks (offline).

The tests and bench/bench_train_overhead.py need a real, loadable base folder (tokenizer + weights) in
under a second, without the pipeline's `data` and `base` stages. This builds the same kind of model the
`base` stage builds (a Qwen2 from config with a digit-splitting byte-level BPE and the ChatML template,
see research/ml-stack.md §2-3), just smaller and untrained: GRPO machinery, not accuracy, is under test.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path

import yaml

# The repository's params.yaml (src/spurious_rewards/training/smoke.py -> repo root).
REPO_PARAMS = Path(__file__).resolve().parents[3] / "params.yaml"
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
CHAT_TEMPLATE = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
                 "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


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
    # Chat-formatted text, so "user"/"assistant" get merged (ml-stack.md §2 pitfall).
    out = []
    for r in rows:
        out.append(f"<|im_start|>user\n{r['prompt']}<|im_end|>\n<|im_start|>assistant\n"
                   f"{r['prompt'][8:-1]} = {r['answer']}. The answer is \\boxed{{{r['answer']}}}.<|im_end|>\n")
        out.append(f"```python\nprint({r['prompt'][8:-1]})\n```\nOutput: {r['answer']}")
    return out


def build_tokenizer(rows: list[dict], vocab_size: int = 512):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                 pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    tok.train_from_iterator(_corpus(rows), trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    hf = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                 bos_token=None, unk_token=None, padding_side="left", model_max_length=512)
    hf.chat_template = CHAT_TEMPLATE
    return hf


def build_base_model(out_dir: str | Path, *, hidden: int = 64, layers: int = 2, vocab_size: int = 512,
                     seed: int = 0) -> Path:
    """Write a loadable base folder (config, weights, tokenizer) with an untrained tiny Qwen2."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    out_dir = Path(out_dir)
    tokenizer = build_tokenizer(problems(400, seed=seed), vocab_size=vocab_size)
    config = Qwen2Config(vocab_size=vocab_size, hidden_size=hidden, intermediate_size=hidden * 3,
                         num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=512, tie_word_embeddings=True,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
                         bos_token_id=None)
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    from spurious_rewards.io import honour_umask

    honour_umask(out_dir)  # save_pretrained writes model.safetensors 0600
    return out_dir


def params_dict(results_dir: str | Path, params_file: str | Path = REPO_PARAMS, **train: object) -> dict:
    """The project's params.yaml with a tiny, fast `train` section and results_dir redirected."""
    with open(params_file, encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    raw = copy.deepcopy(raw)
    raw["experiment"].update(results_dir=str(results_dir), seeds=[1])
    raw["train"].update({"steps": 4, "save_every": 2, "prompts_per_step": 4, "generations_per_prompt": 4,
                         "optimizer_batch": 8, "max_completion_length": 16, "learning_rate": 1e-3,
                         "report_to": []})
    raw["train"].update(train)
    return raw


def write_setup(root: str | Path, params_file: str | Path = REPO_PARAMS, n_rows: int = 32,
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


if __name__ == "__main__":  # pragma: no cover - manual use: python -m spurious_rewards.training.smoke DIR
    import sys

    print(json.dumps({"params": str(write_setup(sys.argv[1]))}))
