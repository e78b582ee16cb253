"""The reward text with special tokens (train.reward_text), as the paper's vLLM rollouts decode it."""

from __future__ import annotations

import pytest

from spurious_rewards.rewards import build_reward
from spurious_rewards.training import smoke
from spurious_rewards.training.decoding import reward_text


@pytest.fixture(scope="module")
def tok():
    return smoke.build_tokenizer(smoke.problems(100, seed=0), vocab_size=512)


def test_eos_text_reaches_the_reward_and_changes_the_paper_grade(tok):
    texts = ["The answer is 5.", r"The answer is \boxed{5}.", "so it is 5"]
    ids = [tok.encode(t, add_special_tokens=False) + [tok.eos_token_id] for t in texts]
    assert tok.eos_token == "<|im_end|>"
    seen = []

    def spy(prompts, completions, **kw):
        seen.extend(completions)
        return gt(prompts, completions, **kw)

    gt = build_reward("ground_truth", grader="paper")
    plain = reward_text(gt, "plain", tok)
    special = reward_text(spy, "with_special_tokens", tok)
    assert plain is gt
    # TRL passes the plain text; the paper's grader then extracts "5.<|im_end|>" from the first: 0
    assert plain(["q"] * 3, texts, completion_ids=ids, answer=["5"] * 3) == [1.0, 1.0, 1.0]
    assert special(["q"] * 3, texts, completion_ids=ids, answer=["5"] * 3) == [0.0, 1.0, 1.0]
    assert [s.endswith("<|im_end|>") for s in seen] == [True, True, True]
    mv = reward_text(build_reward("ground_truth", grader="math_verify"), "with_special_tokens", tok)
    assert mv(["q"] * 3, texts, completion_ids=ids, answer=["5"] * 3) == [1.0, 1.0, 1.0]
    assert reward_text(gt, "with_special_tokens", tok).__name__ == "ground_truth"  # TRL's log key
    with pytest.raises(ValueError, match="reward_text"):
        reward_text(gt, "raw", tok)
