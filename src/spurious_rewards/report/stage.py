"""`report`: the analysis folder -> report/ (report.md + figures/*.png), written as one folder atomically.

The report reads only the analysis folder, so it can be rebuilt anywhere the analysis was copied to.
"""

from __future__ import annotations

import json
import logging

import pandas as pd

from spurious_rewards import cliargs, io, paths
from spurious_rewards.config import load_params
from spurious_rewards.report import figures, markdown, organism

# No parameter decides the report: it renders what analyze wrote (codegraph collects PARAMS).
PARAMS = ()

log = logging.getLogger(__name__)

TABLES = ("metrics.csv", "summary.csv", "code_reasoning.csv", "switch.csv", "prompting.csv",
          "train_metrics.csv")


def configure_parser(parser) -> None:
    cliargs.add_params(parser)


def read_analysis(folder) -> tuple[dict[str, pd.DataFrame], dict]:
    if not folder.is_dir():
        raise io.DataError(f"{folder}: analysis folder not found (run analyze first)")
    tables = {}
    for name in TABLES:
        path = folder / name
        if not path.is_file():
            raise io.DataError(f"{path}: missing from the analysis folder")
        try:
            tables[name] = pd.read_csv(path)
        except pd.errors.EmptyDataError:
            raise io.DataError(f"{path}: empty file (not even a header)") from None
    prov_path = folder / "provenance.json"
    try:
        prov = json.loads(prov_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise io.DataError(f"{prov_path}: missing or not JSON ({exc})") from None
    return tables, prov


def build(analysis_dir, report_dir) -> None:
    tables, prov = read_analysis(analysis_dir)
    graders = sorted(tables["metrics.csv"]["grader"].dropna().unique()) or ["math_verify"]
    primary = prov.get("primary_grader") if prov.get("primary_grader") in graders else graders[0]
    with io.atomic_dir(report_dir) as tmp:
        made = figures.make_all(tables["metrics.csv"], tables["train_metrics.csv"], graders, tmp / "figures",
                                summary=tables["summary.csv"], prov=prov)
        rel = [f"figures/{p.name}" for p in made]
        text = markdown.render(prov=prov, summary=tables["summary.csv"], code=tables["code_reasoning.csv"],
                               switch=tables["switch.csv"], prompting=tables["prompting.csv"],
                               figures=rel, grader=primary)
        # The organism experiment (>= 2 models, e.g. presets/organism.yaml) adds a results section.
        extra = organism.render(tables["summary.csv"], tables["code_reasoning.csv"], prov, primary)
        if extra:
            head, sep, tail = text.partition("## Provenance")
            text = head + extra + "\n" + sep + tail if sep else text + "\n" + extra
        (tmp / "report.md").write_text(text, encoding="utf-8")
    log.info("wrote %s", report_dir)


def main(args) -> int:
    params = load_params(args.params, check_rewards=False)
    r = params.results_dir
    build(paths.analysis_dir(r), paths.report_dir(r))
    return 0
