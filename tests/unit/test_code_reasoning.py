"""Code-reasoning analysis: detectors, frequency table, switch analysis on a hand-built table."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from spurious_rewards.analysis import code_reasoning
from spurious_rewards.commands.grade import has_code_block, has_python

# (code before, correct before, code after, correct after) per problem, C = code, L = language.
PAIRS = [
    ("C", 1, "C", 1), ("C", 0, "C", 1), ("C", 1, "L", 1), ("L", 0, "C", 1), ("L", 0, "C", 1),
    ("L", 0, "C", 0), ("L", 1, "L", 1), ("L", 0, "L", 0), ("C", 1, "C", 0), ("L", 0, "L", 1),
]


def frame(step: int, which: int) -> pd.DataFrame:
    rows = []
    for i, pair in enumerate(PAIRS):
        code, correct = pair[2 * which], pair[2 * which + 1]
        rows.append({"model": "m", "condition": "gt", "seed": 1, "step": step, "benchmark": "b",
                     "variant": "default", "grader": "g", "problem_id": f"p{i}", "sample_index": 0,
                     "has_python": code == "C", "has_code_block": False, "correct": bool(correct)})
    return pd.DataFrame(rows)


def test_detectors():
    assert has_python("I'll use PYTHON here") and has_python("```python\nprint(1)\n```")
    assert not has_python("```py\nprint(1)\n```") and not has_python("")
    assert has_code_block("```python\nprint(1)\n```") and has_code_block("``` Python\nx=1")
    assert not has_code_block("python is a language") and not has_code_block("```pythonic")


def test_switch_counts_by_hand():
    table = code_reasoning.switch_counts(frame(0, 0), frame(10, 1)).set_index("transition")
    # code->code p0,p1,p8: 2 -> 2 correct; code->language p2: 1 -> 1;
    # language->code p3,p4,p5: 0 -> 2; language->language p6,p7,p9: 1 -> 2. Net gain 3 of 10 pairs.
    assert table["count"].to_dict() == {"code->code": 3, "code->language": 1, "language->code": 3,
                                        "language->language": 3}
    assert table.loc["language->code", "acc_before"] == 0.0
    assert table.loc["language->code", "acc_after"] == pytest.approx(2 / 3)
    assert table.loc["code->code", "acc_before"] == pytest.approx(2 / 3)
    assert table["gain"].to_dict() == {"code->code": 0, "code->language": 0, "language->code": 2,
                                       "language->language": 1}
    assert table.loc["language->code", "share_of_gain"] == pytest.approx(200 / 3)
    assert table.loc["language->language", "share_of_gain"] == pytest.approx(100 / 3)
    assert table["share_of_gain"].sum() == pytest.approx(100.0)
    assert table["total_gain_pp"].tolist() == pytest.approx([30.0] * 4)


def test_switch_counts_reproduce_the_paper_ground_truth_row():
    # Fig. 7, ground truth: C->C 165 (105 -> 119 correct), C->L 160 (93 -> 125), L->C 72 (20 -> 56),
    # L->L 103 (29 -> 91): 247 -> 391 correct, shares 9.7 / 22.2 / 25.0 / 43.1.
    spec = {("C", "C"): (165, 105, 119), ("C", "L"): (160, 93, 125), ("L", "C"): (72, 20, 56),
            ("L", "L"): (103, 29, 91)}
    before, after, i = [], [], 0
    for (src, dst), (n, cb, ca) in spec.items():
        for j in range(n):
            before.append({"problem_id": i, "sample_index": 0, "has_python": src == "C", "correct": j < cb})
            after.append({"problem_id": i, "sample_index": 0, "has_python": dst == "C", "correct": j < ca})
            i += 1
    t = code_reasoning.switch_counts(pd.DataFrame(before), pd.DataFrame(after)).set_index("transition")
    assert t.loc["code->code", "acc_before"] == pytest.approx(0.636, abs=1e-3)
    assert t.loc["language->code", "acc_after"] == pytest.approx(0.778, abs=1e-3)
    assert t.loc["language->code", "share_of_gain"] == pytest.approx(25.0, abs=0.1)
    assert t["total_gain_pp"].iloc[0] == pytest.approx(28.8)


def test_switch_table_uses_last_step_and_skips_incomplete_runs():
    grades = pd.concat([frame(0, 0), frame(5, 0), frame(10, 1)], ignore_index=True)
    out = code_reasoning.switch_table(grades, 0, "last")
    assert set(out["step_to"]) == {10} and len(out) == 4
    assert code_reasoning.switch_table(grades, 0, 7).empty


def test_frequency_table_and_prompting():
    f = code_reasoning.frequency_table(frame(0, 0)).iloc[0]
    assert f["n"] == 10 and f["n_code"] == 4 and f["code_frequency"] == pytest.approx(0.4)
    assert f["acc_code"] == pytest.approx(3 / 4) and f["acc_language"] == pytest.approx(1 / 6)
    base = frame(0, 0).assign(condition="base")
    forced = frame(0, 1).assign(condition="base", variant="forced_prefix")
    p = code_reasoning.prompting_table(pd.concat([base, forced])).iloc[0]
    assert p["original"] == pytest.approx(40.0) and p["forced_prefix"] == pytest.approx(70.0)
    assert p["change"] == pytest.approx(30.0)
    assert code_reasoning.prompting_table(base).empty
    assert math.isnan(code_reasoning.frequency_table(frame(0, 0).assign(has_python=False))["acc_code"][0])
