"""The ``paper`` grader against the paper's grading code, by disagreement category.

Each expected verdict is what the paper's ``qwen_reward_fn`` (Rethink_RLVR, code/ttrl/verifier/qwen)
returns, reasoned through its rules and confirmed by running their unmodified code in a scratch
environment. Golds are real MATH-500 / AMC / AIME answers (../shared/data) where one fits.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest

from spurious_rewards.grading import get_grader
from spurious_rewards.grading.paper_grader import extract_answer, grade_answer, strip_string

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "rethink_rlvr"

# (completion, gold, the paper's reward)
CASES = [
    # --- what our earlier rewrite rejected and the paper's code accepts
    (r"\fbox{22}", "22", True),  # no "boxed" in it: the last number is 22
    (r"\boxed{+12}", "12", True),
    (r"\boxed{2{,}220}", "2220", True),
    (r"\boxed{\begin{bmatrix} -1 & 0 \\ 0 & -1 \end{bmatrix}}",
     r"\begin{pmatrix} -1 & 0 \\ 0 & -1 \end{pmatrix}", True),
    (r"\boxed{\begin{pmatrix}-2\\-14\\-7\end{pmatrix}}",
     r"\begin{pmatrix} -2 \\ -14 \\ -7 \end{pmatrix}", True),
    (r"\boxed{\frac{-35}{9}}", r"-\frac{35}{9}", True),
    (r"\boxed{-35/9}", r"-\frac{35}{9}", True),
    (r"\boxed{\frac{-3}{8}}", r"-\frac{3}{8}", True),
    (r"\boxed{\{1, -2\}}", "1,-2", True),
    # --- what our earlier rewrite accepted and the paper's code rejects
    (r"\boxed{1 \pm \sqrt{19}}", r"1 \pm \sqrt{19}", False),  # "pm" is a unit word
    (r"\boxed{(a+5)(b+2)}", "(a+5)(b+2)", False),  # so is "a"
    (r"\boxed{\text{east}}", r"\text{east}", False),  # and "east": the answer becomes ""
    (r"\boxed{3 \pm 2 \sqrt{2}}", r"3 \pm 2 \sqrt{2}", False),
    (r"\boxed{90°}", r"90^\circ", False),
    (r"\boxed{2\,220}", "2220", False),
    # --- false positives of our earlier rewrite: the paper's code tells these matrices apart
    (r"\boxed{\begin{pmatrix} 12 \\ 3 \end{pmatrix}}", r"\begin{pmatrix} 1 \\ 23 \end{pmatrix}", False),
    (r"\boxed{\begin{pmatrix} -1 & 0 & 0 \end{pmatrix}}", r"\begin{pmatrix} -1 & 0 \\ 0 & -1 \end{pmatrix}",
     False),
    # --- word numbers, "and", \text{}
    ("The answer is five.", "5", True),
    (r"\boxed{\text{five}}", "5", False),  # w2n runs before \text{} is unwrapped
    (r"\boxed{\text{Sandy}}", r"\text{Sandy}", False),  # "and" is deleted from the response only
    (r"\boxed{1 and 2}", "1, 2", False),
    (r"\boxed{14 \text{ inches}}", "14", True),
    (r"\boxed{10\%}", "10", True),
    (r"\boxed{\$18.90}", "18.90", True),
    # --- PRM800K rules: unreduced fractions, integers, sympy guards
    (r"\boxed{\frac{2}{4}}", r"\frac{1}{2}", False),
    (r"\boxed{0.5}", r"\frac{1}{2}", True),
    (r"\boxed{\frac{8}{2}}", "4", False),  # an integer gold needs an integer answer
    (r"\boxed{4.0}", "4", True),
    (r"\boxed{3\sqrt{2}}", r"\sqrt{18}", True),
    (r"\boxed{x^2+2xy+y^2}", "(x+y)^2", True),  # two letters: sympy decides
    (r"\boxed{c+b+a}", "a+b+c", False),  # three letters refuse sympy
    (r"\boxed{y+x}", "x+y", True),
    (r"\boxed{(3, 4)}", "(3,4)", True),
    (r"\boxed{[3, 4)}", "(3,4)", False),
    (r"\boxed{142}", "142.0", True),
    (r"\boxed{70}", "070", True),
    # --- extraction order
    ("So the final answer is $7$. I hope it is correct. \\boxed{8}", "7", True),
    (r"\boxed{3} and later \boxed{7}", "7", True),
    ("We get 3, then the answer is 12 apples.", "12", True),
    ("We get 3 then 7", "7", True),
    ("The answer is 5.<|im_end|>", "5", False),  # special tokens stay in the extracted answer
    (r"\boxed{5}.<|im_end|>", "5", True),
    # --- empty labels (the paper keeps them)
    ("I cannot solve this.", "", True),
    (r"\boxed{}", "", True),
    ("", "", True),
    (r"\boxed{5}", "", False),
    ("The answer is 5", "", False),
]


@pytest.mark.parametrize("completion, gold, expected", CASES)
def test_paper_grader_matches_the_papers_code(completion, gold, expected):
    assert get_grader("paper").grade(completion, gold) is expected


def test_extracted_strings_are_the_papers():
    assert extract_answer(r"\boxed{1 \pm \sqrt{19}}") == "1\\\\sqrt{19}"  # "\pm " -> "\ "
    assert extract_answer(r"\boxed{\text{Sandy}}") == "Sy"
    assert extract_answer("The answer is five.") == "5"
    matrix = extract_answer(r"\boxed{\begin{bmatrix} 1 \\ 2 \end{bmatrix}}")
    assert matrix == r"\begin{pmatrix}1\\2\end{pmatrix}"
    assert extract_answer("no number here") == ""
    assert strip_string("007") == "7" and strip_string(r"\emptyset") == "{}"


def test_extractor_is_linear_on_long_digit_runs():
    # The paper's "(\d+)\.0*" patterns are quadratic on a run of digits; ours are equivalent and linear.
    import time

    start = time.monotonic()
    assert strip_string("7" * 200_000 + ".000x") == "7" * 200_000 + "x"
    assert time.monotonic() - start < 10
    assert strip_string("1.0.0x 12.500 3.000") == "1.0x12.5003"  # ".500 " is no ".0*" + non-digit


def test_grade_answer_is_symmetric_only_where_the_paper_is():
    # The gold never goes through strip_string: unit words in a gold stay.
    assert grade_answer("5", r"5\text{ cm}") is True
    assert grade_answer(r"5\text{ cm}", "5") is True


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="paper data not found")
def test_boxed_golds_of_the_benchmarks():
    """Every MATH-500/AMC/AIME gold, boxed, earns the reward, except the 5 MATH-500 golds that the
    paper's unit-word stripping breaks (a ceiling of 99.0 on MATH-500 under the paper's grader)."""
    grader = get_grader("paper")
    failed = {}
    for bench in ("MATH-TTT", "AMC-TTT", "AIME-TTT", "AIME2025-TTT"):
        rows = json.loads((SHARED_DATA / bench / "test.json").read_text(encoding="utf-8"))
        failed[bench] = [str(r["answer"]) for r in rows if not grader.grade(rf"\boxed{{{r['answer']}}}",
                                                                            str(r["answer"]))]
    assert failed == {"MATH-TTT": [r"1 \pm \sqrt{19}", r"\text{east}", "(a+5)(b+2)", r"3 \pm 2 \sqrt{2}",
                                   r"\{1\pm\sqrt{5},-2\}"],
                      "AMC-TTT": [], "AIME-TTT": [], "AIME2025-TTT": []}
