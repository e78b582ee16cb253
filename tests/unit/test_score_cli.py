"""The ``score`` subcommand, driven through a local argparse parser."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest

from spurious_rewards.commands import score
from spurious_rewards.rewards import build_reward


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="score")
    score.configure_parser(parser)
    return score.main(parser.parse_args(argv))


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


ROWS = [
    {"id": "a", "completion": r"so \boxed{12.8}", "answer": "12.8", "extra": [1, 2]},
    {"id": "a", "completion": r"\boxed{13}", "answer": "12.8"},
    {"id": "b", "completion": [{"role": "assistant", "content": r"\boxed{070}"}], "answer": "70"},
    {"completion": "no answer", "answer": "1"},
]


@pytest.mark.parametrize("grader", ["math_verify", "paper"])
def test_ground_truth_rows_keep_order_and_fields(tmp_path, grader):
    src = write_jsonl(tmp_path / "in.jsonl", ROWS)
    out = tmp_path / "out.jsonl"
    assert run(["--reward", "ground_truth", "--grader", grader, "--workers", "2",
                str(src), str(out)]) == 0
    rows = read_jsonl(out)
    assert [r["reward"] for r in rows] == [1.0, 0.0, 1.0, 0.0]
    assert [{k: v for k, v in r.items() if k != "reward"} for r in rows] == ROWS


@pytest.mark.parametrize("region,expected", [("full", [0.0, 1.0]), ("after_answer_tag", [1.0, 0.0])])
def test_answer_region_scores_what_training_rewards(tmp_path, region, expected):
    # the reasoning's \\boxed{5} is not the answer of an R1-template model: only the <answer> part counts
    src = write_jsonl(tmp_path / "in.jsonl", [
        {"completion": r"<think> \boxed{5} </think> <answer> 7 </answer>", "answer": "7"},
        {"completion": r"<think> \boxed{7} </think> <answer> 5 </answer>", "answer": "7"},
    ])
    out = tmp_path / "out.jsonl"
    assert run(["--reward", "ground_truth", "--answer-region", region, "--workers", "0", str(src), str(out)]) == 0
    assert [r["reward"] for r in read_jsonl(out)] == expected


def test_label_free_reward_needs_no_answer(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", [
        {"completion": r"\boxed{1}"}, {"completion": "python"}, {"completion": ""}, "",
    ])
    out = tmp_path / "out.jsonl"
    assert run(["--reward", "format_boxed", str(src), str(out)]) == 0
    assert [r["reward"] for r in read_jsonl(out)] == [1.0, 0.0, 0.0]


def test_random_with_set_and_steps_matches_the_reward(tmp_path):
    rows = [{"id": i % 3, "step": i // 6, "completion": "x"} for i in range(12)]
    src = write_jsonl(tmp_path / "in.jsonl", rows)
    out = tmp_path / "out.jsonl"
    assert run(["--reward", "random", "--seed", "7", "--set", "gamma=0.3", str(src), str(out)]) == 0
    got = [r["reward"] for r in read_jsonl(out)]
    reward = build_reward("random", seed=7, gamma=0.3)
    from types import SimpleNamespace

    expected = []
    for step in (0, 1):
        expected += reward([""] * 6, ["x"] * 6, id=[i % 3 for i in range(6)],
                           trainer_state=SimpleNamespace(global_step=step))
    assert got == expected
    # gamma really reached the reward: gamma=0 gives all zeros.
    assert run(["--reward", "random", "--set", "gamma=0", str(src), str(out)]) == 0
    assert {r["reward"] for r in read_jsonl(out)} == {0.0}


def test_compound_reward_and_label_column_option(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", [
        {"completion": r"\boxed{4}", "gold": "4"},
        {"completion": r"python: \boxed{4}", "gold": "4"},
    ])
    out = tmp_path / "out.jsonl"
    assert run(["--reward", "ground_truth_without_python", "--set", "label_column=gold",
                "--workers", "1", str(src), str(out)]) == 0
    assert [r["reward"] for r in read_jsonl(out)] == [1.0, 0.0]


@pytest.mark.parametrize(
    "lines,reward,message",
    [
        ([json.dumps(ROWS[0]), "{broken"], "ground_truth", ":2: not valid JSON"),
        ([json.dumps({"answer": "1"})], "format_boxed", ":1: missing field 'completion'"),
        ([json.dumps(ROWS[0]), "", json.dumps({"completion": "x"})], "ground_truth",
         ":3: missing field 'answer'"),
        (["[1, 2]"], "random", ":1: expected a JSON object"),
        ([json.dumps({"completion": "x", "step": "one"})], "random", ":1: 'step' must be an integer"),
    ],
)
def test_bad_input_fails_without_output(tmp_path, capsys, lines, reward, message):
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.jsonl"
    assert run(["--reward", reward, "--workers", "1", str(src), str(out)]) == 2
    err = capsys.readouterr().err
    assert str(src) + message in err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [src]  # no temp file left behind either


def test_failed_run_leaves_an_existing_output_untouched(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", ["{oops"])
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n")
    assert run(["--reward", "format_boxed", str(src), str(out)]) == 2
    assert out.read_text() == "previous\n"


@pytest.mark.parametrize(
    "extra,message",
    [
        (["--reward", "nope"], "unknown reward"),
        (["--reward", "random", "--set", "gamma=2"], "gamma"),
        (["--reward", "random", "--set", "colour=red"], "colour"),
        (["--reward", "random", "--set", "gamma"], "key=value"),
        (["--reward", "ground_truth", "--workers", "-1"], "--workers"),
    ],
)
def test_bad_options_exit_2(tmp_path, capsys, extra, message):
    src = write_jsonl(tmp_path / "in.jsonl", [{"completion": "x", "answer": "1"}])
    out = tmp_path / "out.jsonl"
    assert run(extra + [str(src), str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_missing_input_file(tmp_path, capsys):
    assert run(["--reward", "random", str(tmp_path / "nope.jsonl"), str(tmp_path / "o.jsonl")]) == 2
    assert "nope.jsonl" in capsys.readouterr().err


def test_invalid_utf8_and_surrogates_survive(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_bytes(b'{"completion": "\\\\boxed{5} \xff\xfe", "answer": "5"}\n'
                    b'{"completion": "\\\\boxed{5} \\ud800", "answer": "5"}\n')
    out = tmp_path / "out.jsonl"
    assert run(["--reward", "ground_truth", "--grader", "paper", "--workers", "1",
                str(src), str(out)]) == 0
    rows = read_jsonl(out)
    assert [r["reward"] for r in rows] == [1.0, 1.0]
    assert rows[1]["completion"].endswith("\ud800")  # round-trips via a \u escape


def test_parse_sets():
    assert score.parse_sets(["gamma=0.3", "label_column=gold", "workers=2", "flag=true"]) == {
        "gamma": 0.3, "label_column": "gold", "workers": 2, "flag": True}
    with pytest.raises(ValueError):
        score.parse_sets(["=3"])


@pytest.mark.parametrize("workers", ["0", "2"])
def test_empty_label_pays_no_answer_under_the_paper_grader(tmp_path, workers):
    # The paper keeps majority-vote rows whose label is '' and its grader pays a response with no
    # extractable answer there; math_verify and paper_fixed never match ''.
    rows = [{"completion": "I cannot solve this.", "answer": ""},
            {"completion": r"\boxed{5}", "answer": ""},
            {"completion": "", "answer": ""},
            {"completion": r"\boxed{}", "answer": ""}]
    src = write_jsonl(tmp_path / "in.jsonl", rows)
    out = tmp_path / "out.jsonl"
    expected = {"paper": [1.0, 0.0, 1.0, 1.0], "paper_fixed": [0.0] * 4, "math_verify": [0.0] * 4}
    for grader, rewards in expected.items():
        assert run(["--reward", "ground_truth", "--grader", grader, "--workers", workers,
                    str(src), str(out)]) == 0
        assert [r["reward"] for r in read_jsonl(out)] == rewards, grader
