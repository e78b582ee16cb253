"""What an analysis is: the tables it computes from the graded sweep, and how the report shows them.

An analysis is one `Analysis` value, usually in a module of its own (analysis/plugins/ holds the
built-in ones; analysis/registry.py lists them). `analyze` calls every registered analysis' `compute`
and writes the tables it returns into the analysis folder (CSV, one per declared name); `report`
reads the tables that are present and, for every analysis whose tables are all there, draws its
figures and adds its section, in registry order. An analysis missing from an older analysis folder
is skipped, so its report still renders.

Analyses read parameters only through the context analyze builds (commands/analyze.py declares and
reads the keys): a plugin module declares no PARAMS of its own, and the report, which reads only the
analysis folder, depends on no parameter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd


@dataclass(frozen=True)
class AnalysisContext:
    """What analyze hands each analysis' `compute` and `publish`."""

    grades: pd.DataFrame  # every grades file of the sweep, the graders in analysis.graders only
    full: pd.DataFrame  # the same plus each run's step 0: a copy of its model's base evaluation
    train: pd.DataFrame  # the runs' training metrics, long form (model, condition, seed, step, metric, value)
    settings: dict  # the analysis section as analyze read it (bootstrap_samples, confidence, ...)
    results_dir: Path
    primary_grader: str
    # the tables of the analyses before this one in registry order, by file name
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


@dataclass(frozen=True)
class ReportContext:
    """What report hands each analysis' `figures` and `section`."""

    prov: dict  # the analysis folder's provenance.json
    grader: str  # the primary grader
    graders: list[str]  # every grader in the tables


@dataclass(frozen=True)
class Analysis:
    """One analysis. All callables are optional:

    compute(context) -> {file name: DataFrame}: exactly the names in `tables`, written to analysis/
    publish(context, tables): after the analysis folder is written, outputs elsewhere (all tables so far)
    figures(tables, out_dir, report_context) -> [png paths written under out_dir]
    section(tables, figures, report_context) -> Markdown or None (figures: paths relative to report.md)

    `reads` names the tables its figures and section need (default: its own `tables`); the report
    skips the analysis when one of them is missing from the analysis folder.
    """

    name: str
    tables: tuple[str, ...] = ()
    compute: Callable[[AnalysisContext], dict[str, pd.DataFrame]] | None = None
    publish: Callable[[AnalysisContext, dict[str, pd.DataFrame]], None] | None = None
    figures: Callable[[dict[str, pd.DataFrame], Path, ReportContext], list[Path]] | None = None
    section: Callable[[dict[str, pd.DataFrame], list[str], ReportContext], str | None] | None = None
    reads: tuple[str, ...] | None = None

    def needs(self) -> tuple[str, ...]:
        return self.tables if self.reads is None else self.reads
