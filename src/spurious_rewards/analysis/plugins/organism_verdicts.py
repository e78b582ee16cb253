"""The organism experiment's results and verdicts on the paper's claims (report/organism.py): a report
section only, written when the sweep compares at least two models."""

from __future__ import annotations

from spurious_rewards.analysis.plugin import Analysis


def section(tables, figures, ctx) -> str | None:
    from spurious_rewards.report import organism

    return organism.render(tables["summary.csv"], tables["code_reasoning.csv"], ctx.prov, ctx.grader) or None


ANALYSIS = Analysis(name="organism_verdicts", section=section, reads=("summary.csv", "code_reasoning.csv"))
