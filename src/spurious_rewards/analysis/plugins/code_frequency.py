"""Code reasoning (paper §4, Table 1 / Fig. 6): how often responses mention "python", and how accurate
code and language responses are, per checkpoint (analysis/code_reasoning.py computes it).

  code_reasoning.csv   code frequency and code/language accuracy per step
"""

from __future__ import annotations

import pandas as pd

from spurious_rewards.analysis import code_reasoning
from spurious_rewards.analysis.plugin import Analysis


def code_reasoning_table(grades: pd.DataFrame) -> pd.DataFrame:
    return code_reasoning.frequency_table(grades)


def compute(ctx) -> dict[str, pd.DataFrame]:
    return {"code_reasoning.csv": code_reasoning_table(ctx.full)}


def section(tables, figures, ctx) -> str:
    from spurious_rewards.report import markdown

    return markdown.code_section(tables["code_reasoning.csv"], ctx.grader)


ANALYSIS = Analysis(name="code_reasoning", tables=("code_reasoning.csv",), compute=compute, section=section)
