"""The evaluate command: both code paths (base / run), resume from shards, bad inputs."""

from __future__ import annotations

import argparse
import json
import os

import pandas as pd
import pytest

from spurious_rewards import paths
from spurious_rewards.commands import evaluate
from spurious_rewards.data import benchmarks
from spurious_rewards.io import DataError
from tests.unit.eval_fixtures import build_tree, write_params
from tests.unit.tiny_lm import save_tiny


@pytest.fixture(scope="module")
def template_model(tmp_path_factory):
    return save_tiny(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture()
def tree(tmp_path, template_model):
    results = build_tree(tmp_path, template_model)
    return tmp_path, results, write_params(tmp_path)


def parse(params, *extra):
    parser = argparse.ArgumentParser()
    evaluate.configure_parser(parser)
    return parser.parse_args(["--params", str(params), "--model", "toy", *extra])


def test_base_writes_both_variants_with_the_schema(tree):
    _, results, params = tree
    assert evaluate.main(parse(params, "--base")) == 0
    out = pd.read_parquet(paths.completions(results, "toy", paths.BASE_RUN))
    for col in ("model", "condition", "seed", "step", "benchmark", "variant", "problem_id", "sample_index",
                "prompt", "completion", "answer", "n_tokens", "finish_reason"):
        assert col in out.columns
    assert set(out["condition"]) == {"base"} and set(out["seed"]) == {-1} and set(out["step"]) == {0}
    # arith: 4 problems x 1 sample, arith_hard: 3 x 2, each in two variants.
    assert len(out) == 2 * (4 + 6)
    forced = out[out["variant"] == "forced_prefix"]
    assert forced["prompt"].str.endswith("Let's solve this using Python.").all()
    assert not out[out["variant"] == "default"]["prompt"].str.contains("Python").any()
    prov = json.loads((paths.completions(results, "toy", "base").parent
                       / "completions.parquet.provenance.json").read_text())
    assert prov["backend_describe"][0]["backend"] == "hf"
    assert prov["benchmarks"]["arith"]["sha256"] and prov["template_hashes"]


def test_run_covers_every_checkpoint_and_resumes(tree, monkeypatch):
    _, results, params = tree
    args = parse(params, "--condition", "ground_truth", "--seed", "1")
    assert evaluate.main(args) == 0
    out_path = paths.completions(results, "toy", paths.run_id("ground_truth", 1))
    first = pd.read_parquet(out_path)
    assert sorted(first["step"].unique()) == [5, 10]
    assert set(first["variant"]) == {"default"} and set(first["condition"]) == {"ground_truth"}
    state = paths.eval_state_dir(results, "toy", paths.run_id("ground_truth", 1))
    shards = sorted(state.rglob("*.parquet"))
    assert len(shards) == 4  # 2 checkpoints x 2 benchmarks

    # Drop one shard: a rerun regenerates exactly that one and reuses the rest.
    shards[0].unlink()
    calls = []
    import spurious_rewards.generation.hf as hf

    original = hf.HFGenerator.generate

    def counting(self, prompts, **kw):
        calls.append(len(prompts))
        return original(self, prompts, **kw)

    monkeypatch.setattr(hf.HFGenerator, "generate", counting)
    assert evaluate.main(args) == 0
    assert len(calls) == 1
    pd.testing.assert_frame_equal(pd.read_parquet(out_path), first)

    # A settings change (the batch size shapes greedy outputs) must not reuse old shards.
    calls.clear()
    raw_params = write_params(tree[0], evaluate__batch_size=2)
    assert evaluate.main(parse(raw_params, "--condition", "ground_truth", "--seed", "1")) == 0
    assert len(calls) == 4


def test_missing_checkpoint_folder_is_named(tree):
    _, results, params = tree
    ckpts = paths.checkpoints_dir(results, "toy", "ground_truth", 1)
    for f in (ckpts / "step000010").glob("*.safetensors"):
        f.unlink()
    with pytest.raises(DataError, match="step000010.*no weights"):
        evaluate.main(parse(params, "--condition", "ground_truth", "--seed", "1"))
    assert not paths.completions(results, "toy", "ground_truth/seed1").exists()
    assert not [p for p in results.rglob("*") if ".tmp" in p.name]


def test_no_checkpoints_and_no_run(tree):
    tmp, results, params = tree
    ckpts = paths.checkpoints_dir(results, "toy", "ground_truth", 1)
    for child in ckpts.iterdir():
        os.rename(child, ckpts / ("." + child.name))
    with pytest.raises(DataError, match="no checkpoint folders"):
        evaluate.main(parse(params, "--condition", "ground_truth", "--seed", "1"))
    with pytest.raises(DataError, match="checkpoints folder not found"):
        evaluate.main(parse(params, "--condition", "ground_truth", "--seed", "2"))


def test_bad_benchmark_file_and_unknown_benchmark(tree):
    tmp, results, params = tree
    path = paths.benchmark_data(results, "arith")
    path.write_text('{"id": "a", "prompt": "1+1?"}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"arith.jsonl: line 1: missing field\(s\) answer"):
        evaluate.main(parse(params, "--base"))
    path.unlink()
    with pytest.raises(DataError, match="arith.jsonl: file not found"):
        evaluate.main(parse(params, "--base"))
    from spurious_rewards.config import load_params

    with pytest.raises(DataError, match="benchmark 'nope' is not in"):
        benchmarks.load_benchmark(load_params(params, check_rewards=False), "nope")
    assert not paths.completions(results, "toy", "base").exists()


def test_missing_base_model(tree):
    tmp, results, params = tree
    import shutil

    shutil.rmtree(paths.base_model(results, "toy"))
    with pytest.raises(DataError, match="model folder not found"):
        evaluate.main(parse(params, "--base"))


def test_grade_checks_completeness_and_grades_every_grader(tree):
    from spurious_rewards.commands import grade

    _, results, params = tree
    assert evaluate.main(parse(params, "--base")) == 0
    parser = argparse.ArgumentParser()
    grade.configure_parser(parser)
    args = parser.parse_args(["--params", str(params), "--model", "toy", "--base"])
    assert grade.main(args) == 0
    graded = pd.read_parquet(paths.grades(results, "toy", "base"))
    comps = pd.read_parquet(paths.completions(results, "toy", "base"))
    assert set(graded["grader"]) == {"math_verify", "paper"}
    assert len(graded) == 2 * len(comps)
    for col in ("grader_version", "extracted", "correct", "has_python", "has_code_block", "n_chars"):
        assert col in graded.columns
    # Remove one row: grading must refuse, naming what is missing.
    comps.iloc[1:].to_parquet(paths.completions(results, "toy", "base"), index=False)
    with pytest.raises(DataError, match="incomplete: 1 completion.*arith"):
        grade.main(args)


def test_grade_frame_grades_the_answer_region_and_detects_code_on_the_whole_text():
    from spurious_rewards.commands import grade

    texts = [r"<think> in python: \boxed{8} </think> <answer> 7 </answer>", r"<answer> 8 </answer>"]
    frame = pd.DataFrame({"model": "m", "condition": "c", "seed": 1, "step": 0, "benchmark": "b",
                          "variant": "default", "problem_id": ["0", "1"], "sample_index": 0,
                          "completion": texts, "answer": ["7", "7"], "n_tokens": [9, 5],
                          "finish_reason": "stop"})
    for region, expected in (("full", [False, False]), ("after_answer_tag", [True, False])):
        out, _ = grade.grade_frame(frame, ["paper"], workers=0, timeout_s=5.0, answer_region=region)
        assert out["correct"].tolist() == expected, region
        assert out["has_python"].tolist() == [True, False]
        assert out["n_chars"].tolist() == [len(t) for t in texts]


def test_evaluate_and_grade_logs_show_progress(tree, capfd):
    """Rules redirect stderr to the job's log: it carries N/M counts and an ETA."""
    import re

    from spurious_rewards.commands import grade

    _, results, params = tree
    assert evaluate.main(parse(params, "--base")) == 0
    err = capfd.readouterr().err
    # 1 checkpoint (step 0) x 2 benchmarks x 2 variants
    assert re.search(r"evaluate toy/base: shard .*: 4/4 shards \(100%\) elapsed \S+, ETA 00:00", err), err
    assert re.search(r"generate: 4/4 seq \(100%\)", err)  # arith: 4 problems, greedy
    parser = argparse.ArgumentParser()
    grade.configure_parser(parser)
    assert grade.main(parser.parse_args(["--params", str(params), "--model", "toy", "--base"])) == 0
    err = capfd.readouterr().err
    m = re.search(r"grade \(math_verify, paper\): unique answer: (\d+)/(\d+) answers \(100%\)", err)
    assert m and m.group(1) == m.group(2) and int(m.group(1)) > 0, err
