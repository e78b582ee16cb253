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


def _runs(clipped_changes, unclipped_changes, coder_code=0.02):
    rows = []
    for seed, change in enumerate(clipped_changes, 1):
        rows.append(("coder", "random", seed, "token_probability_mean", 0.9, 0.9 + change, change))
        rows.append(("coder", "random", seed, "code_reasoning_frequency", 0.7, 0.7 + coder_code, coder_code))
        rows.append(("talker", "random", seed, "code_reasoning_frequency", 0.1, 0.3, 0.2))
    for seed, change in enumerate(unclipped_changes, 1):
        rows.append(("coder", "random_no_clip", seed, "token_probability_mean", 0.9, 0.9 + change, change))
        rows.append(("coder", "random_no_clip", seed, "code_reasoning_frequency", 0.7, 0.7, 0.0))
    return pd.DataFrame(rows, columns=cm.RUN_COLUMNS)


KINDS = {"random": "random", "random_no_clip": "random_no_clip", "ground_truth": "true"}


def test_run_table_compares_each_runs_first_and_last_steps():
    runs = cm.run_table(_train(), edge=5)
    prob = runs[runs["metric"] == "token_probability_mean"].set_index("seed")
    # seed 2 is seed 1 shifted by 0.1: the change (0.05) is the same, the start differs
    assert prob.loc[1, "start"] == pytest.approx(0.53) and prob.loc[2, "start"] == pytest.approx(0.63)
    assert list(prob["change"]) == pytest.approx([0.05, 0.05])
    clip = runs[runs["metric"] == "clip_ratio_region_mean"]
    assert list(clip["start"]) == pytest.approx([0.02, 0.02]) and list(clip["change"]) == pytest.approx([0, 0])


@pytest.mark.parametrize("clipped, unclipped, verdict", [
    ([0.01, 0.02, -0.001], [-0.01, 0.0, -0.002], "yes"),     # most rise, above the unclipped runs
    ([-0.004, -0.001, -0.002], [-0.01, -0.02, -0.01], "no"),  # less negative than unclipped is not a rise
    ([0.01, -0.001, -0.002], [-0.01, -0.02, -0.01], "partly"),  # mean up, most fall
    ([0.01, 0.02, 0.03], [0.05, 0.05, 0.05], "partly"),     # rises, but no more than without the clip
])
def test_probability_verdict(clipped, unclipped, verdict):
    claims = cm.verdicts(_runs(clipped, unclipped), KINDS)
    prob = claims[0]
    assert prob[1] == verdict
    assert f"of {len(clipped)} runs rise" in prob[2] and prob[2].startswith("coder: clipped")


def test_code_verdict_is_for_the_organism_that_starts_with_most_code():
    claims = cm.verdicts(_runs([0.01] * 3, [0.0] * 3, coder_code=-0.03), KINDS)
    code = claims[1]
    # the talker's code share rises (+0.2), but the coder (70% code at the start) is the one judged
    assert "(coder)" in code[0] and code[1] == "no"
    assert "0 of 3 runs rise, mean -3.0 [runs -3.0, -3.0]" in code[2]


def test_section_has_verdicts_when_the_provenance_names_the_conditions():
    tables = {"mechanism.csv": cm.mechanism_table(_train()), "mechanism_runs.csv": cm.run_table(_train())}
    ctx = type("Ctx", (), {"prov": {"conditions": {
        "random": {"reward": "random", "reward_options": {"gamma": 0.5}}},
        "updates_per_rollout": {"coder/random": 8}}})()
    text = cm.section(tables, [], ctx)
    assert "### The mechanism: verdicts" in text
    assert "| yes | coder: clipped 2 of 2 runs rise, mean +0.0500" in text
    # one update per rollout: the same runs count as unclipped, so there is no clipped run to judge
    ctx.prov["updates_per_rollout"] = {"coder/random": 1}
    assert "### The mechanism: verdicts" not in cm.section(tables, [], ctx)


def test_the_figure_draws_random_runs_and_ground_truth_each_in_its_own_colour():
    from spurious_rewards.report import figures as figs

    names = [f"c{i:02d}" for i in range(13)]
    assert len(set(figs.colours(names).values())) == 13  # tab10 would repeat three
    assert len(set(figs.colours([f"c{i}" for i in range(25)]).values())) == 25
    prov = {"conditions": {"ground_truth": {"reward": "ground_truth"}, "format": {"reward": "format_boxed"},
                           "random": {"reward": "random"}, "random_no_clip": {"reward": "random",
                                                                              "train": {"clip": False}}}}
    assert cm._compared({"ground_truth", "format", "random", "random_no_clip"}, prov) == [
        "ground_truth", "random", "random_no_clip"]
    assert cm._compared({"format", "x"}, {}) == ["format", "x"]  # no provenance: every condition


def test_evidence_for_two_organisms_stays_in_one_table_cell():
    train = _train()
    talker = train.assign(model="talker")
    both = pd.concat([train, talker])
    tables = {"mechanism.csv": cm.mechanism_table(both), "mechanism_runs.csv": cm.run_table(both)}
    ctx = type("Ctx", (), {"prov": {"conditions": {"random": {"reward": "random"}},
                                    "updates_per_rollout": {"coder/random": 8, "talker/random": 8}}})()
    row = next(line for line in cm.section(tables, [], ctx).splitlines() if line.startswith("| Clipped random"))
    # 3 cells: the organisms' evidence is joined by an escaped pipe
    assert row.replace("\\|", "").count("|") == 4 and " \\| talker: clipped" in row
