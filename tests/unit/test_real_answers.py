"""Every gold answer of the four eval sets parses and equals itself under every grader."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest

from spurious_rewards.grading import GRADERS, get_grader
from spurious_rewards.grading.math_verify_grader import _parse_answer
from spurious_rewards.grading.paper_fixed_grader import normalize
from spurious_rewards.grading.pool import grade_many

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "rethink_rlvr"
SETS = {
    "MATH-500": "MATH-TTT/test.json",
    "AMC": "AMC-TTT/test.json",
    "AIME2024": "AIME-TTT/test.json",
    "AIME2025": "AIME2025-TTT/test.json",
}
EXPECTED_ROWS = {"MATH-500": 500, "AMC": 83, "AIME2024": 30, "AIME2025": 30}

# Gold answers the library genuinely cannot parse, with the reason.  Empty:
# all 643 parse (the grader wraps bare labels in $…$ first).
KNOWN_UNPARSEABLE: dict[str, str] = {}


def load(name: str) -> list[dict]:
    path = DATA / SETS[name]
    if not path.is_file():
        pytest.skip(f"eval data not found at {path} (needs ../shared/data beside the repo)")
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(SETS))
def test_row_counts(name):
    assert len(load(name)) == EXPECTED_ROWS[name]


@pytest.mark.parametrize("grader", GRADERS)
@pytest.mark.parametrize("name", sorted(SETS))
def test_gold_equals_itself(name, grader):
    rows = load(name)
    checker = get_grader(grader)
    failures = [
        (row["id"], row["answer"])
        for row in rows
        if row["answer"] not in KNOWN_UNPARSEABLE and not checker.is_equivalent(row["answer"], row["answer"])
    ]
    assert failures == []


@pytest.mark.parametrize("name", sorted(SETS))
def test_gold_parses(name):
    rows = load(name)
    unparsed = [
        r["answer"] for r in rows
        if r["answer"] not in KNOWN_UNPARSEABLE and not _parse_answer(r["answer"])
    ]
    empty = [r["answer"] for r in rows if not normalize(r["answer"])]
    assert unparsed == [] and empty == []


@pytest.mark.parametrize("grader", GRADERS)
@pytest.mark.parametrize("name", sorted(SETS))
def test_boxed_gold_grades_correct_through_the_pool(name, grader):
    rows = load(name)
    golds = [r["answer"] for r in rows]
    completions = [f"Let me work it out.\n\nThe final result is $\\boxed{{{g}}}$." for g in golds]
    results = grade_many(completions, golds, grader=grader, workers=2, timeout_s=10)
    # The paper's grader strips unit words anywhere ("pm", "a", "east") from the response, so it can
    # never match these golds (its MATH-500 ceiling is 99.0).
    expected = UNMATCHABLE_UNDER_PAPER.get(name, []) if grader == "paper" else []
    assert [g for g, ok in zip(golds, results) if not ok] == expected


UNMATCHABLE_UNDER_PAPER = {"MATH-500": [r"1 \pm \sqrt{19}", r"\text{east}", "(a+5)(b+2)", r"3 \pm 2 \sqrt{2}",
                                        r"\{1\pm\sqrt{5},-2\}"]}


def _integer_value(answer: str) -> int | None:
    m = re.fullmatch(r"(-?\d+)(?:\.0+)?", answer.strip())
    return int(m.group(1)) if m else None


@pytest.mark.parametrize("grader", GRADERS)
@pytest.mark.parametrize("name", ["AMC", "AIME2024", "AIME2025"])
def test_competition_answers_in_plain_form(name, grader):
    """AMC golds look like "142.0", AIME 2025 like "070": a model writes 142 / 70."""
    rows = load(name)
    checker = get_grader(grader)
    ints = [(r["answer"], _integer_value(r["answer"])) for r in rows]
    assert all(v is not None for _, v in ints), "competition answers are integers"
    wrong_plain = [g for g, v in ints if not checker.grade(rf"\boxed{{{v}}}", g)]
    wrong_off_by_one = [g for g, v in ints if checker.grade(rf"\boxed{{{v + 1}}}", g)]
    assert wrong_plain == [] and wrong_off_by_one == []


def test_zero_padding_and_trailing_zero_exist_in_the_data():
    # Guards the two tests above against silently testing nothing special.
    assert any(r["answer"].endswith(".0") for r in load("AMC"))
    assert any(re.fullmatch(r"0\d+", r["answer"]) for r in load("AIME2025"))
