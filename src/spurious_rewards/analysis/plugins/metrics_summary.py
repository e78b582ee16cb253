"""Accuracy and the other per-checkpoint metrics, the step-0 vs final summary, and the training
metrics (analyze), with the report's summary section, its figures and the figures section.

  metrics.csv        tidy: model, condition, seed, step, benchmark, variant, grader, metric, value, n
  summary.csv        per model/condition/benchmark/grader/metric: step-0, smoothed final, delta, CI
  train_metrics.csv  the runs' training metrics, long form: model, condition, seed, step, metric, value
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from spurious_rewards.analysis import code_reasoning, metrics
from spurious_rewards.analysis.plugin import Analysis
from spurious_rewards.config import canonical_hash

GROUP = ["model", "condition", "seed", "step", "benchmark", "variant", "grader"]
METRIC_COLUMNS = GROUP + ["metric", "value", "n"]


def _rng(*key) -> np.random.Generator:
    """A generator seeded from the group key: intervals do not depend on the order groups are visited."""
    return np.random.default_rng(int(canonical_hash([str(k) for k in key])[:15], 16))


def per_problem(grades: pd.DataFrame) -> pd.DataFrame:
    """Samples and correct answers per problem, for avg@k and pass@k."""
    return (grades.assign(correct=grades["correct"].astype(int))
            .groupby(GROUP + ["problem_id"], sort=True)["correct"].agg(n="size", c="sum").reset_index())


def metrics_table(grades: pd.DataFrame, n_boot: int, confidence: float) -> pd.DataFrame:
    rows = []
    problems = per_problem(grades)
    for key, g in problems.groupby(GROUP, sort=True):
        base = dict(zip(GROUP, key))
        acc_pp = (g["c"] / g["n"]).to_numpy()
        n_probs = len(g)
        samples = int(g["n"].min())
        lo, hi = metrics.bootstrap_ci(acc_pp, n_boot=n_boot, confidence=confidence, rng=_rng(*key))
        rows += [{**base, "metric": "accuracy", "value": float(acc_pp.mean()), "n": n_probs},
                 {**base, "metric": "accuracy_ci_low", "value": lo, "n": n_probs},
                 {**base, "metric": "accuracy_ci_high", "value": hi, "n": n_probs}]
        if samples > 1:
            rows.append({**base, "metric": f"avg@{samples}", "value": float(acc_pp.mean()), "n": n_probs})
            for k in metrics.pass_k_values(samples):
                rows.append({**base, "metric": f"pass@{k}",
                             "value": metrics.mean_pass_at_k(g["n"].to_numpy(), g["c"].to_numpy(), k),
                             "n": n_probs})
    freq = code_reasoning.frequency_table(grades)
    for rec in freq.to_dict("records"):
        base = {k: rec[k] for k in GROUP}
        rows += [{**base, "metric": "code_frequency", "value": rec["code_frequency"], "n": rec["n"]},
                 {**base, "metric": "code_block_frequency", "value": rec["code_block_frequency"],
                  "n": rec["n"]},
                 {**base, "metric": "acc_code", "value": rec["acc_code"], "n": rec["n_code"]},
                 {**base, "metric": "acc_language", "value": rec["acc_language"], "n": rec["n_language"]}]
    lengths = grades.groupby(GROUP, sort=True).agg(
        mean_n_tokens=("n_tokens", "mean"),
        truncated=("finish_reason", lambda s: float((s == "length").mean())), n=("n_tokens", "size"))
    for key, rec in lengths.iterrows():
        base = dict(zip(GROUP, key))
        n = int(rec["n"])
        rows += [{**base, "metric": "mean_n_tokens", "value": float(rec["mean_n_tokens"]), "n": n},
                 {**base, "metric": "truncated_frac", "value": float(rec["truncated"]), "n": n}]
    return pd.DataFrame(rows, columns=METRIC_COLUMNS)


def summary_table(grades: pd.DataFrame, window: int, n_boot: int,
                  confidence: float) -> pd.DataFrame:
    """Step 0 vs the smoothed final value, per model/condition/benchmark/grader, across seeds."""
    cols = ["model", "condition", "benchmark", "grader", "metric", "n_seeds", "final_step", "step0_value",
            "final_value", "delta", "delta_std", "final_min", "final_max", "ci_low", "ci_high", "ci_method",
            "n_problems"]
    g = grades[(grades["variant"] == "default") & (grades["condition"] != "base")]
    rows = []
    for metric, col in (("accuracy", "correct"), ("code_frequency", "has_python")):
        per = (g.assign(v=g[col].astype(float))
               .groupby(["model", "condition", "benchmark", "grader", "seed", "step", "problem_id"])["v"]
               .mean().reset_index())
        for key, block in per.groupby(["model", "condition", "benchmark", "grader"], sort=True):
            finals, deltas, step0s, last_steps = [], [], [], []
            matrix = []
            for _seed, s in block.groupby("seed", sort=True):
                wide = s.pivot(index="problem_id", columns="step", values="v").sort_index()
                if 0 not in wide.columns:
                    continue
                steps = np.array(sorted(wide.columns))
                last = steps.max()
                window_steps = steps[(steps > last - max(window, 1)) & (steps > 0)]
                if window_steps.size == 0:
                    continue
                final_pp = wide[window_steps].mean(axis=1)
                delta_pp = final_pp - wide[0]
                finals.append(float(final_pp.mean()))
                step0s.append(float(wide[0].mean()))
                deltas.append(float(delta_pp.mean()))
                last_steps.append(int(last))
                matrix.append(delta_pp.to_numpy())
            if not finals:
                continue
            width = min(len(m) for m in matrix)
            lo, hi = metrics.bootstrap_ci(np.stack([m[:width] for m in matrix]), n_boot=n_boot,
                                          confidence=confidence, rng=_rng(metric, *key))
            spread = metrics.seed_spread(deltas)
            fs = metrics.seed_spread(finals)
            rows.append({**dict(zip(["model", "condition", "benchmark", "grader"], key)), "metric": metric,
                         "n_seeds": len(finals), "final_step": max(last_steps),
                         "step0_value": float(np.mean(step0s)), "final_value": fs["mean"],
                         "delta": spread["mean"], "delta_std": spread["std"], "final_min": fs["min"],
                         "final_max": fs["max"], "ci_low": lo + 0.0, "ci_high": hi + 0.0,
                         "ci_method": "bootstrap seeds+problems" if len(finals) > 1 else "bootstrap problems",
                         "n_problems": width})
    return pd.DataFrame(rows, columns=cols)


def compute(ctx) -> dict[str, pd.DataFrame]:
    s = ctx.settings
    return {"metrics.csv": metrics_table(ctx.full, s["bootstrap_samples"], s["confidence"]),
            "summary.csv": summary_table(ctx.full, s["smoothing_window"], s["bootstrap_samples"],
                                         s["confidence"]),
            "train_metrics.csv": ctx.train}


def figures(tables, out_dir, ctx):
    from spurious_rewards.report import figures as figs

    return figs.make_all(tables["metrics.csv"], tables["train_metrics.csv"], ctx.graders, out_dir,
                         summary=tables["summary.csv"], prov=ctx.prov)


def section(tables, figures, ctx) -> str:
    from spurious_rewards.report import markdown

    return (markdown.summary_section(tables["summary.csv"], ctx.prov) + "\n"
            + markdown.figures_section(figures))


ANALYSIS = Analysis(name="metrics", tables=("metrics.csv", "summary.csv", "train_metrics.csv"),
                    compute=compute, figures=figures, section=section)
