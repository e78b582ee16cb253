"""The clipping mechanism, step by step (paper §4.4.2, Fig. 12 and Fig. 6): per condition, the mean
probability of the sampled tokens, the rollouts' code frequency and the share of clipped tokens against
rollout step, from the runs' training metrics.

  mechanism.csv        model, condition, step, metric, mean over seeds, seed min / max, n_seeds
  mechanism_runs.csv   model, condition, seed, metric, start, end, change (one row per run and metric)

The paper's claim: clipped GRPO under random rewards raises the probability of what the model already
prefers (token probability up), which for a code-favouring model means more code. Only runs that log
the token probability (`train.log_token_probability: true`) have that metric; the other two come with
every run. The values are the rollout's own (sampled during training, temperature `train.temperature`),
not the benchmark evaluation's.

The section ends with a verdict on the claim, judged run by run: clipped random-reward runs (γ > 0, clip
on, more than one update per rollout) against the unclipped controls (clip off, or one update per rollout:
report/organism.py's classification). "yes" needs most clipped runs to rise, their mean change to be
above 0 and above the unclipped runs'; "partly" one of the two; the evidence gives the counts, so a
reader can weigh a +0.004 change against the seed spread.
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


def _per_run_step(train: pd.DataFrame) -> pd.DataFrame:
    """One value per run, rollout step and mechanism metric (the updates of a rollout step averaged)."""
    sel = train[train["metric"].isin(list(METRICS))]
    return sel.groupby(["model", "condition", "seed", "step", "metric"], as_index=False)["value"].mean()


def _edges(values: pd.Series, edge: int) -> tuple[float, float]:
    """The mean of the first and of the last `edge` values (already in step order)."""
    return values.head(edge).mean(), values.tail(edge).mean()


def mechanism_table(train: pd.DataFrame) -> pd.DataFrame:
    """Seed mean and range per model, condition, rollout step and metric. Several optimizer updates share
    a rollout step; their values are averaged per run first (clip ratio), rollout metrics have one."""
    if train.empty:
        return pd.DataFrame(columns=COLUMNS)
    per_run = _per_run_step(train)
    out = (per_run.groupby(["model", "condition", "step", "metric"], sort=True)["value"]
           .agg(mean="mean", seed_min="min", seed_max="max", n_seeds="size").reset_index())
    return out[COLUMNS]


def change_table(table: pd.DataFrame, edge: int = EDGE) -> pd.DataFrame:
    """Per model, condition and metric: the seed mean over the first and the last `edge` rollout steps,
    their difference, the mean over all steps and the peak."""
    rows = []
    for (model, cond, metric), g in table.groupby(["model", "condition", "metric"], sort=True):
        g = g.sort_values("step")
        start, end = _edges(g["mean"], edge)
        rows.append({"model": model, "condition": cond, "metric": metric, "start": start, "end": end,
                     "change": end - start, "overall": g["mean"].mean(), "peak": g["mean"].max(),
                     "n_seeds": int(g["n_seeds"].max())})
    return pd.DataFrame(rows, columns=["model", "condition", "metric", "start", "end", "change", "overall",
                                       "peak", "n_seeds"])


RUN_COLUMNS = ["model", "condition", "seed", "metric", "start", "end", "change"]


def run_table(train: pd.DataFrame, edge: int = EDGE) -> pd.DataFrame:
    """Per run (model, condition, seed) and metric: the mean over its first and last `edge` rollout steps."""
    if train.empty:
        return pd.DataFrame(columns=RUN_COLUMNS)
    rows = []
    for key, g in _per_run_step(train).groupby(["model", "condition", "seed", "metric"], sort=True):
        start, end = _edges(g.sort_values("step")["value"], edge)
        rows.append((*key, start, end, end - start))
    return pd.DataFrame(rows, columns=RUN_COLUMNS)


def compute(ctx) -> dict[str, pd.DataFrame]:
    return {"mechanism.csv": mechanism_table(ctx.train), "mechanism_runs.csv": run_table(ctx.train)}


def _judge(clipped: pd.Series, unclipped: pd.Series) -> str:
    if clipped.empty:
        return "n/a"
    up = clipped.mean() > 0
    rises = up and (clipped > 0).mean() >= 0.5
    above = unclipped.empty or clipped.mean() > unclipped.mean()
    if rises and above:
        return "yes"
    return "partly" if rises or (above and up) else "no"


def _describe(changes: pd.Series, scale: float, digits: int) -> str:
    if changes.empty:
        return "no runs"
    return (f"{int((changes > 0).sum())} of {len(changes)} runs rise, mean {scale * changes.mean():+.{digits}f} "
            f"[runs {scale * changes.min():+.{digits}f}, {scale * changes.max():+.{digits}f}]")


def verdicts(runs: pd.DataFrame, kinds: dict[str, str]) -> list[tuple[str, str, str]]:
    """(claim, verdict, evidence) for the mechanism, from per-run changes and the conditions' kinds
    (condition -> random | random_no_clip | ...). The code-favouring organism is the one whose runs
    start with the most code in their rollouts."""
    runs = runs.assign(kind=runs["condition"].map(kinds))
    out = []
    prob = runs[runs["metric"] == "token_probability_mean"]
    evidence, judged = [], []
    for model, m in prob.groupby("model", sort=True):
        c, u = m[m["kind"] == "random"]["change"], m[m["kind"] == "random_no_clip"]["change"]
        if c.empty:
            continue
        judged.append(_judge(c, u))
        evidence.append(f"{model}: clipped {_describe(c, 1, 4)}; unclipped {_describe(u, 1, 4)}")
    if judged:
        out.append(("Clipped random rewards raise the probability of the sampled tokens (concentrate on "
                    "high-prior behaviour); unclipped ones do not", _combine(judged), " | ".join(evidence)))
    code = runs[runs["metric"] == "code_reasoning_frequency"]
    if len(code) and (code["kind"] == "random").any():
        coder = code.groupby("model")["start"].mean().idxmax()
        m = code[code["model"] == coder]
        c, u = m[m["kind"] == "random"]["change"], m[m["kind"] == "random_no_clip"]["change"]
        out.append((f"Clipped random rewards move the code-favouring organism ({coder}) toward code",
                    _judge(c, u), f"rollout code share, points: clipped {_describe(c, 100, 1)}; "
                                  f"unclipped {_describe(u, 100, 1)}"))
    return out


def _combine(judged: list[str]) -> str:
    return judged[0] if len(set(judged)) == 1 else "partly (" + ", ".join(judged) + ")"


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
    colour = figs.colours(t["condition"])  # all conditions, so each keeps its colour from the other figures
    shown = _compared(set(t["condition"]), getattr(ctx, "prov", None) or {})
    t = t[t["condition"].isin(shown)]
    fig, axes = figs.panel_grid(len(models), len(present))
    handles: dict = {}
    for i, model in enumerate(models):
        for j, metric in enumerate(present):
            ax = axes[i][j]
            part = t[(t["model"] == model) & (t["metric"] == metric)]
            for cond, g in part.groupby("condition", sort=True):
                g = g.sort_values("step")
                # one rollout is 32 responses: a moving mean over EDGE steps makes the trend readable
                smooth = g[["mean", "seed_min", "seed_max"]].rolling(EDGE, center=True, min_periods=1).mean()
                line, = ax.plot(g["step"], 100 * smooth["mean"], lw=1.2, color=colour[cond])
                if (g["seed_max"] > g["seed_min"]).any():
                    ax.fill_between(g["step"], 100 * smooth["seed_min"], 100 * smooth["seed_max"], alpha=0.12,
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
                 f"training\n(seed mean and range, moving mean over {EDGE} rollout steps)", fontsize=10)
    figs.condition_legend(fig, handles)
    return [figs.save_figure(fig, out_dir / "mechanism_vs_step.png")]


def _kinds(prov: dict) -> dict[str, str]:
    """condition -> kind (random, random_no_clip, true, ...) as the organism report classifies them; empty
    when the provenance does not name the conditions."""
    if not prov.get("conditions"):
        return {}
    from spurious_rewards.report.organism import classify, updates_by_condition

    return classify(prov["conditions"], updates_by_condition(prov))


def _compared(conditions: set[str], prov: dict) -> list[str]:
    """The conditions the figure draws: the random-reward runs (clipped and not) and the ground-truth ones
    they are measured against; every condition when the provenance does not say which is which."""
    kinds, spec = _kinds(prov), prov.get("conditions") or {}
    keep = [c for c in sorted(conditions) if kinds.get(c, "").startswith("random")
            or (kinds.get(c) == "true" and (spec.get(c) or {}).get("reward") == "ground_truth")]
    return keep or sorted(conditions)


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
    if figures and (getattr(ctx, "prov", None) or {}).get("conditions"):
        lines += ["The figure draws the random-reward runs and ground truth; the table has every condition.",
                  ""]
    runs = tables.get("mechanism_runs.csv")
    kinds = _kinds(getattr(ctx, "prov", None) or {})
    if runs is not None and len(runs) and kinds:
        judged = verdicts(runs, kinds)
        if judged:
            lines += ["### The mechanism: verdicts", "",
                      "Judged run by run on the change from the first to the last "
                      f"{EDGE} rollout steps; unclipped: clip off or one update per rollout.", "",
                      "| paper's claim | verdict | evidence |", "|---|---|---|",
                      *[f"| {claim} | {verdict} | {evidence.replace('|', chr(92) + '|')} |"
                        for claim, verdict, evidence in judged], ""]
    return "\n".join(lines)


# The report needs only mechanism.csv, so analysis folders written before mechanism_runs.csv still render.
ANALYSIS = Analysis(name="clip_mechanism", tables=("mechanism.csv", "mechanism_runs.csv"), compute=compute,
                    figures=figures, section=section, reads=("mechanism.csv",))
