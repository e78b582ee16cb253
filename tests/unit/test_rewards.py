"""Reward registry and every reward of the paper."""

from __future__ import annotations

import doctest
import os
import random
from types import SimpleNamespace

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest

from spurious_rewards import rewards
from spurious_rewards.rewards import (
    REQUIRES_LABEL,
    REWARDS,
    build_reward,
    completion_text,
    has_repetition,
    needs_label,
    reward_names,
)

LABEL_REWARDS = ("ground_truth", "majority_vote", "incorrect_label", "one_shot")


def chat(text: str) -> list[dict]:
    return [{"role": "assistant", "content": text}]


def call(name: str, completions: list, answers: list | None = None, **build_options):
    reward = build_reward(name, **build_options)
    kwargs = {} if answers is None else {"answer": answers}
    return reward(["prompt"] * len(completions), completions, **kwargs)


# --------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------


def test_registry_contents():
    assert set(REWARDS) >= {
        "ground_truth", "majority_vote", "incorrect_label", "one_shot", "format_boxed",
        "random", "mention_python", "no_repetition",
    }
    assert reward_names() == sorted(REWARDS)
    assert REQUIRES_LABEL == set(LABEL_REWARDS)
    assert needs_label("incorrect_label_without_python") is True
    assert needs_label("format_boxed_without_python") is False


def test_unknown_reward_lists_names():
    with pytest.raises(ValueError, match="ground_truth.*random"):
        build_reward("gold")
    with pytest.raises(ValueError, match="unknown reward"):
        build_reward("_without_python")
    with pytest.raises(ValueError, match="unknown reward"):
        needs_label("nope_without_python")


@pytest.mark.parametrize(
    "name,options,message",
    [
        ("random", {"gamma": 1.5}, "gamma"),
        ("random", {"gamma": -0.1}, "gamma"),
        ("random", {"gamma": "half"}, "gamma"),
        ("random", {"gama": 0.3}, "gama"),
        ("format_boxed", {"gamma": 0.3}, "gamma"),
        ("ground_truth", {"workers": -2}, "workers"),
        ("ground_truth", {"timeout_s": 0}, "timeout_s"),
        ("ground_truth", {"colour": "red"}, "colour"),
    ],
)
def test_bad_options_are_named(name, options, message):
    with pytest.raises(ValueError, match=message):
        build_reward(name, **options)


def test_bad_grader_and_seed():
    with pytest.raises(ValueError, match="math_verify, paper"):
        build_reward("ground_truth", grader="qwen")
    with pytest.raises(ValueError, match="seed"):
        build_reward("random", seed="1")


@pytest.mark.parametrize("name", sorted(REWARDS) + ["random_without_python", "ground_truth_without_python"])
def test_callable_is_named_after_the_reward(name):
    reward = build_reward(name)
    assert reward.__name__ == name
    assert name.split("_without_python")[0] in reward.__doc__


def test_docstring_examples_run():
    result = doctest.testmod(rewards, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted >= 10  # every reward has a worked example


# --------------------------------------------------------------------------
# Completion formats and TRL's calling convention
# --------------------------------------------------------------------------


def test_completion_text_formats():
    assert completion_text("abc") == "abc"
    assert completion_text(chat("abc")) == "abc"
    assert completion_text([{"role": "assistant", "content": [{"type": "text", "text": "x"}]}]) == "x"
    assert completion_text(None) == ""


@pytest.mark.parametrize("name", sorted(REWARDS))
def test_string_and_chat_completions_agree(name):
    texts = [r"Using python: \boxed{4}", r"\boxed{5}", "na " * 40, "nothing"]
    answers = ["4", "4", "4", "4"]
    kwargs = {"answer": answers} if needs_label(name) else {}
    reward = build_reward(name, seed=1)
    as_str = reward(["p"] * 4, texts, **kwargs)
    as_chat = reward(["p"] * 4, [chat(t) for t in texts], **kwargs)
    assert as_str == as_chat
    assert all(v in (0.0, 1.0) for v in as_str) and len(as_str) == 4


def test_accepts_everything_trl_passes():
    reward = build_reward("ground_truth")
    out = reward(
        prompts=[[{"role": "user", "content": "q"}]] * 2,
        completions=[chat(r"\boxed{12.8}"), chat(r"\boxed{3}")],
        completion_ids=[[1, 2], [3]],
        answer=["12.8", "12.8"],
        id=["a", "a"],
        source=["x", "x"],
        trainer_state=SimpleNamespace(global_step=7),
        log_extra=lambda *a, **k: None,
        log_metric=lambda *a, **k: None,
    )
    assert out == [1.0, 0.0]


# --------------------------------------------------------------------------
# Label rewards
# --------------------------------------------------------------------------

LABEL_CASES = [
    (r"so \boxed{12.8}", "12.8", 1.0),
    (r"\boxed{\frac{64}{5}}", "12.8", 1.0),
    (r"\boxed{13}", "12.8", 0.0),
    (r"\boxed{142}", "142.0", 1.0),
    (r"\boxed{70}", "070", 1.0),
    ("no answer at all", "5", 0.0),
    (r"\boxed{5}", "", 0.0),  # empty majority label never rewards
    (r"\boxed{5}", None, 0.0),
]


@pytest.mark.parametrize("name", LABEL_REWARDS)
@pytest.mark.parametrize("grader", ["math_verify", "paper"])
def test_label_rewards_are_one_family(name, grader):
    completions = [c for c, _, _ in LABEL_CASES]
    answers = [a for _, a, _ in LABEL_CASES]
    expected = [e for _, _, e in LABEL_CASES]
    assert call(name, completions, answers, grader=grader) == expected


def test_label_reward_grader_choice_matters():
    # math-verify reads 10% as 0.1, the paper's grader strips "%".
    completions, answers = [r"\boxed{10\%}"], ["10"]
    assert call("ground_truth", completions, answers, grader="math_verify") == [0.0]
    assert call("ground_truth", completions, answers, grader="paper") == [1.0]


def test_label_reward_needs_the_column():
    reward = build_reward("majority_vote")
    with pytest.raises(ValueError, match="'answer'"):
        reward(["p"], [r"\boxed{1}"])
    with pytest.raises(ValueError, match="2 rows, expected 1"):
        reward(["p"], [r"\boxed{1}"], answer=["1", "1"])


def test_label_column_option():
    reward = build_reward("ground_truth", label_column="solution")
    assert reward(["p", "p"], [r"\boxed{1}", r"\boxed{2}"], solution=["1", "1"]) == [1.0, 0.0]


def test_label_reward_through_the_pool_matches_in_process():
    completions = [rf"\boxed{{{i % 7}}}" for i in range(30)] + [r"\boxed{9^{9^{9^{9}}}}"]
    answers = [str(i % 5) for i in range(30)] + ["1"]
    in_process = call("ground_truth", completions, answers, grader="paper")
    pooled = call("ground_truth", completions, answers, grader="paper", workers=2, timeout_s=2.0)
    assert pooled == in_process
    assert sum(in_process) == sum(1 for i in range(30) if i % 7 == i % 5)


@pytest.mark.parametrize("workers,pooled", [(None, False), (0, False), (1, True), (2, True)])
def test_workers_option_routes_through_the_pool(monkeypatch, workers, pooled):
    from spurious_rewards.grading import pool

    calls = []
    real = pool.grade_many

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(pool, "grade_many", spy)
    out = call("one_shot", [r"\boxed{12.8}", "12"], ["12.8", "12.8"], workers=workers, timeout_s=3)
    assert out == [1.0, 0.0]
    assert bool(calls) is pooled
    if pooled:
        assert calls[0]["workers"] == workers and calls[0]["timeout_s"] == 3


# --------------------------------------------------------------------------
# format_boxed
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,expected",
    [
        (r"\boxed{x}", 1.0),
        (r"\boxed{ 3 }", 1.0),
        (r"$\boxed 5$", 1.0),
        (r"\boxed{5} but then \boxed{}", 0.0),  # the LAST box decides
        (r"\boxed{} but then \boxed{5}", 1.0),
        (r"\boxed{\text{ cm}}", 0.0),  # empty after normalisation
        (r"\boxed{$ $}", 0.0),
        ("no box at all 42", 0.0),
        ("", 0.0),
        (r"\boxed{\frac{1}{2}", 1.0),  # unclosed: content so far counts
    ],
)
def test_format_boxed(text, expected):
    assert call("format_boxed", [text]) == [expected]


# --------------------------------------------------------------------------
# random
# --------------------------------------------------------------------------


def test_random_is_deterministic_and_ignores_the_completion():
    reward = build_reward("random", seed=11)
    ids = [1, 1, 2, 2, 3, 3, 1, 1]
    a = reward(["p"] * 8, ["x"] * 8, id=ids)
    b = reward(["q"] * 8, ["y" * 50] * 8, id=ids)
    assert a == b
    assert a == build_reward("random", seed=11)(["p"] * 8, ["x"] * 8, id=ids)


def test_random_depends_on_seed_step_id_and_sample_index():
    n = 64
    base = build_reward("random", seed=0)
    reference = base(["p"] * n, ["x"] * n, id=[0] * n)
    assert build_reward("random", seed=1)(["p"] * n, ["x"] * n, id=[0] * n) != reference
    stepped = base(["p"] * n, ["x"] * n, id=[0] * n, trainer_state=SimpleNamespace(global_step=5))
    assert stepped != reference
    assert base(["p"] * n, ["x"] * n, id=[1] * n) != reference
    # Sample index = occurrence number of the id: the i-th draw of id 0 is the
    # same whether or not other ids are interleaved.
    mixed = base(["p"] * (2 * n), ["x"] * (2 * n), id=[0, 9] * n)
    assert mixed[0::2] == reference
    # Without an id column the prompt text stands in for it.
    assert base(["p"] * n, ["x"] * n) == base(["p"] * n, ["z"] * n)
    assert base(["p"] * n, ["x"] * n) != base(["other"] * n, ["x"] * n)


def test_random_mixes_in_the_process_index(monkeypatch):
    reward = build_reward("random", seed=0)
    first = reward(["p"] * 64, ["x"] * 64)
    monkeypatch.setattr(rewards, "_process_index", lambda: 1)
    assert reward(["p"] * 64, ["x"] * 64) != first


def test_process_index_read_only_from_an_initialised_accelerate(monkeypatch):
    import sys

    class FakePartialState:
        _shared_state: dict = {}
        process_index = 3

    fake_module = SimpleNamespace(PartialState=FakePartialState)
    monkeypatch.setitem(sys.modules, "accelerate.state", fake_module)
    assert rewards._process_index() == 0  # imported but not initialised
    FakePartialState._shared_state = {"backend": "gloo"}
    assert rewards._process_index() == 3
    monkeypatch.delitem(sys.modules, "accelerate.state")
    assert rewards._process_index() == 0


def test_random_never_touches_the_global_rng():
    random.seed(123)
    state = random.getstate()
    out1 = build_reward("random", seed=4)(["p"] * 32, ["x"] * 32)
    assert random.getstate() == state
    random.seed(999)
    assert build_reward("random", seed=4)(["p"] * 32, ["x"] * 32) == out1


@pytest.mark.parametrize("gamma", [0.0, 0.001, 0.3, 0.5, 0.7, 1.0])
def test_random_rate_matches_gamma(gamma):
    n = 4000
    out = build_reward("random", seed=2, gamma=gamma)(["p"] * n, ["x"] * n)
    rate = sum(out) / n
    if gamma in (0.0, 1.0):
        assert rate == gamma
    else:
        # 4.5 binomial standard deviations: a false failure is ~1e-5 likely.
        assert abs(rate - gamma) <= 4.5 * (gamma * (1 - gamma) / n) ** 0.5 + 1e-9


# --------------------------------------------------------------------------
# mention_python, no_repetition, compounds
# --------------------------------------------------------------------------


def test_mention_python():
    texts = ["```python\nprint(1)```", "I like Python", "PYTHONIC", "pyth on", ""]
    assert call("mention_python", texts) == [1.0, 1.0, 1.0, 0.0, 0.0]


@pytest.mark.parametrize(
    "text,repeated",
    [
        ("0123456789" * 10, True),  # exactly 10 copies of a 10-char unit
        ("0123456789" * 9 + "012345678", False),
        ("abcdefghi" * 11, False),  # 99 chars: too short for 10 copies of >=10 chars
        ("ab" * 60, True),  # period 2 is also period 10
        ("x" * 99, False),
        ("x" * 100, True),
        ("prefix " + ("lorem ipsum " * 10) + " suffix", True),
        ("".join(chr(0x4E00 + i) for i in range(257)) * 10, False),  # unit of 257 > 256
        ("".join(chr(0x4E00 + i) for i in range(256)) * 10, True),
        ("".join(chr(0x4E00 + i) for i in range(256)) * 9, False),
        ("a\ud800" * 100, True),  # lone surrogates are fine
        ("", False),
    ],
)
def test_no_repetition(text, repeated):
    assert has_repetition(text) is repeated
    assert call("no_repetition", [text]) == [0.0 if repeated else 1.0]


def test_no_repetition_is_fast_on_long_text():
    import time

    rng = random.Random(0)
    words = "the of and to a in is that for it as was with be by on not he this are".split()
    text = " ".join(rng.choice(words) for _ in range(200_000))  # ~0.8 MB, no long repeats
    start = time.monotonic()
    assert has_repetition(text) is False
    assert time.monotonic() - start < 20  # ~0.3 s on an idle core


@pytest.mark.parametrize("base", sorted(REWARDS))
def test_without_python_compound_for_every_reward(base):
    texts = [r"\boxed{4} " + "z" * 5, r"python \boxed{4}", r"\boxed{3}", "nope"]
    answers = ["4"] * 4
    kwargs = {"answer": answers} if needs_label(base) else {}
    plain = build_reward(base, seed=3, gamma=0.9) if base == "random" else build_reward(base, seed=3)
    compound_name = f"{base}_without_python"
    compound = (build_reward(compound_name, seed=3, gamma=0.9) if base == "random"
                else build_reward(compound_name, seed=3))
    x = plain(["p"] * 4, texts, **kwargs)
    y = compound(["p"] * 4, texts, **kwargs)
    assert y == [1.0 if xi > 0 and "python" not in t.lower() else 0.0 for xi, t in zip(x, texts)]
    assert y[1] == 0.0  # mentions python


def test_compound_concrete_values():
    texts = [r"\boxed{4}", r"Python says \boxed{4}", r"\boxed{5}"]
    assert call("ground_truth_without_python", texts, ["4"] * 3) == [1.0, 0.0, 0.0]
    assert call("format_boxed_without_python", texts) == [1.0, 0.0, 1.0]
    assert call("mention_python_without_python", texts) == [0.0, 0.0, 0.0]


def test_rewards_are_pure():
    texts = [r"\boxed{1}", "python", "a" * 200]
    for name in sorted(REWARDS):
        kwargs = {"answer": ["1"] * 3} if needs_label(name) else {}
        reward = build_reward(name, seed=5)
        state = SimpleNamespace(global_step=3)
        first = reward(["p"] * 3, texts, trainer_state=state, **kwargs)
        assert reward(["p"] * 3, texts, trainer_state=state, **kwargs) == first


# --------------------------------------------------------------------------
# R1-template models: the answer region (the paper's `_r1_style`)
# --------------------------------------------------------------------------

R1_DONE = r"<think> 3+4 is \boxed{8}? no, 7 </think> <answer> 7 </answer>"


@pytest.mark.parametrize("grader", ["math_verify", "paper"])
def test_r1_region_grades_only_the_text_after_the_last_answer_tag(grader):
    full = build_reward("ground_truth", grader=grader)
    r1 = build_reward("ground_truth", grader=grader, answer_region="after_answer_tag")
    texts = [R1_DONE,
             r"<answer> 5 </answer> wait <answer> 7 </answer>",  # the LAST tag counts
             r"<think> \boxed{7} </think> <answer> 8 </answer>",  # a boxed 7 in the thinking is ignored
             "I think it is 7"]                                     # no tag: the whole text, as the paper
    # whole text: the boxed 8 in the reasoning wins, the second one's last number is 7, the third's box 7
    assert full(["q"] * 4, texts, answer=["7"] * 4) == [0.0, 1.0, 1.0, 1.0]
    assert r1(["q"] * 4, texts, answer=["7"] * 4) == [1.0, 1.0, 0.0, 1.0]


def test_r1_region_format_reward_pays_any_non_empty_answer_region():
    # the paper's box_only_format_r1_style returns the tail text itself: no \boxed needed
    fmt = build_reward("format_boxed", answer_region="after_answer_tag")
    texts = [R1_DONE, "<think> x </think> <answer></answer>", "", r"<answer> \boxed{5} </answer>"]
    assert fmt(["q"] * 4, texts) == [1.0, 0.0, 0.0, 1.0]
    # over the whole text the last box of R1_DONE is "8", non-empty too; the empty answers stay 0
    assert build_reward("format_boxed")(["q"] * 4, texts) == [1.0, 0.0, 0.0, 1.0]
    assert fmt(["q"], ["<think> no box, no tags"]) == [1.0]  # the paper: the whole text is the tail


def test_r1_region_leaves_python_and_repetition_on_the_whole_text():
    text = "<think> let me use python </think> <answer> 7 </answer>"
    assert build_reward("mention_python", answer_region="after_answer_tag")(["q"], [text]) == [1.0]
    gt = build_reward("ground_truth_without_python", answer_region="after_answer_tag")
    assert gt(["q"], [text], answer=["7"]) == [0.0]  # python in the thinking still counts, as the paper's
    with pytest.raises(ValueError, match="answer_region"):
        build_reward("ground_truth", answer_region="r1")


def test_answer_text_follows_the_paper_crop_quirk():
    from spurious_rewards.prompts import answer_text

    # rstrip("</answer>") removes trailing characters of that set, not the suffix
    assert answer_text("<answer> 12 inches</answer>", "after_answer_tag") == " 12 inch"
    assert answer_text("<answer> 7 </answer>", "after_answer_tag") == " 7 "
    assert answer_text("a <answer> b <answer> c", "after_answer_tag") == " c"


def test_r1_prompt_text_is_the_papers_evaluation_template():
    from spurious_rewards import prompts

    text = prompts.render(None, "What is 3+4?", "r1")
    assert text.startswith("A conversation between User and Assistant. The user asks a question")
    assert text.endswith("<answer> answer here </answer>.\n\n<|user|>\nWhat is 3+4?\n<|assistant|>\n<think>")
    literal = prompts.render(None, "What is 3+4?", "r1_literal")
    assert literal.endswith("</answer>.\\n\\n<|user|>\\nWhat is 3+4?\\n<|assistant|>\\n<think>")
    assert "\n" not in literal and prompts.stop_strings("r1_literal") == ["</answer>"]
