"""Majority vote, incorrect-label filter and the one-shot loader."""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest

from spurious_rewards.data.one_shot import load_one_shot
from spurious_rewards.voting import VoteResult, is_incorrect, majority_vote

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
PI1 = SHARED_DATA / "one_shot_rlvr" / "data" / "train" / "one_shot_rlvr" / "pi1_r128.parquet"


@pytest.mark.parametrize("grader", ["math_verify", "paper"])
def test_equivalent_answers_are_clustered(grader):
    answers = ["3", "0.5", r"\frac{1}{2}", "3", r"\frac12", None, "", "  "]
    result = majority_vote(answers, grader)
    assert result == VoteResult(label="0.5", votes=3, n_valid=5)


def test_exact_mode_is_the_papers_counter():
    answers = ["3", "0.5", r"\frac{1}{2}", "3", r"\frac12"]
    assert majority_vote(answers, None) == VoteResult("3", 2, 5)


def test_label_is_the_most_frequent_spelling_in_the_winning_cluster():
    answers = ["0.5", r"\frac12", r"\frac12", "7", "1/2"]
    assert majority_vote(answers, "math_verify") == VoteResult(r"\frac12", 4, 5)


def test_ties_go_to_the_earliest_cluster():
    assert majority_vote(["b", "a", "a", "b"], "paper").label == "b"
    assert majority_vote(["a", "b", "b", "a"], "paper").label == "a"
    assert majority_vote(["4", "2", "04"], "paper") == VoteResult("4", 2, 3)


def test_all_empty_gives_empty_label():
    assert majority_vote([], "paper") == VoteResult("", 0, 0)
    assert majority_vote([None, "", " "], "math_verify") == VoteResult("", 0, 0)


def test_vote_does_not_depend_on_grader_object_vs_name():
    from spurious_rewards.grading import get_grader

    answers = ["1", "2", "2", "1.0", "1"]
    assert majority_vote(answers, get_grader("paper")) == majority_vote(answers, "paper")
    assert majority_vote(answers, "paper") == VoteResult("1", 3, 5)


@pytest.mark.parametrize("grader", ["math_verify", "paper"])
def test_is_incorrect(grader):
    assert is_incorrect("4", "5", grader) is True
    assert is_incorrect("142", "142.0", grader) is False
    assert is_incorrect(r"\frac{1}{2}", "0.5", grader) is False
    assert is_incorrect("", "5", grader) is True
    assert is_incorrect(None, "5", grader) is True


# --------------------------------------------------------------------------
# load_one_shot
# --------------------------------------------------------------------------


@pytest.mark.skipif(not PI1.is_file(), reason=f"pi1 parquet not found at {PI1}")
def test_load_real_pi1():
    example = load_one_shot(PI1)
    assert example["answer"] == "12.8"
    assert example["prompt"].startswith("The pressure \\( P \\) exerted by wind on a sail")
    assert "wind velocity" in example["prompt"]


def test_load_json_and_jsonl(tmp_path):
    obj = {"prompt": "What is 1+1?", "answer": 2}
    (tmp_path / "a.json").write_text(json.dumps(obj))
    (tmp_path / "b.json").write_text(json.dumps([obj, {"prompt": "x", "answer": "y"}]))
    (tmp_path / "c.jsonl").write_text("\n" + json.dumps(obj) + "\n")
    chat = {"prompt": [{"role": "system", "content": "s"}, {"role": "user", "content": "Q?"}],
            "reward_model": {"ground_truth": "12.8"}}
    (tmp_path / "d.json").write_text(json.dumps(chat))
    for name in ("a.json", "b.json", "c.jsonl"):
        assert load_one_shot(tmp_path / name) == {"prompt": "What is 1+1?", "answer": "2"}
    assert load_one_shot(tmp_path / "d.json") == {"prompt": "Q?", "answer": "12.8"}


def test_load_parquet_verl_format(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({
        "prompt": [[{"role": "user", "content": "Solve it."}]] * 2,
        "reward_model": [{"ground_truth": "7", "style": "rule"}] * 2,
    })
    pq.write_table(table, tmp_path / "one.parquet")
    assert load_one_shot(tmp_path / "one.parquet") == {"prompt": "Solve it.", "answer": "7"}


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("bad.json", "{not json", "not valid JSON"),
        ("noprompt.json", json.dumps({"answer": "1"}), "no 'prompt'"),
        ("noanswer.json", json.dumps({"prompt": "q"}), "neither 'answer'"),
        ("empty.json", "[]", "empty"),
        ("scalar.json", "3", "expected a JSON object"),
        ("badprompt.json", json.dumps({"prompt": [{"role": "assistant", "content": "x"}],
                                       "answer": "1"}), "'user' message"),
        ("empty.jsonl", "\n\n", "no rows"),
        ("corrupt.parquet", "not parquet", "cannot read"),
    ],
)
def test_load_bad_schema_names_the_file(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(ValueError, match=message) as info:
        load_one_shot(path)
    assert str(path) in str(info.value)


def test_load_missing_file(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        load_one_shot(tmp_path / "missing.parquet")


def test_docstring_examples_run():
    import doctest

    from spurious_rewards import voting

    result = doctest.testmod(voting)
    assert result.failed == 0 and result.attempted >= 5


# --------------------------------------------------------------------------
# The paper's ways: exact-string vote, bare-prompt pi1
# --------------------------------------------------------------------------

PI1_BARE = SHARED_DATA / "rethink_rlvr" / "DeepScaleR_Difficulty_Level_4" / "train.json"


def test_exact_vote_counts_spellings_separately_and_ties_go_to_first_seen():
    # Clustering merges the three spellings of 1/2; the paper's Counter does not, so 3 wins.
    answers = [r"\frac{1}{2}", "3", "0.5", "3", r"\frac{1}{2}", "3", "", None, "0.5"]
    assert majority_vote(answers, "paper", method="cluster") == VoteResult(r"\frac{1}{2}", 4, 7)
    assert majority_vote(answers, "paper", method="exact") == VoteResult("3", 3, 7)
    # Equal counts: the answer seen first wins, whatever the order of later votes.
    assert majority_vote(["7", "5", "5", "7"], "paper", method="exact") == VoteResult("7", 2, 4)
    assert majority_vote(["5", "7", "7", "5"], "paper", method="exact") == VoteResult("5", 2, 4)
    # Empty answers are dropped before counting; nothing left gives the label ''.
    assert majority_vote(["", "", "", "9"], "paper", method="exact") == VoteResult("9", 1, 1)
    assert majority_vote(["", None], "paper", method="exact") == VoteResult("", 0, 0)


def test_unknown_vote_method():
    with pytest.raises(ValueError, match="exact, cluster"):
        majority_vote(["1"], "paper", method="plurality")


def test_load_one_shot_by_id(tmp_path):
    rows = [{"id": "1", "prompt": "a", "answer": "1"}, {"id": 7395, "prompt": "b", "answer": "12.8"}]
    (tmp_path / "t.json").write_text(json.dumps(rows))
    (tmp_path / "t.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    for name in ("t.json", "t.jsonl"):
        assert load_one_shot(tmp_path / name, row_id="7395") == {"prompt": "b", "answer": "12.8"}
        assert load_one_shot(tmp_path / name, row_id=1) == {"prompt": "a", "answer": "1"}
        assert load_one_shot(tmp_path / name) == {"prompt": "a", "answer": "1"}
    with pytest.raises(ValueError, match="no row with id '9'") as info:
        load_one_shot(tmp_path / "t.json", row_id="9")
    assert "t.json" in str(info.value)


@pytest.mark.skipif(not (PI1.is_file() and PI1_BARE.is_file()), reason="paper data not found")
def test_papers_pi1_is_the_bare_problem():
    bare = load_one_shot(PI1_BARE, row_id="7395")
    suffixed = load_one_shot(PI1)
    assert bare["answer"] == suffixed["answer"] == "12.8"
    assert bare["prompt"].endswith("is \\( 32 \\) pounds.")
    assert "step by step" not in bare["prompt"] and "\\boxed" not in bare["prompt"]
    # The same problem: One-Shot-RLVR only appended its instruction.
    assert suffixed["prompt"].startswith(bare["prompt"] + " Let's think step by step")
