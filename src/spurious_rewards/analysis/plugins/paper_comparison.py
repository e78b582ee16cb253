"""Our numbers beside the paper's published ones (report/paper_numbers.py), for models named like the
paper's: a report section only, from the tables of the other analyses."""

from __future__ import annotations

from spurious_rewards.analysis.plugin import Analysis


def section(tables, figures, ctx) -> str:
    from spurious_rewards.report import markdown

    # "" (no paper model) is kept as an empty part: the report's text stays what it was before plugins
    return markdown.paper_section(tables["summary.csv"], tables["code_reasoning.csv"], tables["switch.csv"],
                                  tables["prompting.csv"], ctx.prov, ctx.grader)


ANALYSIS = Analysis(name="paper_comparison", section=section,
                    reads=("summary.csv", "code_reasoning.csv", "switch.csv", "prompting.csv"))
