"""A tiny Qwen2 model (hidden 64, 2 layers, vocab 512) + the project's byte-level BPE tokenizer, built
from config with spurious_rewards.model.build, for the generation/evaluate tests. Nothing downloaded."""

from __future__ import annotations

from pathlib import Path

ARCHITECTURE = {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
                "num_key_value_heads": 2, "intermediate_size": 192, "max_position_embeddings": 512}


def corpus(n: int = 300) -> list[str]:
    from spurious_rewards.model.build import chat_text

    out = []
    for i in range(n):
        a, b = i % 97, (i * 7) % 89
        answer = (f"```python\nprint({a} + {b})\n```\nOutput: {a + b}" if i % 3 == 0
                  else f"{a} + {b} = {a + b}.")
        reply = f"{answer} The answer is \\boxed{{{a + b}}}."
        out.append(chat_text([{"role": "user", "content": f"What is {a} plus {b}?"},
                              {"role": "assistant", "content": reply}]))
    return out


def build_tokenizer(vocab_size: int = 512):
    from spurious_rewards.model.build import train_tokenizer

    return train_tokenizer(corpus(), vocab_size=vocab_size)


def build_model(tokenizer, seed: int = 0, vocab: int = 512):
    from spurious_rewards.model.build import build_model as build

    return build(tokenizer, ARCHITECTURE, vocab_size=vocab, seed=seed).eval()


def save_tiny(folder: str | Path, seed: int = 0, tokenizer=None) -> Path:
    folder = Path(folder)
    tokenizer = tokenizer or build_tokenizer()
    build_model(tokenizer, seed=seed).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
