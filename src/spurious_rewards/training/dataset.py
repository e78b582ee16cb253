"""The prompts one run trains on, in the exact order it sees them.

Rows come from paths.training_set(...) as {id, prompt, answer, source, ...}. TRL gets every column:
`prompt` is prompts.trl_prompt(...) (a user turn for chat templates, so TRL applies the model's chat
template with its default system prompt; the R1 text for base models), `answer` and `id` as text, and
every other column as it is (`source`, and e.g. `ground_truth` in label files); TRL passes them all to
the reward functions as keyword columns, so a reward of your own can read them.

Order: like OpenRLHF's ResumableRandomSampler(shuffle, seed, drop_last), each epoch is a fresh seeded
permutation with the incomplete last batch dropped; epochs are concatenated until the run's
`steps x prompts_per_step` prompts are covered. TRL then reads this list unshuffled, so a resumed run
skips exactly the prompts already consumed (TRL's own sampler would restart its generator per epoch).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from spurious_rewards import prompts
from spurious_rewards.io import DataError, read_jsonl

log = logging.getLogger(__name__)

# Names TRL itself uses for a reward's arguments (or drops from the batch): not passed as columns.
TRL_RESERVED = frozenset({"completion", "completion_ids", "completions", "prompts", "trainer_state",
                          "log_metric", "log_extra", "environments"})


def order(n_rows: int, prompts_per_step: int, steps: int, seed: int) -> list[int]:
    """Row indices for `steps` rollout steps: seeded per-epoch permutations, drop_last."""
    per_epoch = (n_rows // prompts_per_step) * prompts_per_step
    if per_epoch == 0:
        raise DataError(f"training set has {n_rows} usable prompts, fewer than prompts_per_step "
                        f"({prompts_per_step})")
    rng = np.random.default_rng(seed)
    need = steps * prompts_per_step
    out: list[int] = []
    while len(out) < need:
        out.extend(rng.permutation(n_rows)[:per_epoch].tolist())
    return out[:need]


def prompt_length(tokenizer, prompt) -> int:
    if isinstance(prompt, str):  # plain text: tokenised with the tokenizer's defaults, as TRL does
        return len(tokenizer(prompt)["input_ids"])
    ids = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=True)
    if isinstance(ids, dict) or hasattr(ids, "keys"):  # transformers 5 may return a BatchEncoding
        ids = ids["input_ids"]
    return len(ids)


def load_rows(path: str | Path, template: str, system_prompt: str | None, tokenizer=None,
              max_prompt_length: int | None = None) -> list[dict]:
    """TRL rows {prompt, answer, id, <other columns>}; prompts over max_prompt_length tokens are dropped
    (and counted)."""
    rows = read_jsonl(path, required=("id", "prompt", "answer"), answer_field="answer")
    # One set of columns for every row (datasets takes the first row's keys), None where a row lacks one.
    extra = [c for c in dict.fromkeys(k for r in rows for k in r) if c not in ("id", "prompt", "answer")
             and c not in TRL_RESERVED]
    out = [{"prompt": prompts.trl_prompt(r["prompt"], template, system_prompt),
            "answer": str(r["answer"]), "id": str(r["id"]), **{c: r.get(c) for c in extra}} for r in rows]
    if tokenizer is not None and max_prompt_length:
        kept = [r for r in out if prompt_length(tokenizer, r["prompt"]) <= max_prompt_length]
        if len(kept) < len(out):
            log.warning("%s: dropped %d of %d prompts longer than max_prompt_length=%d tokens",
                        path, len(out) - len(kept), len(out), max_prompt_length)
        out = kept
    if not out:
        raise DataError(f"{path}: no usable training prompts")
    return out


def ordered_dataset(rows: list[dict], prompts_per_step: int, steps: int, seed: int):
    """A datasets.Dataset holding exactly the prompts of the run, in training order."""
    from datasets import Dataset

    idx = order(len(rows), prompts_per_step, steps, seed)
    return Dataset.from_list([rows[i] for i in idx])
