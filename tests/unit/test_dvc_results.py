"""DVC-native results: analyze writes metrics and plot files, and dvc.yaml declares them."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

from spurious_rewards import paths, stages
from spurious_rewards.analysis import dvc_results
from spurious_rewards.commands import export_dvc as dvc_export
from tests.unit.test_report import MODEL, analysis_dir  # noqa: F401  (fixture)


def test_dvc_yaml_declares_metrics_and_plots():
    doc = yaml.safe_load(dvc_export.render("params.yaml", "dvc.yaml"))
    analyze = doc["stages"]["analyze"]
    assert analyze["metrics"] == ["${experiment.results_dir}/dvc/summary.json",
                                  "${experiment.results_dir}/dvc/runs.json"]
    plots = {list(p)[0].rsplit("/", 1)[1]: list(p.values())[0] for p in analyze["plots"]}
    assert set(plots) == {"accuracy", "code_frequency", "train_reward", "clip_ratio"}
    assert all(p["x"] == "step" and p["x_label"] == "rollout step" for p in plots.values())
    assert plots["accuracy"]["y"] == "accuracy" and plots["clip_ratio"]["y"] == "clip_ratio"
    # metrics and plots are not listed twice (DVC rejects overlapping outputs)
    assert analyze["outs"] == ["${experiment.results_dir}/analysis"]
    assert "grader" in analyze["params"]
    # Snakemake sees every file as a plain output of the rule
    keys = [o.key for o in stages.stage("analyze").outputs]
    assert {"summary_metrics", "run_metrics", "plot_accuracy", "plot_clip_ratio"} <= set(keys)


def test_output_kind_is_checked():
    with pytest.raises(ValueError, match="kind must be outs, metrics or plots"):
        stages.Output("x", "x.json", kind="metric")
    with pytest.raises(ValueError, match="plot properties on a metrics output"):
        stages.Output("x", "x.json", kind="metrics", plot=(("x", "step"),))


def test_metrics_and_plot_files_hold_the_analysis_numbers(analysis_dir, tmp_path):  # noqa: F811
    _, tables = analysis_dir
    train = tables["train_metrics.csv"]
    dvc_results.write(tmp_path, tables["metrics.csv"], tables["summary.csv"], train, "math_verify")
    summary = json.loads((tmp_path / paths.DVC_SUMMARY).read_text())
    s = tables["summary.csv"]
    row = s[(s["metric"] == "accuracy") & (s["grader"] == "math_verify") & (s["benchmark"] == "math500")
            & (s["condition"] == "random")].iloc[0]
    got = summary[MODEL]["random"]["math500"]
    assert got["delta"] == round(100 * row["delta"], 4) and got["n_seeds"] == 2 and got["final_step"] == 10
    assert got["delta_ci_low"] <= got["delta"] <= got["delta_ci_high"]

    runs = json.loads((tmp_path / paths.DVC_RUNS).read_text())
    m = tables["metrics.csv"]
    acc = m[(m["metric"] == "accuracy") & (m["grader"] == "math_verify") & (m["benchmark"] == "amc")
            & (m["condition"] == "ground_truth") & (m["seed"] == 2) & (m["variant"] == "default")]
    run = runs[MODEL]["ground_truth"]["seed2"]["amc"]
    assert run["step"] == 10
    assert run["accuracy"] == round(100 * acc[acc["step"] == 10]["value"].iloc[0], 4)
    assert run["accuracy_step0"] == round(100 * acc[acc["step"] == 0]["value"].iloc[0], 4)
    assert runs[MODEL]["random"]["seed1"]["train"] == {"step": 10, "reward": 1.0, "clip_ratio": 3.0}

    plots = tmp_path / paths.DVC_PLOTS
    curve = pd.read_csv(plots / "accuracy" / MODEL / "ground_truth" / "amc.csv")
    assert list(curve.columns) == ["step", "accuracy", "accuracy_ci_low", "accuracy_ci_high"]
    assert curve["step"].tolist() == [0, 5, 10]
    # the plot is the seed mean (seeds 1 and 2)
    full = m[(m["metric"] == "accuracy") & (m["grader"] == "math_verify") & (m["benchmark"] == "amc")
             & (m["condition"] == "ground_truth") & (m["variant"] == "default")]
    assert curve["accuracy"].tolist() == (100 * full.groupby("step")["value"].mean()).round(4).tolist()
    clip = pd.read_csv(plots / "clip_ratio" / MODEL / "random.csv")
    assert list(clip.columns) == ["step", "clip_ratio", "clip_ratio_low", "clip_ratio_high"]
    assert clip["clip_ratio"].iloc[-1] == 3.0
    reward = pd.read_csv(plots / "train_reward" / MODEL / "ground_truth.csv")
    assert reward["reward"].round(4).tolist() == [round(0.1 * s, 4) for s in range(1, 11)]
    assert sorted(p.name for p in (plots / "code_frequency" / MODEL / "random").iterdir()) == ["amc.csv",
                                                                                              "math500.csv"]
