"""Strategy switches between two checkpoints of each run (paper Table 2 / Fig. 7), between
analysis.switch_from and analysis.switch_to (analysis/code_reasoning.py computes them).

  switch.csv   per run and transition (code->code, ...): counts, accuracies, share of the gain
"""

from __future__ import annotations

import pandas as pd

from spurious_rewards.analysis import code_reasoning
from spurious_rewards.analysis.plugin import Analysis


def compute(ctx) -> dict[str, pd.DataFrame]:
    full = ctx.full
    return {"switch.csv": code_reasoning.switch_table(full[full["condition"] != "base"],
                                                      ctx.settings["switch_from"], ctx.settings["switch_to"])}


def section(tables, figures, ctx) -> str:
    from spurious_rewards.report import markdown

    return markdown.switch_section(tables["switch.csv"], ctx.grader)


ANALYSIS = Analysis(name="strategy_switches", tables=("switch.csv",), compute=compute, section=section)
