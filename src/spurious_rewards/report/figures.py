"""Figures of the report (matplotlib, Agg backend: no display needed on a cluster node).

accuracy_vs_step_<grader>.png : the paper's Figure 1 view, accuracy vs step per condition, one panel
                                per benchmark (and one row per model); seeds averaged, min-max band.
code_frequency_vs_step.png    : share of responses containing "python" vs step (paper Fig. 6 view).
train_reward_vs_step.png      : mean training reward vs step per condition.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

FIGURE_CAPTIONS = {
    "accuracy_vs_step": "accuracy.rst",
    "code_frequency_vs_step": "code_frequency.rst",
    "train_reward_vs_step": "train_reward.rst",
}


def _curves(ax, frame: pd.DataFrame, value: str = "value", scale: float = 100.0) -> None:
    for cond, g in frame.groupby("condition", sort=True):
        stats = g.groupby("step")[value].agg(["mean", "min", "max"]).sort_index()
        line, = ax.plot(stats.index, scale * stats["mean"], marker="o", ms=3, label=cond)
        if (stats["max"] > stats["min"]).any():
            ax.fill_between(stats.index, scale * stats["min"], scale * stats["max"], alpha=0.15,
                            color=line.get_color())
    ax.grid(alpha=0.3)
    ax.set_xlabel("step")


def _panel_grid(models: list[str], benches: list[str]):
    fig, axes = plt.subplots(len(models), len(benches), figsize=(4.2 * len(benches), 3.2 * len(models)),
                             squeeze=False)
    return fig, axes


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def metric_vs_step(metrics: pd.DataFrame, metric: str, grader: str | None, ylabel: str, title: str,
                   path: Path) -> Path | None:
    sel = metrics[(metrics["metric"] == metric) & (metrics["variant"] == "default")
                  & (metrics["condition"] != "base")]
    if grader is not None:
        sel = sel[sel["grader"] == grader]
    else:  # grader-independent metric: any one grader's copy
        sel = sel[sel["grader"] == sel["grader"].min()] if not sel.empty else sel
    if sel.empty:
        return None
    models, benches = sorted(sel["model"].unique()), sorted(sel["benchmark"].unique())
    fig, axes = _panel_grid(models, benches)
    for i, model in enumerate(models):
        for j, bench in enumerate(benches):
            ax = axes[i][j]
            _curves(ax, sel[(sel["model"] == model) & (sel["benchmark"] == bench)])
            ax.set_title(f"{model} / {bench}", fontsize=9)
            ax.set_ylabel(ylabel)
    axes[0][-1].legend(fontsize=7, loc="best")
    fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def train_reward(train: pd.DataFrame, path: Path) -> Path | None:
    if train.empty:
        return None
    names = list(dict.fromkeys(train["metric"]))
    metric = "reward" if "reward" in names else next((m for m in names if "reward" in m and "std" not in m),
                                                     None)
    if metric is None:
        return None
    # Several optimizer updates can share a rollout step: one value per (run, step) first.
    sel = (train[train["metric"] == metric].groupby(["model", "condition", "seed", "step"], as_index=False)
           ["value"].mean())
    models = sorted(sel["model"].unique())
    fig, axes = plt.subplots(1, len(models), figsize=(5 * len(models), 3.4), squeeze=False)
    for ax, model in zip(axes[0], models):
        _curves(ax, sel[sel["model"] == model], scale=1.0)
        ax.set_title(model, fontsize=9)
        ax.set_ylabel(metric)
    axes[0][-1].legend(fontsize=7, loc="best")
    fig.suptitle("training reward vs step", fontsize=10)
    return _save(fig, path)


def make_all(metrics: pd.DataFrame, train: pd.DataFrame, graders: list[str], out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    made = []
    for grader in graders:
        made.append(metric_vs_step(metrics, "accuracy", grader, "accuracy (%)",
                                   f"accuracy vs step ({grader} grader)",
                                   out_dir / f"accuracy_vs_step_{grader}.png"))
    made.append(metric_vs_step(metrics, "code_frequency", None, "responses with 'python' (%)",
                               "code-reasoning frequency vs step", out_dir / "code_frequency_vs_step.png"))
    made.append(train_reward(train, out_dir / "train_reward_vs_step.png"))
    return [p for p in made if p is not None]
