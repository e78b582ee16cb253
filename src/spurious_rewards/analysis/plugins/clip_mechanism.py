"""The clipping mechanism, step by step (paper §4.4.2, Fig. 12 and Fig. 6): per condition, the mean
probability of the sampled tokens, the rollouts' code frequency and the share of clipped tokens against
rollout step, from the runs' training metrics.

  mechanism.csv   model, condition, step, metric, mean over seeds, seed min / max, n_seeds

The paper's claim: clipped GRPO under random rewards raises the probability of what the model already
prefers (token probability up), which for a code-favouring model means more code. Only runs that log
the token probability (`train.log_token_probability: true`) have that metric; the other two come with
every run. The values are the rollout's own (sampled during training, temperature `train.temperature`),
not the benchmark evaluation's.
"""

from __future__ import annotations

import pandas as pd

from spurious_rewards.analysis.plugin import Analysis

# training-metrics column -> label; the CSV columns of training/metrics.py
METRICS = {"token_probability_mean": "mean probability of sampled tokens",
           "code_reasoning_frequency": "rollouts mentioning python",
           "clip_ratio_region_mean": "clipped tokens"}
COLUMNS = ["model", "condition", "step", "metric", "mean", "seed_min", "seed_max", "n_seeds"]
# steps averaged at each end for the section's start -> end change (one noisy rollout is 32 responses)
EDGE = 5


def mechanism_table(train: pd.DataFrame) -> pd.DataFrame:
    """Seed mean and range per model, condition, rollout step and metric. Several optimizer updates share
    a rollout step; their values are averaged per run first (clip ratio), rollout metrics have one."""
    if train.empty:
        return pd.DataFrame(columns=COLUMNS)
    sel = train[train["metric"].isin(list(METRICS))]
    per_run = sel.groupby(["model", "condition", "seed", "step", "metric"], as_index=False)["value"].mean()
    out = (per_run.groupby(["model", "condition", "step", "metric"], sort=True)["value"]
           .agg(mean="mean", seed_min="min", seed_max="max", n_seeds="size").reset_index())
    return out[COLUMNS]


def change_table(table: pd.DataFrame, edge: int = EDGE) -> pd.DataFrame:
    """Per model, condition and metric: the seed mean over the first and the last `edge` rollout steps,
    their difference, the mean over all steps and the peak."""
    rows = []
    for (model, cond, metric), g in table.groupby(["model", "condition", "metric"], sort=True):
        g = g.sort_values("step")
        start, end = g["mean"].head(edge).mean(), g["mean"].tail(edge).mean()
        rows.append({"model": model, "condition": cond, "metric": metric, "start": start, "end": end,
                     "change": end - start, "overall": g["mean"].mean(), "peak": g["mean"].max(),
                     "n_seeds": int(g["n_seeds"].max())})
    return pd.DataFrame(rows, columns=["model", "condition", "metric", "start", "end", "change", "overall",
                                       "peak", "n_seeds"])


def compute(ctx) -> dict[str, pd.DataFrame]:
    return {"mechanism.csv": mechanism_table(ctx.train)}


def figures(tables, out_dir, ctx):
    from matplotlib.ticker import MaxNLocator

    from spurious_rewards.report import figures as figs

    t = tables["mechanism.csv"]
    present = [m for m in METRICS if m in set(t["metric"])]
    # Without the token probability the section is left out (the clip-ratio and code-frequency figures
    # show the rest), and a figure the report does not show is not drawn.
    if t.empty or "token_probability_mean" not in present:
        return []
    out_dir.mkdir(parents=True, exist_ok=True)
    models = sorted(t["model"].unique())
    colour = figs.colours(t["condition"])
    fig, axes = figs._grid(len(models), len(present))
    handles: dict = {}
    for i, model in enumerate(models):
        for j, metric in enumerate(present):
            ax = axes[i][j]
            part = t[(t["model"] == model) & (t["metric"] == metric)]
            for cond, g in part.groupby("condition", sort=True):
                g = g.sort_values("step")
                line, = ax.plot(g["step"], 100 * g["mean"], lw=1.2, color=colour[cond])
                if (g["seed_max"] > g["seed_min"]).any():
                    ax.fill_between(g["step"], 100 * g["seed_min"], 100 * g["seed_max"], alpha=0.12,
                                    color=colour[cond], lw=0)
                handles.setdefault(cond, line)
            ax.grid(alpha=0.3)
            ax.set_xlabel(figs.STEP_LABEL)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # steps are whole numbers
            # shares: never below 0 (an all-zero clip ratio would otherwise be drawn around 0)
            ax.set_ylim(bottom=max(0.0, ax.get_ylim()[0]))
            ax.set_title(f"{model}: {METRICS[metric]}", fontsize=9)
            ax.set_ylabel("%")
    fig.suptitle("the clipping mechanism: sampled-token probability, code share and clip ratio during "
                 "training", fontsize=10)
    figs._legend(fig, handles)
    return [figs._save(fig, out_dir / "mechanism_vs_step.png")]


def section(tables, figures, ctx) -> str | None:
    t = tables["mechanism.csv"]
    if t.empty or "token_probability_mean" not in set(t["metric"]):
        return None  # runs without the token probability: the clip-ratio figure already shows the rest
    change = change_table(t)
    wide = change.pivot_table(index=["model", "condition"], columns="metric",
                              values=["start", "end", "overall"])
    lines = ["## The clipping mechanism (paper Fig. 12 and Fig. 6 analogues)", "",
             f"Rollout metrics during training, mean over seeds; start and end average the first and last "
             f"{EDGE} rollout steps. Clipped tokens: the mean over all optimizer updates.", "",
             "| model | condition | clipped tokens | token prob. start → end | code share start → end |",
             "|---|---|---|---|---|"]

    def get(kind, metric, key):
        try:
            return float(wide.loc[key, (kind, metric)])
        except KeyError:
            return float("nan")

    for key in wide.index:
        clip = get("overall", "clip_ratio_region_mean", key)
        p0, p1 = get("start", "token_probability_mean", key), get("end", "token_probability_mean", key)
        c0, c1 = get("start", "code_reasoning_frequency", key), get("end", "code_reasoning_frequency", key)
        lines.append(f"| {key[0]} | {key[1]} | {100 * clip:.2f}% | {p0:.3f} → {p1:.3f} ({p1 - p0:+.3f}) "
                     f"| {100 * c0:.1f}% → {100 * c1:.1f}% ({100 * (c1 - c0):+.1f}) |")
    lines += ["", *[f"![the clipping mechanism]({f})" for f in figures], ""]
    return "\n".join(lines)


ANALYSIS = Analysis(name="clip_mechanism", tables=("mechanism.csv",), compute=compute, figures=figures,
                    section=section)
