"""The headline numbers as DVC metrics and plots (analysis/dvc_results.py): written beside the
analysis folder, after it, from the metrics analysis' tables; nothing in the report."""

from __future__ import annotations

from spurious_rewards.analysis import dvc_results
from spurious_rewards.analysis.plugin import Analysis


def publish(ctx, tables) -> None:
    dvc_results.write(ctx.results_dir, tables["metrics.csv"], tables["summary.csv"], tables["train_metrics.csv"],
                      ctx.primary_grader)


ANALYSIS = Analysis(name="dvc_results", publish=publish, reads=("metrics.csv", "summary.csv", "train_metrics.csv"))
