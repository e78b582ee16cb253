"""The clipping-mechanism analysis: seed means per rollout step of the token probability, the rollouts'
code share and the clip ratio, the start -> end change, and a section only when the probability is there."""

from __future__ import annotations

import pandas as pd
import pytest

from spurious_rewards.analysis.plugins import clip_mechanism as cm


def _train(with_probability: bool = True) -> pd.DataFrame:
    rows = []
    for seed, shift in ((1, 0.0), (2, 0.1)):
        for step in range(1, 11):
            if with_probability:
                rows.append(("coder", "random", seed, step, "token_probability_mean", 0.5 + 0.01 * step + shift))
            rows.append(("coder", "random", seed, step, "code_reasoning_frequency", 0.7 + shift))
            # two optimizer updates per rollout step: averaged per run first
            rows += [("coder", "random", seed, step, "clip_ratio_region_mean", 0.0),
                     ("coder", "random", seed, step, "clip_ratio_region_mean", 0.04)]
            rows.append(("coder", "random", seed, step, "loss", 9.0))  # not a mechanism metric
    return pd.DataFrame(rows, columns=["model", "condition", "seed", "step", "metric", "value"])


def test_table_has_seed_means_and_ranges_per_step():
    t = cm.mechanism_table(_train())
    assert set(t["metric"]) == set(cm.METRICS)
    row = t[(t["step"] == 3) & (t["metric"] == "token_probability_mean")].iloc[0]
    assert row["mean"] == pytest.approx(0.58) and row["seed_min"] == pytest.approx(0.53)
    assert row["seed_max"] == pytest.approx(0.63) and row["n_seeds"] == 2
    clip = t[(t["step"] == 3) & (t["metric"] == "clip_ratio_region_mean")].iloc[0]
    assert clip["mean"] == pytest.approx(0.02)


def test_change_compares_the_first_and_last_steps():
    c = cm.change_table(cm.mechanism_table(_train()), edge=5)
    prob = c[c["metric"] == "token_probability_mean"].iloc[0]
    # steps 1-5 average 0.53 (+0.05 seed mean shift), steps 6-10 0.58 (+0.05)
    assert prob["start"] == pytest.approx(0.58) and prob["end"] == pytest.approx(0.63)
    assert prob["change"] == pytest.approx(0.05)


def test_section_and_figure(tmp_path):
    tables = {"mechanism.csv": cm.mechanism_table(_train())}
    figs = cm.figures(tables, tmp_path, None)
    assert [f.name for f in figs] == ["mechanism_vs_step.png"] and figs[0].stat().st_size > 0
    text = cm.section(tables, ["figures/mechanism_vs_step.png"], None)
    assert "| coder | random | 2.00% | 0.580 → 0.630 (+0.050) | 75.0% → 75.0% (+0.0) |" in text


def test_no_section_and_no_figure_without_the_token_probability(tmp_path):
    # every figure drawn must appear in the report (tests/e2e/test_pipeline.py checks it on the smoke run)
    tables = {"mechanism.csv": cm.mechanism_table(_train(with_probability=False))}
    assert cm.section(tables, [], None) is None
    assert cm.figures(tables, tmp_path, None) == [] and not list(tmp_path.glob("*.png"))
    assert cm.mechanism_table(pd.DataFrame(columns=["model", "condition", "seed", "step", "metric",
                                                    "value"])).empty
