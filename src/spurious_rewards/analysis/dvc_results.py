"""The headline numbers of analyze as DVC metrics and plots (declared in dvc.yaml by the stage table).

  dvc/summary.json  the aggregated table: per model / condition / benchmark, accuracy at step 0, the
                    smoothed final value, the change and its bootstrap interval (primary grader, %)
  dvc/runs.json     per-run summaries: per model / condition / seed, each benchmark's accuracy and code
                    frequency at step 0 and at the run's last step, and the last rollout step's training
                    reward, entropy, rollout code frequency and clip ratio
  dvc/plots/<name>/<model>/<condition>[/<benchmark>].csv   step curves (seed means) for `dvc plots`

Nested JSON, so `dvc metrics show` and `dvc exp show` print flat keys such as
`toy.random.arith.delta`. Values are percentages (accuracy, code frequency, clip ratio) or the
trainer's own units (reward), rounded to 4 decimals so that a rerun with equal numbers gives equal files.
These files only re-shape analysis tables: every number here is also in the analysis folder.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from spurious_rewards import io, paths

CLIP = {"clip_ratio": "clip_ratio_region_mean", "clip_ratio_low": "clip_ratio_low_mean",
        "clip_ratio_high": "clip_ratio_high_mean"}
REWARD = ("reward", "reward_mean")
CODE_FREQUENCY = "code_reasoning_frequency"  # training/metrics.py: share of rollouts mentioning python


def _num(value, scale: float = 1.0):
    """JSON-safe rounded number (None for NaN: JSON has no NaN)."""
    if value is None:
        return None
    value = float(value) * scale
    return None if math.isnan(value) else round(value, 4)


def _nest(out: dict, keys, value) -> None:
    node = out
    for k in keys[:-1]:
        node = node.setdefault(str(k), {})
    node[str(keys[-1])] = value


def _runs_only(metrics: pd.DataFrame, grader: str) -> pd.DataFrame:
    return metrics[(metrics["variant"] == "default") & (metrics["condition"] != "base")
                   & (metrics["grader"] == grader)]


def summary_metrics(summary: pd.DataFrame, grader: str) -> dict:
    out: dict = {}
    s = summary[(summary["metric"] == "accuracy") & (summary["grader"] == grader)]
    for r in s.itertuples(index=False):
        _nest(out, [r.model, r.condition, r.benchmark], {
            "step0": _num(r.step0_value, 100), "final": _num(r.final_value, 100),
            "delta": _num(r.delta, 100), "delta_ci_low": _num(r.ci_low, 100),
            "delta_ci_high": _num(r.ci_high, 100), "final_step": int(r.final_step),
            "n_seeds": int(r.n_seeds)})
    return out


def _train_per_step(train: pd.DataFrame) -> pd.DataFrame:
    """One value per (run, rollout step, metric): several optimizer updates share a rollout step."""
    if train.empty:
        return train
    return train.groupby(["model", "condition", "seed", "step", "metric"], as_index=False)["value"].mean()


def _reward_metric(train: pd.DataFrame) -> str | None:
    names = set(train["metric"]) if not train.empty else set()
    return next((m for m in REWARD if m in names), None)


def run_metrics(metrics: pd.DataFrame, train: pd.DataFrame, grader: str) -> dict:
    out: dict = {}
    m = _runs_only(metrics, grader)
    m = m[m["metric"].isin(["accuracy", "code_frequency"])]
    for (model, cond, seed, bench), g in m.groupby(["model", "condition", "seed", "benchmark"], sort=True):
        wide = g.pivot_table(index="step", columns="metric", values="value", aggfunc="mean").sort_index()
        first, last = wide.iloc[0], wide.iloc[-1]
        _nest(out, [model, cond, f"seed{seed}", bench], {
            "step": int(wide.index[-1]),
            "accuracy_step0": _num(first.get("accuracy"), 100), "accuracy": _num(last.get("accuracy"), 100),
            "delta": _num(last.get("accuracy") - first.get("accuracy"), 100),
            "code_frequency": _num(last.get("code_frequency"), 100)})
    t = _train_per_step(train)
    reward = _reward_metric(t)
    for (model, cond, seed), g in (t.groupby(["model", "condition", "seed"], sort=True) if len(t) else []):
        last = g[g["step"] == g["step"].max()].set_index("metric")["value"]
        entry = {"step": int(g["step"].max())}
        if reward:
            entry["reward"] = _num(last.get(reward))
        # entropy and the rollouts' code frequency move with every update, even when a reward is
        # constant (a reward of 0 for all rollouts makes the advantages 0 and the reward curve flat)
        for key, src, scale in (("entropy", "entropy", 1.0), ("code_frequency", CODE_FREQUENCY, 100),
                                ("clip_ratio", CLIP["clip_ratio"], 100)):
            if src in last:
                entry[key] = _num(last.get(src), scale)
        _nest(out, [model, cond, f"seed{seed}", "train"], entry)
    return out


def _write_curves(folder, frame: pd.DataFrame, by: list[str], columns: dict[str, tuple[str, float]]) -> None:
    """Long frame (..., step, metric, value) -> one CSV per `by` group, the mean over seeds."""
    with io.atomic_dir(folder) as tmp:
        for key, g in (frame.groupby(by, sort=True) if len(frame) else []):
            wide = (g.pivot_table(index="step", columns="metric", values="value", aggfunc="mean")
                    .sort_index())
            have = {col: (src, scale) for col, (src, scale) in columns.items() if src in wide.columns}
            if not have:
                continue
            table = pd.DataFrame({col: (wide[src] * scale).round(4) for col, (src, scale) in have.items()})
            table.index.name = "step"
            key = key if isinstance(key, tuple) else (key,)
            *folders, name = map(str, key)
            path = tmp.joinpath(*folders, name + ".csv")
            path.parent.mkdir(parents=True, exist_ok=True)
            table.reset_index().to_csv(path, index=False)


def write(results_dir, metrics: pd.DataFrame, summary: pd.DataFrame, train: pd.DataFrame,
          grader: str) -> None:
    r = Path(results_dir)
    io.write_json(r / paths.DVC_SUMMARY, summary_metrics(summary, grader))
    io.write_json(r / paths.DVC_RUNS, run_metrics(metrics, train, grader))
    runs = _runs_only(metrics, grader)
    by_bench = ["model", "condition", "benchmark"]
    plots = r / paths.DVC_PLOTS
    _write_curves(plots / "accuracy", runs, by_bench,
                  {"accuracy": ("accuracy", 100), "accuracy_ci_low": ("accuracy_ci_low", 100),
                   "accuracy_ci_high": ("accuracy_ci_high", 100)})
    _write_curves(plots / "code_frequency", runs, by_bench, {"code_frequency": ("code_frequency", 100)})
    t = _train_per_step(train)
    reward = _reward_metric(t)
    _write_curves(plots / "train_reward", t, ["model", "condition"],
                  {"reward": (reward, 1.0)} if reward else {})
    _write_curves(plots / "clip_ratio", t, ["model", "condition"],
                  {col: (src, 100) for col, src in CLIP.items()})
