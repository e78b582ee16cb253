"""Metrics: pass@k against hand-computed values, avg@k, bootstrap intervals, smoothing."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spurious_rewards.analysis import metrics


@pytest.mark.parametrize("n,c,k,expected", [
    (4, 1, 1, 0.25),                  # pass@1 = c / n
    (5, 2, 2, 1 - 3 / 10),            # 1 - C(3,2)/C(5,2)
    (10, 3, 5, 1 - 21 / 252),         # 1 - C(7,5)/C(10,5)
    (5, 4, 2, 1.0),                   # n - c < k: every k-subset holds a correct sample
    (3, 0, 2, 0.0),
    (8, 8, 8, 1.0),
])
def test_pass_at_k_hand_values(n, c, k, expected):
    assert metrics.pass_at_k(n, c, k) == pytest.approx(expected)


def test_pass_at_k_rejects_bad_arguments():
    with pytest.raises(ValueError):
        metrics.pass_at_k(4, 5, 1)
    with pytest.raises(ValueError):
        metrics.pass_at_k(4, 1, 5)


def test_mean_pass_at_k_and_avg_at_k():
    n, c = np.array([4, 4]), np.array([1, 4])
    assert metrics.mean_pass_at_k(n, c, 1) == pytest.approx((0.25 + 1.0) / 2)
    correct = np.array([[1, 0, 0, 0], [1, 1, 1, 1]])
    assert metrics.avg_at_k(correct) == pytest.approx(5 / 8)
    assert math.isnan(metrics.avg_at_k(np.array([])))
    assert metrics.pass_k_values(8) == [2, 4, 8]
    assert metrics.pass_k_values(1) == []


def test_bootstrap_ci_contains_the_mean_and_is_seeded():
    rng = np.random.default_rng(1)
    values = rng.random(200) < 0.4
    lo, hi = metrics.bootstrap_ci(values, n_boot=500, rng=3)
    assert lo <= values.mean() <= hi and hi - lo < 0.2
    assert metrics.bootstrap_ci(values, n_boot=500, rng=3) == (lo, hi)
    assert metrics.bootstrap_ci(values, n_boot=500, rng=np.random.default_rng(3)) == (lo, hi)
    assert metrics.bootstrap_ci(values, n_boot=500, rng=4) != (lo, hi)
    # A wider confidence gives a wider interval.
    lo99, hi99 = metrics.bootstrap_ci(values, n_boot=500, confidence=0.99, rng=3)
    assert lo99 <= lo and hi99 >= hi


def test_bootstrap_over_seeds_widens_with_seed_variance():
    rng = np.random.default_rng(0)
    probs = rng.random(100) < 0.5
    same = np.stack([probs, probs, probs]).astype(float)
    spread = np.stack([probs * 0, probs, np.ones_like(probs)]).astype(float)
    lo_s, hi_s = metrics.bootstrap_ci(same, n_boot=400, rng=1)
    lo_v, hi_v = metrics.bootstrap_ci(spread, n_boot=400, rng=1)
    assert lo_s <= same.mean() <= hi_s and lo_v <= spread.mean() <= hi_v
    assert hi_v - lo_v > hi_s - lo_s


def test_seed_spread_and_smoothing():
    s = metrics.seed_spread([0.5, 0.7])
    assert s["mean"] == pytest.approx(0.6) and s["n_seeds"] == 2 and s["min"] == 0.5
    assert metrics.seed_spread([0.5])["std"] == 0.0
    steps, values = [0, 5, 10, 15, 20], [0.1, 0.2, 0.3, 0.4, 0.6]
    assert metrics.smoothed_final(steps, values, 1) == pytest.approx(0.6)
    assert metrics.smoothed_final(steps, values, 10) == pytest.approx(0.5)  # steps 15 and 20


def test_paper_schedule_smooths_the_final_value_over_ten_per_step_evaluations(repo):
    # The paper preset's checkpoints (save_every 10 + save_final_window 10) and its 10-step window:
    # the final value must average the 10 evaluations of steps 291-300, not step 300 alone.
    import pandas as pd

    from spurious_rewards.commands.analyze import summary_table
    from spurious_rewards.config import load_params
    from spurious_rewards.training.grpo_config import plan

    paper = load_params(repo / "presets" / "paper.yaml")
    steps = plan(paper.train("qwen2_5-math-7b", "random")).export_steps()
    window = int(paper.section("analysis")["smoothing_window"])
    assert steps[-11:] == [290, *range(291, 301)] and steps[:3] == [10, 20, 30]
    assert [s for s in steps if s > 300 - window] == list(range(291, 301))
    # 10 problems; at step s the first (s mod 10) are correct: accuracy 0.1 ... 0.9, 0 over 291-300
    rows = [{"model": "m", "condition": "random", "benchmark": "b", "grader": "paper", "seed": 42, "step": s,
             "variant": "default", "problem_id": str(p), "correct": p < s % 10, "has_python": False}
            for s in [0, *steps] for p in range(10)]
    table = summary_table(pd.DataFrame(rows), window, 50, 0.95)
    acc = table[table["metric"] == "accuracy"].iloc[0]
    assert acc["final_step"] == 300 and acc["step0_value"] == 0.0
    assert acc["final_value"] == pytest.approx(0.45)  # mean of 0.1..0.9 and 0.0; step 300 alone is 0.0
    assert metrics.smoothed_final(steps, [s % 10 / 10 for s in steps], window) == pytest.approx(0.45)
