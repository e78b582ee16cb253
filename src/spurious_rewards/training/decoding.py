"""Which text of a rollout the reward sees: TRL's plain decode, or the paper's with special tokens.

TRL decodes completions with skip_special_tokens=True, so a reward never sees the EOS text. The paper's
OpenRLHF rollouts use vLLM with skip_special_tokens=False and include_stop_str_in_output=True (vLLM 0.7's
StopChecker then keeps the EOS text), so its rewards saw e.g. "The answer is 5.<|im_end|>", from which
the paper's grader extracts "5.<|im_end|>" and pays 0; a boxed answer is unaffected. Measured on the
tiny model's solution corpus (bench/special_tokens.py): the paper grader's ground-truth reward changes on
75 of 4,000 (1.9%, every correct unboxed "The answer is X." answer), math-verify and format: none.

`train.reward_text: with_special_tokens` re-decodes TRL's `completion_ids` (up to and including the
first EOS, as TRL masks them) with skip_special_tokens=False before the reward runs; the trainer's loss,
logs and code-frequency metric are unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

REWARD_TEXTS = ("plain", "with_special_tokens")


@dataclass(frozen=True, eq=False)
class WithSpecialTokens:
    """`reward` fed TRL's completion_ids decoded with special tokens (a class, so it pickles)."""

    reward: Callable
    tokenizer: Any

    def __post_init__(self) -> None:
        object.__setattr__(self, "__name__", getattr(self.reward, "__name__", type(self.reward).__name__))
        object.__setattr__(self, "__doc__", getattr(self.reward, "__doc__", None))

    def __call__(self, prompts, completions, completion_ids=None, **kwargs):
        if completion_ids is None:
            raise ValueError("reward_text: with_special_tokens needs the completion_ids TRL passes")
        texts = self.tokenizer.batch_decode([list(ids) for ids in completion_ids], skip_special_tokens=False)
        return self.reward(prompts, texts, completion_ids=completion_ids, **kwargs)


def reward_text(reward: Callable, mode: str, tokenizer) -> Callable:
    """`reward` as is (plain) or fed completions decoded with special tokens (with_special_tokens)."""
    if mode == "plain":
        return reward
    if mode != "with_special_tokens":
        raise ValueError(f"unknown reward_text {mode!r} ({' | '.join(REWARD_TEXTS)})")
    return WithSpecialTokens(reward, tokenizer)
