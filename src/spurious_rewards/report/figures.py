"""Figures of the report (matplotlib, Agg backend: no display needed on a cluster node).

delta_accuracy_<grader>.png   : the paper's Figure 1 view: change in accuracy (step 0 -> final) per reward
                                condition, one bar group per model, one panel per benchmark, with the
                                bootstrap interval of summary.csv as error bars.
accuracy_vs_step_<grader>.png : accuracy vs rollout step per condition, one panel per benchmark and model;
                                seeds averaged, band = the bootstrap interval of metrics.csv.
code_frequency_vs_step.png    : share of responses containing "python" vs step (paper Fig. 6 view).
train_reward_vs_step.png      : mean training reward vs rollout step per condition.
clip_ratio_vs_step.png        : share of tokens whose ratio the PPO clip bounds, vs rollout step.

Every figure has one legend outside its panels, one colour per condition across figures, fixed
(0-100 %) or shared y-ranges, and panel titles that name the protocol (greedy pass@1 or avg@k, n).
CAPTIONS holds each figure's caption: the Markdown prints it under the figure, and
workflow/report/figures.rst (rendered by `captions_rst`, kept in sync by tests/unit/test_report.py) gives
the same text to `snakemake --report`.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

STEP_LABEL = "rollout step"
MIN_DELTA_RANGE = 5.0  # points: the smallest half-range of the Figure-1 bars
CLIP_METRICS = {"clip_ratio_low_mean": "clipped below (1-ε)", "clip_ratio_high_mean": "clipped above (1+ε)",
                "clip_ratio_region_mean": "clipped, either side"}

CAPTIONS = {
    "delta_accuracy": (
        "Change in accuracy from step 0 (the base model) to the final checkpoint, per reward condition "
        "and model: the view of the paper's Figure 1. One panel per benchmark; the panel title names the "
        "protocol (greedy pass@1, or avg@k at the benchmark's temperature) and the number of problems. "
        "Bars are the mean over training seeds on a symmetric y-range shared by the panels (at least "
        "±5 points); error bars are the bootstrap interval of the change "
        "(over seeds and problems; with one seed over problems only, so training-seed variance is not "
        "covered)."),
    "accuracy_vs_step": (
        "Accuracy versus rollout step for every reward condition, one panel per benchmark (columns) and "
        "model (rows), y fixed at 0-100 %. Step 0 is the base model, evaluated by the same code path as "
        "every checkpoint. Lines are the mean over training seeds; the band is the bootstrap interval "
        "over problems (averaged over seeds), so it shows how much of a change benchmark sampling alone "
        "can explain. One figure per grader."),
    "code_frequency_vs_step": (
        "Share of responses that use code reasoning (the case-insensitive substring \"python\", the "
        "paper's detector) versus rollout step, per reward condition, benchmark and model (the view of "
        "the paper's Figure 6), y fixed at 0-100 %. Step 0 is the base model; with several seeds the band "
        "spans the seeds' minimum and maximum."),
    "train_reward_vs_step": (
        "Mean training reward per rollout step for every condition, as logged by the GRPO trainer, on a "
        "y-range shared across models. Rewards of different conditions are on different scales (random "
        "and format rewards are not correctness), so compare shapes, not levels, across conditions."),
    "clip_ratio_vs_step": (
        "Share of completion tokens whose probability ratio the PPO clip bounds, versus rollout step, per "
        "condition (TRL's clip_ratio metrics; one panel per side, shared y-range). The paper traces the "
        "spurious-reward gains to this clipping bias; runs with `clip: false` should stay at 0."),
}


def caption_for(filename: str) -> str:
    stem = Path(filename).stem
    for key in sorted(CAPTIONS, key=len, reverse=True):
        if stem == key or stem.startswith(key + "_"):
            return CAPTIONS[key]
    return ""


def captions_rst() -> str:
    """The caption file of `snakemake --report` (Jinja: one caption per figure name)."""
    lines = ["{# GENERATED from CAPTIONS in src/spurious_rewards/report/figures.py; "
             "tests/unit/test_report.py fails while stale. #}"]
    for i, key in enumerate(sorted(CAPTIONS, key=len, reverse=True)):
        word = "if" if i == 0 else "elif"
        lines.append(f'{{% {word} snakemake.wildcards.name == "{key}" '
                     f'or snakemake.wildcards.name.startswith("{key}_") %}}')
        lines.append(CAPTIONS[key])
    lines += ["{% else %}", "A figure of the standalone report (report/report.md).", "{% endif %}"]
    return "\n".join(lines) + "\n"


# -- helpers --------------------------------------------------------------------------------------
def colours(conditions) -> dict[str, tuple]:
    """One colour per condition, the same in every figure (sorted order): tab10 up to 10 conditions,
    tab20 up to 20 (the organism has 13: tab10 would give two conditions one colour), then evenly
    spaced turbo colours."""
    names = sorted(set(conditions))
    if len(names) <= 10:
        cmap = plt.get_cmap("tab10")
        return {c: cmap(i) for i, c in enumerate(names)}
    if len(names) <= 20:
        cmap = plt.get_cmap("tab20")
        return {c: cmap(i) for i, c in enumerate(names)}
    cmap = plt.get_cmap("turbo")
    return {c: cmap(i / (len(names) - 1)) for i, c in enumerate(names)}


def protocol(bench: str, prov: dict, n: int | None = None) -> str:
    """'greedy pass@1, n=300' or 'avg@4 (T=0.6), n=100' from the benchmark's settings."""
    spec = (prov.get("benchmarks") or {}).get(bench) or {}
    samples, temp = int(spec.get("samples", 1) or 1), spec.get("temperature")
    if samples > 1:
        text = f"avg@{samples}" + (f" (T={temp:g})" if temp is not None else "")
    elif temp in (None, 0, 0.0):
        text = "greedy pass@1"
    else:
        text = f"pass@1 (T={temp:g})"
    return f"{text}, n={n}" if n else text


def _n_problems(metrics: pd.DataFrame, bench: str) -> int | None:
    sel = metrics[(metrics["benchmark"] == bench) & (metrics["metric"] == "accuracy")]
    return int(sel["n"].max()) if len(sel) and not sel["n"].isna().all() else None


def condition_legend(fig, handles: dict) -> None:
    if handles:
        # a column is as wide as its longest name (about 0.07 in a character at 8 pt, plus the handle),
        # so the legend never runs past a narrow (one-panel) figure's edges
        column = 0.5 + 0.07 * max(len(str(name)) for name in handles)
        columns = max(1, min(len(handles), 5, int(fig.get_figwidth() / column)))
        fig.legend(list(handles.values()), list(handles), loc="outside lower center",
                   ncol=columns, fontsize=8, frameon=False, title="condition",
                   title_fontsize=8)


def panel_grid(rows: int, cols: int, sharey: bool = False, panel_width: float = 4.0):
    return plt.subplots(rows, cols, figsize=(max(panel_width * cols, 5.0), 2.9 * rows + 0.9), squeeze=False,
                        sharey=sharey, layout="constrained")


def save_figure(fig, path: Path) -> Path:
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _curves(ax, frame: pd.DataFrame, colour: dict, handles: dict, scale: float = 100.0,
            band: pd.DataFrame | None = None) -> None:
    """Seed-mean line per condition; band from `band` (step, low, high per condition) or the seed range."""
    for cond, g in frame.groupby("condition", sort=True):
        stats = g.groupby("step")["value"].agg(["mean", "min", "max"]).sort_index()
        line, = ax.plot(stats.index, scale * stats["mean"], marker="o", ms=3, lw=1.4, color=colour[cond])
        handles.setdefault(cond, line)
        if band is not None:
            b = band[band["condition"] == cond].groupby("step")[["low", "high"]].mean().sort_index()
            if len(b):
                ax.fill_between(b.index, scale * b["low"], scale * b["high"], alpha=0.15, color=colour[cond],
                                lw=0)
        elif (stats["max"] > stats["min"]).any():
            ax.fill_between(stats.index, scale * stats["min"], scale * stats["max"], alpha=0.15,
                            color=colour[cond], lw=0)
    ax.grid(alpha=0.3)
    ax.set_xlabel(STEP_LABEL)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # steps are whole numbers


def _runs(metrics: pd.DataFrame, metric: str, grader: str | None) -> pd.DataFrame:
    sel = metrics[(metrics["metric"] == metric) & (metrics["variant"] == "default")
                  & (metrics["condition"] != "base")]
    if grader is not None:
        return sel[sel["grader"] == grader]
    # grader-independent metric: any one grader's copy
    return sel[sel["grader"] == sel["grader"].min()] if not sel.empty else sel


# -- figures --------------------------------------------------------------------------------------
def metric_vs_step(metrics: pd.DataFrame, metric: str, grader: str | None, ylabel: str, title: str,
                   path: Path, prov: dict | None = None, with_ci: bool = False) -> Path | None:
    prov = prov or {}
    sel = _runs(metrics, metric, grader)
    if sel.empty:
        return None
    band = None
    if with_ci:
        lo, hi = _runs(metrics, f"{metric}_ci_low", grader), _runs(metrics, f"{metric}_ci_high", grader)
        keys = ["model", "condition", "seed", "step", "benchmark"]
        band = lo[keys + ["value"]].rename(columns={"value": "low"}).merge(
            hi[keys + ["value"]].rename(columns={"value": "high"}), on=keys)
    colour = colours(sel["condition"])
    models, benches = sorted(sel["model"].unique()), sorted(sel["benchmark"].unique())
    fig, axes = panel_grid(len(models), len(benches))
    handles: dict = {}
    for i, model in enumerate(models):
        for j, bench in enumerate(benches):
            ax = axes[i][j]
            part = sel[(sel["model"] == model) & (sel["benchmark"] == bench)]
            b = None if band is None else band[(band["model"] == model) & (band["benchmark"] == bench)]
            _curves(ax, part, colour, handles, band=b)
            ax.set_ylim(0, 100)
            proto = protocol(bench, prov, _n_problems(metrics, bench))
            ax.set_title(f"{model} / {bench}: {proto}", fontsize=9)
            ax.set_ylabel(ylabel)
    fig.suptitle(title, fontsize=10)
    condition_legend(fig, handles)
    return save_figure(fig, path)


def delta_bars(summary: pd.DataFrame, metrics: pd.DataFrame, grader: str, path: Path,
               prov: dict | None = None) -> Path | None:
    """Figure 1: Δ accuracy (points) per condition, grouped by model, one panel per benchmark."""
    prov = prov or {}
    s = summary[(summary["metric"] == "accuracy") & (summary["grader"] == grader)]
    if s.empty:
        return None
    colour = colours(s["condition"])
    conds, models, benches = sorted(s["condition"].unique()), sorted(s["model"].unique()), \
        sorted(s["benchmark"].unique())
    # about 0.2 in a bar, so 13 conditions x 2 models still leave room for each bar's label
    fig, axes = panel_grid(1, len(benches), sharey=True, panel_width=max(4.0, 1.0 + 0.2 * len(conds) * len(models)))
    handles: dict = {}
    width = 0.8 / max(len(conds), 1)
    # symmetric and at least +-MIN_DELTA_RANGE points: a change of 0.3 points must not fill the panel
    reach = 100 * np.nanmax(np.abs(s[["delta", "ci_low", "ci_high"]].to_numpy(dtype=float)), initial=0.0)
    limit = max(MIN_DELTA_RANGE, 1.1 * reach)
    for ax, bench in zip(axes[0], benches):
        for k, cond in enumerate(conds):
            rows = s[(s["benchmark"] == bench) & (s["condition"] == cond)].set_index("model").reindex(models)
            x = np.arange(len(models)) + (k - (len(conds) - 1) / 2) * width
            d = 100 * rows["delta"].to_numpy(dtype=float)
            err = np.vstack([d - 100 * rows["ci_low"].to_numpy(dtype=float),
                             100 * rows["ci_high"].to_numpy(dtype=float) - d])
            bars = ax.bar(x, d, width * 0.92, color=colour[cond], yerr=np.clip(err, 0, None), capsize=2,
                          error_kw={"lw": 0.8, "ecolor": "0.25"})
            ax.bar_label(bars, labels=["" if np.isnan(v) else f"{v:+.1f}" for v in d], fontsize=6, padding=2)
            handles.setdefault(cond, bars)
        ax.axhline(0, color="0.3", lw=0.8)
        ax.set_xticks(np.arange(len(models)), models, fontsize=8)
        ax.grid(axis="y", alpha=0.3)
        steps = s[s["benchmark"] == bench]["final_step"]
        last = f"step 0 → {int(steps.max())}" if len(steps) else ""
        ax.set_title(f"{bench}: {protocol(bench, prov, _n_problems(metrics, bench))}\n{last}", fontsize=9)
    axes[0][0].set_ylabel("Δ accuracy (points)")
    axes[0][0].set_ylim(-limit, limit)
    fig.suptitle(f"change in accuracy per reward ({grader} grader)", fontsize=10)
    condition_legend(fig, handles)
    return save_figure(fig, path)


def _per_step(train: pd.DataFrame, metric: str) -> pd.DataFrame:
    # Several optimizer updates share a rollout step: one value per (run, step) first.
    return (train[train["metric"] == metric].groupby(["model", "condition", "seed", "step"], as_index=False)
            ["value"].mean())


def train_reward(train: pd.DataFrame, path: Path) -> Path | None:
    if train.empty:
        return None
    names = list(dict.fromkeys(train["metric"]))
    metric = next((m for m in ("reward", "reward_mean") if m in names), None) or next(
        (m for m in names if "reward" in m and "std" not in m), None)
    if metric is None:
        return None
    sel = _per_step(train, metric)
    colour = colours(sel["condition"])
    models = sorted(sel["model"].unique())
    fig, axes = panel_grid(1, len(models), sharey=True)
    handles: dict = {}
    for ax, model in zip(axes[0], models):
        _curves(ax, sel[sel["model"] == model], colour, handles, scale=1.0)
        ax.set_title(model, fontsize=9)
    axes[0][0].set_ylabel(f"training reward ({metric})")
    fig.suptitle("training reward vs rollout step", fontsize=10)
    condition_legend(fig, handles)
    return save_figure(fig, path)


def clip_ratio(train: pd.DataFrame, path: Path) -> Path | None:
    present = [m for m in CLIP_METRICS if m in set(train["metric"])] if not train.empty else []
    if not present:
        return None
    models = sorted(train["model"].unique())
    colour = colours(train["condition"])
    fig, axes = panel_grid(len(models), len(present), sharey=True)
    handles: dict = {}
    for i, model in enumerate(models):
        for j, metric in enumerate(present):
            ax = axes[i][j]
            sel = _per_step(train[train["model"] == model], metric)
            _curves(ax, sel, colour, handles)
            ax.set_title(f"{model}: {CLIP_METRICS[metric]}", fontsize=9)
            if j == 0:
                ax.set_ylabel("clipped tokens (%)")
    top = max((ax.get_ylim()[1] for ax in axes.flat), default=1.0)
    axes[0][0].set_ylim(0, max(top, 1.0))  # shared; at least 0-1 % so a flat zero reads as zero
    fig.suptitle("PPO clip ratio vs rollout step", fontsize=10)
    condition_legend(fig, handles)
    return save_figure(fig, path)


def make_all(metrics: pd.DataFrame, train: pd.DataFrame, graders: list[str], out_dir: Path,
             summary: pd.DataFrame | None = None, prov: dict | None = None) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    made = []
    for grader in graders:
        if summary is not None:
            made.append(delta_bars(summary, metrics, grader, out_dir / f"delta_accuracy_{grader}.png", prov))
        made.append(metric_vs_step(metrics, "accuracy", grader, "accuracy (%)",
                                   f"accuracy vs rollout step ({grader} grader)",
                                   out_dir / f"accuracy_vs_step_{grader}.png", prov, with_ci=True))
    made.append(metric_vs_step(metrics, "code_frequency", None, "responses with 'python' (%)",
                               "code-reasoning frequency vs rollout step",
                               out_dir / "code_frequency_vs_step.png", prov))
    made.append(train_reward(train, out_dir / "train_reward_vs_step.png"))
    made.append(clip_ratio(train, out_dir / "clip_ratio_vs_step.png"))
    return [p for p in made if p is not None]

