"""The analyses analyze computes and report renders, in the order their sections appear.

The built-in analyses are listed here (imported by name, so the stage table sees their code as the
analyze and report stages' dependencies); `register` adds one more from a module of your own, which
`analysis.plugins` in params.yaml names (README, "Add your own analysis"): analyze imports those
modules and records them in its provenance, and report imports what the provenance names.
"""

from __future__ import annotations

import importlib

from spurious_rewards.analysis.plugin import Analysis
from spurious_rewards.analysis.plugins import (
    clip_mechanism,
    code_frequency,
    dvc_metrics,
    forced_prefix,
    metrics_summary,
    organism_verdicts,
    paper_comparison,
    strategy_switches,
)

BUILTIN: tuple[Analysis, ...] = (
    metrics_summary.ANALYSIS,
    code_frequency.ANALYSIS,
    clip_mechanism.ANALYSIS,
    strategy_switches.ANALYSIS,
    forced_prefix.ANALYSIS,
    paper_comparison.ANALYSIS,
    organism_verdicts.ANALYSIS,
    dvc_metrics.ANALYSIS,
)

_added: list[Analysis] = []


def analyses() -> tuple[Analysis, ...]:
    return BUILTIN + tuple(_added)


def register(analysis: Analysis) -> Analysis:
    """Adds an analysis after the built-in ones; its name and table names must be new."""
    if not isinstance(analysis, Analysis):
        raise TypeError(f"register() takes an Analysis, not {type(analysis).__name__}")
    for other in analyses():
        if other.name == analysis.name:
            raise ValueError(f"analysis {analysis.name!r} is already registered")
        clash = set(other.tables) & set(analysis.tables)
        if clash:
            raise ValueError(f"analysis {analysis.name!r}: table(s) {', '.join(sorted(clash))} already "
                             f"written by analysis {other.name!r}")
    bad = [t for t in analysis.tables if not t.endswith(".csv") or "/" in t or t == "provenance.json"]
    if bad:
        raise ValueError(f"analysis {analysis.name!r}: table names must be plain *.csv file names: {bad}")
    _added.append(analysis)
    return analysis


def unregister(name: str) -> None:
    """Removes an analysis added by `register` (the built-in ones stay)."""
    _added[:] = [a for a in _added if a.name != name]


def table_names() -> list[str]:
    """Every table a registered analysis writes or reads, in registry order."""
    names: list[str] = []
    for a in analyses():
        for t in (*a.tables, *a.needs()):
            if t not in names:
                names.append(t)
    return names


def load(modules, where: str, error=ValueError) -> None:
    """Imports each module of your own (it registers its analyses when imported); errors name `where`."""
    for i, name in enumerate(modules or []):
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise error(f"{where}[{i}]: cannot import analysis module {name!r} ({exc})") from None
