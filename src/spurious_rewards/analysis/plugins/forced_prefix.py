"""The prompting intervention (paper Table 3): the base model with the default prompt vs its response
forced to start with evaluate.forced_prefix (analysis/code_reasoning.py computes it).

  prompting.csv   per model/benchmark/grader: accuracy and code frequency, original vs forced
"""

from __future__ import annotations

import pandas as pd

from spurious_rewards.analysis import code_reasoning
from spurious_rewards.analysis.plugin import Analysis


def compute(ctx) -> dict[str, pd.DataFrame]:
    grades = ctx.grades
    return {"prompting.csv": code_reasoning.prompting_table(grades[grades["condition"] == "base"])}


def section(tables, figures, ctx) -> str:
    from spurious_rewards.report import markdown

    return markdown.prompting_section(tables["prompting.csv"], ctx.grader)


ANALYSIS = Analysis(name="forced_prefix", tables=("prompting.csv",), compute=compute, section=section)
