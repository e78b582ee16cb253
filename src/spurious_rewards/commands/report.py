"""`report`: the analysis folder -> report/ (report.md + figures/*.png), written as one folder atomically.

The report reads only the analysis folder, so it can be rebuilt anywhere the analysis was copied to.
It renders what is present: each registered analysis (analysis/registry.py) whose tables are all in
the folder adds its figures and its section, in registry order; one whose tables are missing (an
analysis folder written before that analysis existed) is left out.
"""

from __future__ import annotations

import json
import logging

import pandas as pd

from spurious_rewards import cliargs, io, paths
from spurious_rewards.analysis import registry
from spurious_rewards.analysis.plugin import ReportContext
from spurious_rewards.config import load_params
from spurious_rewards.report import markdown

# No parameter decides the report: it renders what analyze wrote (codegraph collects PARAMS).
PARAMS = ()

log = logging.getLogger(__name__)


def configure_parser(parser) -> None:
    cliargs.add_params(parser)


def read_analysis(folder) -> tuple[dict[str, pd.DataFrame], dict]:
    """The registered analyses' tables that are in the folder, and its provenance record."""
    if not folder.is_dir():
        raise io.DataError(f"{folder}: analysis folder not found (run analyze first)")
    tables = {}
    for name in registry.table_names():
        path = folder / name
        if not path.is_file():
            continue
        try:
            tables[name] = pd.read_csv(path)
        except pd.errors.EmptyDataError:
            raise io.DataError(f"{path}: empty file (not even a header)") from None
    return tables, _provenance(folder)


def _provenance(folder) -> dict:
    if not folder.is_dir():
        raise io.DataError(f"{folder}: analysis folder not found (run analyze first)")
    prov_path = folder / "provenance.json"
    try:
        return json.loads(prov_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise io.DataError(f"{prov_path}: missing or not JSON ({exc})") from None


def _graders(tables: dict[str, pd.DataFrame]) -> list[str]:
    # every table of one analysis run holds the same graders (analyze keeps analysis.graders only)
    found = set()
    for frame in tables.values():
        if "grader" in frame.columns:
            found.update(frame["grader"].dropna().unique())
    return sorted(found) or ["math_verify"]


def build(analysis_dir, report_dir) -> None:
    prov = _provenance(analysis_dir)
    # analyses of your own that analyze ran (analysis.plugins): importing one registers it
    registry.load((prov.get("analysis") or {}).get("plugins"), f"{analysis_dir}/provenance.json: analysis.plugins",
                  io.DataError)
    tables, prov = read_analysis(analysis_dir)
    graders = _graders(tables)
    primary = prov.get("primary_grader") if prov.get("primary_grader") in graders else graders[0]
    ctx = ReportContext(prov=prov, grader=primary, graders=graders)
    present = []
    for analysis in registry.analyses():
        missing = [t for t in analysis.needs() if t not in tables]
        if missing:
            if analysis.figures or analysis.section:
                log.info("analysis %s left out of the report: %s not in %s", analysis.name,
                         ", ".join(missing), analysis_dir)
            continue
        present.append(analysis)
    with io.atomic_dir(report_dir) as tmp:
        fig_dir = tmp / "figures"
        fig_dir.mkdir(parents=True, exist_ok=True)
        made = {a.name: (a.figures(tables, fig_dir, ctx) if a.figures else []) for a in present}
        parts = markdown.header(prov, primary)
        for a in present:
            if a.section:
                parts.append(a.section(tables, [f"figures/{p.name}" for p in made[a.name]], ctx))
        parts.append(markdown.provenance_section(prov))
        (tmp / "report.md").write_text("\n".join(p for p in parts if p is not None), encoding="utf-8")
    log.info("wrote %s", report_dir)


def main(args) -> int:
    params = load_params(args.params, check_rewards=False)
    r = params.results_dir
    build(paths.analysis_dir(r), paths.report_dir(r))
    return 0
