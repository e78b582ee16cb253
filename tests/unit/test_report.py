"""Report from a synthetic analysis folder (built with the analysis functions from synthetic grades)."""

from __future__ import annotations

import json
import zlib

import numpy as np
import pandas as pd
import pytest

from spurious_rewards.analysis import code_reasoning
from spurious_rewards.analysis import stage as analysis_stage
from spurious_rewards.io import DataError
from spurious_rewards.report import paper_numbers
from spurious_rewards.report import stage as report_stage

MODEL = "qwen2.5-math-7b"  # named like the paper's model: the paper comparison must appear


def synthetic_grades() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []

    def add(cond, seed, step, variant, p_code, p_correct, samples=1, bench="math500"):
        for grader in ("math_verify", "paper"):
            for i in range(40):
                for k in range(samples):
                    r = np.random.default_rng(zlib.crc32(repr((cond, seed, step, variant, i, k)).encode()))
                    rows.append({"model": MODEL, "condition": cond, "seed": seed, "step": step,
                                 "benchmark": bench, "variant": variant, "grader": grader,
                                 "grader_version": grader + "-1", "problem_id": f"p{i}", "sample_index": k,
                                 "correct": bool(r.random() < p_correct),
                                 "has_python": bool(r.random() < p_code),
                                 "has_code_block": False, "n_tokens": int(rng.integers(5, 50)),
                                 "finish_reason": "stop"})

    for variant, p in (("default", 0.5), ("forced_prefix", 0.65)):
        add("base", -1, 0, variant, 0.65, p)
        add("base", -1, 0, variant, 0.65, p * 0.5, samples=4, bench="amc")
    for cond, gain in (("ground_truth", 0.3), ("random", 0.2)):
        for seed in (1, 2):
            for step in (5, 10):
                add(cond, seed, step, "default", 0.9, 0.5 + gain * step / 10)
                add(cond, seed, step, "default", 0.9, 0.25 + gain * step / 20, samples=4, bench="amc")
    return pd.DataFrame(rows)


class FakeParams:
    def runs(self):
        return [(MODEL, c, s) for c in ("ground_truth", "random") for s in (1, 2)]


@pytest.fixture()
def analysis_dir(tmp_path):
    grades = synthetic_grades()
    full = analysis_stage.with_baseline(grades, FakeParams())
    folder = tmp_path / "analysis"
    folder.mkdir()
    train = pd.DataFrame([{"model": MODEL, "condition": c, "seed": s, "step": st, "metric": "reward",
                           "value": 0.1 * st} for c, s in [("ground_truth", 1), ("random", 1)]
                          for st in range(1, 11)])
    tables = {
        "metrics.csv": analysis_stage.metrics_table(full, 200, 0.95),
        "summary.csv": analysis_stage.summary_table(full, 1, 200, 0.95),
        "code_reasoning.csv": code_reasoning.frequency_table(full),
        "switch.csv": code_reasoning.switch_table(full[full["condition"] != "base"], 0, "last"),
        "prompting.csv": code_reasoning.prompting_table(grades[grades["condition"] == "base"]),
        "train_metrics.csv": train,
    }
    for name, frame in tables.items():
        frame.to_csv(folder / name, index=False)
    prov = {"primary_grader": "math_verify", "params_file": "presets/paper.yaml", "params_hash": "abc123",
            "git": {"sha": "deadbeef", "dirty": False}, "packages": {"torch": "2.13.0", "vllm": None},
            "graders": [{"grader": "math_verify", "grader_version": "math_verify-1"}],
            "models": {MODEL: {"kind": "hf", "path": "Qwen/Qwen2.5-Math-7B"}},
            "conditions": {"ground_truth": {"reward": "ground_truth", "labels": "ground_truth"}},
            "seeds": [1, 2], "benchmarks": {"math500": {"samples": 1, "temperature": 0.0}},
            "analysis": {"smoothing_window": 1, "confidence": 0.95, "bootstrap_samples": 200},
            "upstream": {"backends": [{"backend": "vllm", "tensor_parallel_size": 1,
                                       "batch_invariant": True}],
                         "graders": [{"name": "math_verify", "version": "math_verify-1"}]}}
    (folder / "provenance.json").write_text(json.dumps(prov), encoding="utf-8")
    return folder, tables


def test_analysis_tables_are_consistent(analysis_dir):
    _, tables = analysis_dir
    m = tables["metrics.csv"]
    assert {"accuracy", "accuracy_ci_low", "pass@2", "pass@4", "avg@4", "code_frequency"} <= set(m["metric"])
    # Step 0 of every run is the base evaluation.
    step0 = m[(m["step"] == 0) & (m["metric"] == "accuracy") & (m["benchmark"] == "math500")
              & (m["grader"] == "paper") & (m["variant"] == "default")]
    assert step0["value"].nunique() == 1 and len(step0) == 5  # base + 2 conditions x 2 seeds
    s = tables["summary.csv"]
    acc = s[(s["metric"] == "accuracy") & (s["benchmark"] == "math500") & (s["grader"] == "paper")]
    assert (acc["n_seeds"] == 2).all()
    assert ((acc["ci_low"] <= acc["delta"]) & (acc["delta"] <= acc["ci_high"])).all()


def test_report_files_and_tables(analysis_dir, tmp_path):
    folder, _ = analysis_dir
    out = tmp_path / "report"
    report_stage.build(folder, out)
    pngs = sorted((out / "figures").glob("*.png"))
    assert {p.name for p in pngs} == {"accuracy_vs_step_math_verify.png", "accuracy_vs_step_paper.png",
                                      "code_frequency_vs_step.png", "train_reward_vs_step.png"}
    assert all(p.stat().st_size > 5000 for p in pngs)
    md = (out / "report.md").read_text(encoding="utf-8")
    for needle in ("## Summary", "## Strategy switches", "## Code reasoning", "## Prompting intervention",
                   "## Ours vs the paper", "Qwen2.5-Math-7B", "| ground_truth |", "language->code",
                   "](figures/accuracy_vs_step_math_verify.png)", "deadbeef", "batch_invariant=True",
                   "abc123"):
        assert needle in md, needle
    for p in pngs:
        assert f"](figures/{p.name})" in md
    assert not [p for p in tmp_path.iterdir() if ".tmp" in p.name]


def test_report_without_paper_model_and_missing_input(analysis_dir, tmp_path):
    folder, _ = analysis_dir
    prov = json.loads((folder / "provenance.json").read_text())
    prov["models"] = {"toy": {"kind": "tiny", "path": None}}
    (folder / "provenance.json").write_text(json.dumps(prov))
    report_stage.build(folder, tmp_path / "r1")
    assert "Ours vs the paper" not in (tmp_path / "r1" / "report.md").read_text()
    (folder / "switch.csv").unlink()
    with pytest.raises(DataError, match="switch.csv: missing"):
        report_stage.build(folder, tmp_path / "r2")
    assert not (tmp_path / "r2").exists()


def test_paper_model_matching():
    assert paper_numbers.paper_model_for("Qwen/Qwen2.5-Math-7B") == "Qwen2.5-Math-7B"
    assert paper_numbers.paper_model_for("qwen25_math_1.5b") == "Qwen2.5-Math-1.5B"
    assert paper_numbers.paper_model_for("toy", None) is None
    assert paper_numbers.is_math500("MATH-500") and not paper_numbers.is_math500("amc")
