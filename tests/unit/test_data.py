"""The data stage: synthetic problems and loaders for the paper's real files."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from spurious_rewards.data import loaders, synthetic
from spurious_rewards.io import DataError


def test_synthetic_is_seeded_and_answers_are_right():
    first = synthetic.generate(200, seed=3, split="train")
    assert first == synthetic.generate(200, seed=3, split="train")
    assert first != synthetic.generate(200, seed=4, split="train")
    assert len({p.prompt for p in first}) == 200
    for p in first + synthetic.generate(50, seed=3, split="t", difficulty="hard"):
        a, op, b, *rest = p.expression.split()
        expected = {"+": int(a) + int(b), "-": int(a) - int(b), "*": int(a) * int(b)}[op]
        if rest:
            expected = expected + int(rest[1]) if rest[0] == "+" else expected - int(rest[1])
        assert p.answer == expected >= 0


def test_synthetic_excludes_held_out_prompts():
    bench = synthetic.generate(100, seed=1, split="bench")
    train = synthetic.generate(500, seed=1, split="train", exclude={p.prompt for p in bench})
    assert not {p.prompt for p in bench} & {p.prompt for p in train}


def test_math500_amc_aime_load_in_the_paper_schema(shared_data):
    base = shared_data / "rethink_rlvr"
    sizes = {"MATH-TTT": 500, "AMC-TTT": 83, "AIME-TTT": 30, "AIME2025-TTT": 30}
    for folder, n in sizes.items():
        rows = loaders.load_files([base / folder / "test.json"])
        assert len(rows) == n
        assert set(rows[0]) == {"id", "prompt", "answer", "source"}
    amc = loaders.load_files([base / "AMC-TTT" / "test.json"])
    assert amc[0]["answer"] == "142.0"
    aime25 = loaders.load_files([base / "AIME2025-TTT" / "test.json"])
    assert any(r["answer"].startswith("0") for r in aime25)  # zero-padded, e.g. "070"


def test_math500_jsonl_with_field_mapping(shared_data):
    path = shared_data / "one_shot_rlvr" / "Qwen2.5-Eval" / "evaluation" / "data" / "math500" / "test.jsonl"
    rows = loaders.load_files([path], fields={"prompt": "problem", "id": "unique_id"})
    json_rows = loaders.load_files([shared_data / "rethink_rlvr" / "MATH-TTT" / "test.json"])
    assert [r["id"] for r in rows] == [r["id"] for r in json_rows]
    assert [r["answer"] for r in rows] == [r["answer"] for r in json_rows]


def test_deepscaler_chunks_concatenate_with_unique_ids(shared_data):
    chunks = [shared_data / "rethink_rlvr" / f"DeepScaleR_Difficulty_Level_{k}" for k in range(1, 6)]
    rows = loaders.load_files(chunks, source_name="deepscaler")
    assert len(rows) == 40308
    assert len({r["id"] for r in rows}) == 40308
    assert rows[0]["id"] == "DeepScaleR_Difficulty_Level_1/train:0"


def test_source_spec_limit_and_hf_error(shared_data):
    spec = {"source": "path", "path": str(shared_data / "rethink_rlvr" / "MATH-TTT" / "test.json"), "limit": 7}
    assert len(loaders.load_source(spec, "data.benchmarks.math500")) == 7
    with pytest.raises(DataError, match="hf dataset no-such/dataset"):
        loaders.load_hf("no-such/dataset")


def test_missing_column_names_file_and_row(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"id": 1, "prompt": "p", "answer": "1"}) + "\n" + json.dumps({"id": 2, "prompt": "q"}) + "\n")
    with pytest.raises(DataError, match=r"bad\.jsonl: row 1: missing column 'answer'"):
        loaders.load_files([path])


def test_empty_answer_names_file_and_row(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps([{"id": "a", "prompt": "p", "answer": "3"}, {"id": "b", "prompt": "q", "answer": " "}]))
    with pytest.raises(DataError, match=r"bad\.json: row 1 \(id b\): empty answer"):
        loaders.load_files([path])


def test_parquet_and_bad_json(tmp_path):
    pd.DataFrame({"question": ["1+1?"], "solution": ["2"]}).to_parquet(tmp_path / "x.parquet")
    rows = loaders.load_files([tmp_path / "x.parquet"], fields={"prompt": "question", "answer": "solution"})
    assert rows == [{"id": "0", "prompt": "1+1?", "answer": "2", "source": tmp_path.name}]
    (tmp_path / "y.json").write_text("[{")
    with pytest.raises(DataError, match=r"y\.json: not valid JSON"):
        loaders.load_files([tmp_path / "y.json"])


def test_data_stage_bad_dataset_exits_nonzero_and_writes_nothing(tmp_path, repo):
    import subprocess
    import sys

    import yaml

    raw = yaml.safe_load((repo / "params.yaml").read_text())
    bad = tmp_path / "train.json"
    bad.write_text(json.dumps([{"id": "0", "prompt": "1+1?", "answer": "2"},
                               {"id": "1", "prompt": "2+2?", "answer": ""}]))
    raw["experiment"]["results_dir"] = str(tmp_path / "results")
    raw["data"]["train"] = {"source": "path", "path": str(bad)}
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(raw))
    proc = subprocess.run([sys.executable, "-m", "spurious_rewards", "data", "--params", str(params)],
                          capture_output=True, text=True, cwd=repo)
    assert proc.returncode == 2
    assert f"{bad}: row 1 (id 1): empty answer" in proc.stderr
    assert not (tmp_path / "results").exists() or not any((tmp_path / "results").rglob("*.jsonl"))


def test_data_stage_writes_the_paper_schema(tmp_path, repo):
    import subprocess
    import sys

    import yaml

    raw = yaml.safe_load((repo / "params.yaml").read_text())
    raw["experiment"]["results_dir"] = str(tmp_path / "r")
    raw["data"]["train"]["n"] = 50
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(raw))
    subprocess.run([sys.executable, "-m", "spurious_rewards", "data", "--params", str(params)],
                   check=True, capture_output=True, cwd=repo)
    from spurious_rewards.io import read_jsonl

    train = read_jsonl(tmp_path / "r" / "data" / "train.jsonl", required=("id", "prompt", "answer", "source"))
    bench = read_jsonl(tmp_path / "r" / "data" / "benchmarks" / "arith.jsonl")
    assert len(train) == 50 and len(bench) == raw["data"]["benchmarks"]["arith"]["n"]
    assert not {r["prompt"] for r in train} & {r["prompt"] for r in bench}
    one_shot = read_jsonl(tmp_path / "r" / "data" / "one_shot.jsonl")
    assert len(one_shot) == 128 and len({(r["prompt"], r["answer"]) for r in one_shot}) == 1
