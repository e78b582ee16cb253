"""Issue 13 item 4: bad data fails loudly, naming the file and the row; exit 2 and one line.

NaN / None / non-string answers (NaN used to become the label "nan"), non-UTF-8 text, corrupt parquet,
truncated model weights, and in `score` non-string completions and JSON nested past the parser's limit.
"""

from __future__ import annotations

import argparse
import json
import math

import pandas as pd
import pytest
import yaml

from spurious_rewards import cli, io, paths
from spurious_rewards.commands import analyze as analysis
from spurious_rewards.commands import score
from spurious_rewards.data import loaders
from spurious_rewards.io import DataError
from spurious_rewards.training import dataset
from tests.conftest import REPO
from tests.unit.eval_fixtures import build_tree, write_params
from tests.unit.tiny_lm import save_tiny


def _one_error_line(capsys, *fragments):
    err = [line for line in capsys.readouterr().err.splitlines() if not line.startswith("+ python -m")]
    assert len(err) == 1, err  # one clear line, no traceback
    for fragment in fragments:
        assert fragment in err[0], err[0]
    return err[0]


# -- answers ----------------------------------------------------------------------------------------
BAD_ANSWERS = [None, float("nan"), float("inf"), 2.5, True, [1, 2], {"x": 1}]


@pytest.mark.parametrize("answer", BAD_ANSWERS, ids=repr)
def test_non_text_answer_in_a_loaded_file_names_file_and_row(tmp_path, answer):
    path = tmp_path / "train.json"
    rows = [{"id": "a", "prompt": "p0", "answer": "1"}, {"id": "b", "prompt": "p1", "answer": answer}]
    path.write_text(json.dumps(rows), encoding="utf-8")  # json writes nan/inf as NaN/Infinity
    with pytest.raises(DataError, match=rf"{path}: row 1 \(id b\): answer must be text"):
        loaders.load_files([path])


def test_nan_answer_in_parquet_is_not_the_label_nan(tmp_path):
    path = tmp_path / "train.parquet"
    pd.DataFrame({"id": ["a", "b"], "prompt": ["p0", "p1"], "answer": ["1", None]}).to_parquet(path)
    with pytest.raises(DataError, match=rf"{path}: row 1 \(id b\): answer must be text, got (None|NaN)"):
        loaders.load_files([path])
    pd.DataFrame({"id": ["a", "b"], "prompt": ["p0", "p1"], "answer": [1.0, math.nan]}).to_parquet(path)
    with pytest.raises(DataError, match=rf"{path}: row 0 \(id a\): answer must be text"):
        loaders.load_files([path])


def test_integer_answers_stay_accepted(tmp_path):
    path = tmp_path / "train.parquet"
    pd.DataFrame({"id": ["a"], "prompt": ["p0"], "answer": [42]}).to_parquet(path)
    assert loaders.load_files([path])[0]["answer"] == "42"


@pytest.mark.parametrize("answer", ["NaN", "null", "[1]"])
def test_stage_inputs_refuse_non_text_answers(tmp_path, answer):
    """The JSONL files the labels/train/evaluate stages read: a NaN there is refused too."""
    path = tmp_path / "rows.jsonl"
    path.write_text('{"id": "a", "prompt": "p", "answer": "3"}\n'
                    f'{{"id": "b", "prompt": "q", "answer": {answer}}}\n', encoding="utf-8")
    with pytest.raises(DataError, match=rf"{path}: line 2 \(id b\): answer must be text"):
        dataset.load_rows(path, "chat", None)


def test_data_stage_exits_2_with_one_line(tmp_path, capsys):
    bad = tmp_path / "train.jsonl"
    bad.write_text('{"id": 1, "prompt": "p", "answer": NaN}\n', encoding="utf-8")
    raw = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    raw["experiment"]["results_dir"] = str(tmp_path / "results")
    raw["data"]["train"] = {"source": "path", "path": str(bad)}
    pf = tmp_path / "params.yaml"
    pf.write_text(yaml.safe_dump(raw), encoding="utf-8")
    assert cli.main(["data", "--params", str(pf)]) == 2
    _one_error_line(capsys, str(bad), "row 0", "answer must be text, got NaN")


def test_one_shot_example_with_a_nan_answer_exits_2(tmp_path, capsys):
    bad = tmp_path / "one.json"
    bad.write_text('{"prompt": "What is 1+1?", "answer": NaN}', encoding="utf-8")
    raw = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    raw["experiment"]["results_dir"] = str(tmp_path / "results")
    raw["data"]["train"]["n"] = 20
    raw["data"]["one_shot"] = {"source": "path", "path": str(bad), "repeat": 4}
    pf = tmp_path / "params.yaml"
    pf.write_text(yaml.safe_dump(raw), encoding="utf-8")
    assert cli.main(["data", "--params", str(pf)]) == 2
    _one_error_line(capsys, "data.one_shot", str(bad), "answer must be text, got NaN")


# -- text encoding ----------------------------------------------------------------------------------
def test_read_jsonl_names_the_line_of_a_non_utf8_byte(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_bytes(b'{"a": "ok"}\n{"a": "caf\xe9"}\n')
    with pytest.raises(DataError, match=rf"{path}: line 2: not UTF-8 text"):
        io.read_jsonl(path)


def test_benchmark_with_a_non_utf8_byte_exits_2(tmp_path, capsys):
    results = tmp_path / "results"
    pf = write_params(tmp_path)
    bench = paths.benchmark_data(results, "arith")
    bench.parent.mkdir(parents=True)
    bench.write_bytes(b'{"id": "x", "prompt": "What is 1 \xff 1?", "answer": "2"}\n')
    save_tiny(paths.base_model(results, "toy"))
    capsys.readouterr()
    assert cli.main(["evaluate", "--params", str(pf), "--model", "toy", "--base"]) == 2
    _one_error_line(capsys, str(bench), "line 1", "not UTF-8")


def test_labels_from_files_with_a_non_utf8_byte(tmp_path):
    path = tmp_path / "mv.jsonl"
    path.write_bytes(b'{"id": "x", "prompt": "p", "answer": "\xff"}\n')
    with pytest.raises(DataError, match=rf"{path}: .*not UTF-8"):
        loaders.load_files([path])


# -- parquet ----------------------------------------------------------------------------------------
def _corrupt_parquet(path, keep=None):
    pd.DataFrame({"id": ["a", "b"], "prompt": ["p0", "p1"], "answer": ["1", "2"]}).to_parquet(path)
    data = path.read_bytes()
    path.write_bytes(data[: keep if keep is not None else len(data) // 2])


@pytest.mark.parametrize("keep", [0, 10, None], ids=["empty", "header-only", "half"])
def test_truncated_parquet_in_the_data_stage(tmp_path, keep):
    path = tmp_path / "train.parquet"
    _corrupt_parquet(path, keep)
    with pytest.raises(DataError, match=rf"{path}: not a readable parquet file"):
        loaders.load_files([path])


def test_truncated_grades_parquet_in_analyze(tmp_path):
    path = tmp_path / "grades.parquet"
    _corrupt_parquet(path)
    with pytest.raises(DataError, match=rf"{path}: not a readable parquet file"):
        analysis.read_grades(path)


# -- model weights ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def template_model(tmp_path_factory):
    return save_tiny(tmp_path_factory.mktemp("tiny") / "model")


@pytest.mark.parametrize("keep", [4, 100, -8], ids=["no-header", "cut-header", "cut-tensors"])
def test_truncated_weights_exit_2_naming_the_file(tmp_path, template_model, capsys, keep):
    results = build_tree(tmp_path, template_model)
    pf = write_params(tmp_path)
    weights = paths.checkpoints_dir(results, "toy", "ground_truth", 1) / "step000010" / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[:keep])
    assert cli.main(["evaluate", "--params", str(pf), "--model", "toy", "--condition", "ground_truth",
                     "--seed", "1"]) == 2
    _one_error_line(capsys, str(weights), "truncated or not a safetensors file")
    assert not paths.completions(results, "toy", paths.run_id("ground_truth", 1)).exists()


def test_whole_weights_pass_the_check(template_model):
    from spurious_rewards.model.loading import check_loadable

    check_loadable(template_model)


# -- score ------------------------------------------------------------------------------------------
def _score(argv):
    parser = argparse.ArgumentParser(prog="score")
    score.configure_parser(parser)
    return score.main(parser.parse_args(argv))


@pytest.mark.parametrize("completion", [42, None, True, [1, 2], [{"content": 7}], {"content": ["x", 1]}],
                         ids=repr)
def test_score_refuses_a_non_text_completion(tmp_path, capsys, completion):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"completion": "fine", "answer": "1"}) + "\n"
                   + json.dumps({"completion": completion, "answer": "1"}) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert _score(["--reward", "format_boxed", str(src), str(out)]) == 2
    _one_error_line(capsys, f"{src}:2:", "'completion' must be text or a list of chat messages")
    assert not out.exists()


def test_score_accepts_messages_and_multimodal_parts(tmp_path):
    src = tmp_path / "in.jsonl"
    rows = [{"completion": [{"role": "assistant", "content": r"\boxed{1}"}]},
            {"completion": {"role": "assistant", "content": [{"type": "text", "text": r"\boxed{2}"}]}}]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert _score(["--reward", "format_boxed", str(src), str(out)]) == 0
    assert [json.loads(line)["reward"] for line in out.read_text().splitlines()] == [1.0, 1.0]


def test_score_refuses_deeply_nested_json(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text('{"completion": "x", "extra": ' + "[" * 100_000 + "]" * 100_000 + "}\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert _score(["--reward", "random", str(src), str(out)]) == 2
    _one_error_line(capsys, f"{src}:1:", "nested too deeply")
    assert not out.exists()


@pytest.mark.parametrize("answer", ["NaN", "null", "[1]"])
def test_score_refuses_a_non_text_label(tmp_path, capsys, answer):
    src = tmp_path / "in.jsonl"
    src.write_text('{"completion": "\\\\boxed{1}", "answer": ' + answer + "}\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert _score(["--reward", "ground_truth", "--workers", "0", str(src), str(out)]) == 2
    _one_error_line(capsys, f"{src}:1:", "'answer' must be text")
