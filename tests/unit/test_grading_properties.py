"""Property tests (hypothesis) for graders, rewards and voting."""

from __future__ import annotations

import os
from collections import Counter
from fractions import Fraction

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spurious_rewards.grading import GRADERS, get_grader
from spurious_rewards.grading.paper_fixed_grader import normalize
from spurious_rewards.rewards import build_reward, has_repetition
from spurious_rewards.voting import majority_vote

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Any code point, lone surrogates included, biased towards LaTeX-ish text.
latexish = st.lists(
    st.one_of(
        st.characters(codec=None),
        st.sampled_from(
            list("{}$\\^_()[],.=-+/0123456789 ")
            + ["\\boxed{", "\\frac", "boxed", "\ud800", "\x00", "\ufffd"]
        ),
    ),
    max_size=120,
).map("".join)


@FAST
@given(text=latexish, gold=st.sampled_from(["42", "0.5", r"\frac{1}{2}", "(1,2]", "", "x^2"]))
def test_graders_never_raise_on_arbitrary_text(text, gold):
    for name in GRADERS:
        grader = get_grader(name)
        extracted = grader.extract(text)
        assert extracted is None or isinstance(extracted, str)
        assert isinstance(grader.grade(text, gold), bool)
        assert isinstance(grader.is_equivalent(text, gold), bool)


@FAST
@given(n=st.integers(min_value=-10**12, max_value=10**12), pad=st.integers(0, 2))
def test_integers_grade_in_every_spelling(n, pad):
    zero_padded = ("-" if n < 0 else "") + "0" * pad + str(abs(n))
    for name in GRADERS:
        grader = get_grader(name)
        assert grader.grade(rf"Thus \boxed{{{n}}}.", f"{n}.0")
        assert grader.grade(rf"\boxed{{{zero_padded}}}", str(n))
        assert not grader.grade(rf"\boxed{{{n + 1}}}", str(n))


@FAST
@given(p=st.integers(1, 999), q=st.integers(2, 999))
def test_fractions_match_their_dfrac_and_decimal_forms(p, q):
    frac = Fraction(p, q)
    p, q = frac.numerator, frac.denominator
    gold = rf"\frac{{{p}}}{{{q}}}"
    for name in GRADERS:
        grader = get_grader(name)
        assert grader.grade(rf"\boxed{{\dfrac{{{p}}}{{{q}}}}}", gold)
        if q > 1:
            assert not grader.grade(rf"\boxed{{\frac{{{p + 1}}}{{{q}}}}}", gold) or Fraction(p + 1, q) == frac
    if q in (2, 4, 5, 8, 10, 20, 25):  # terminating decimals
        decimal = str(float(frac))
        assert get_grader("math_verify").grade(rf"\boxed{{{decimal}}}", gold)
        if frac.denominator != 1:
            assert get_grader("paper").grade(rf"\boxed{{{decimal}}}", gold)


answer_like = st.one_of(
    st.integers(-10**6, 10**6).map(str),
    st.tuples(st.integers(-99, 99), st.integers(1, 99)).map(lambda t: rf"\frac{{{t[0]}}}{{{t[1]}}}"),
    st.decimals(-1000, 1000, places=3, allow_nan=False).map(str),
    st.sampled_from([r"\sqrt{2}", r"2\pi", "(1,2)", "[3,4)", r"\text{Evelyn}", "x^2+1"]),
)


@FAST
@given(answer=answer_like)
def test_normalize_is_idempotent_and_self_equal(answer):
    once = normalize(answer)
    assert normalize(once) == once
    for name in GRADERS:
        assert get_grader(name).is_equivalent(answer, answer)


def _naive_has_repetition(text: str) -> bool:
    for period in range(10, 257):
        for start in range(0, len(text) - 10 * period + 1):
            unit = text[start : start + period]
            if text[start : start + 10 * period] == unit * 10:
                return True
    return False


@settings(max_examples=60, deadline=None)
@given(
    unit=st.text(alphabet="ab", min_size=1, max_size=30),
    repeats=st.integers(1, 14),
    prefix=st.text(alphabet="abc", max_size=20),
    suffix=st.text(alphabet="abc", max_size=20),
)
def test_repetition_matches_the_naive_definition(unit, repeats, prefix, suffix):
    text = prefix + unit * repeats + suffix
    assert has_repetition(text) is _naive_has_repetition(text)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31), gamma=st.floats(0, 1), n=st.integers(1, 40))
def test_random_reward_properties(seed, gamma, n):
    reward = build_reward("random", seed=seed, gamma=gamma)
    out = reward(["p"] * n, ["x"] * n)
    assert out == reward(["p"] * n, ["y"] * n)
    assert set(out) <= {0.0, 1.0}
    if gamma == 0:
        assert sum(out) == 0
    if gamma == 1:
        assert sum(out) == n


@FAST
@given(answers=st.lists(st.one_of(st.none(), st.sampled_from(["1", "2", "3", "", " ", "10"])),
                        max_size=20))
def test_exact_vote_agrees_with_counter(answers):
    result = majority_vote(answers, None)
    valid = [a for a in answers if a is not None and a.strip()]
    assert result.n_valid == len(valid)
    if not valid:
        assert result.label == "" and result.votes == 0
        return
    counts = Counter(valid)
    assert result.votes == max(counts.values())
    tied = [a for a in counts if counts[a] == result.votes]
    assert result.label == tied[0]  # Counter is insertion ordered: earliest wins
    # With a grader, clusters only merge, so the winner has at least as many votes.
    assert majority_vote(answers, "paper").votes >= result.votes
