"""The check `make paper-mini` ends with: the report of a parameter file holds a summary row for every
(model, condition, benchmark, grader) it names, and its provenance records the vLLM backend and the
commit each Hub base model resolved to (the commit the offline cache's ref names).

    python -m tests.paper_mini_check presets/paper-mini.yaml

Exit 1 naming each problem. `problems()` is what tests/unit/test_paper_mini.py feeds broken reports.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

SHA = re.compile(r"\b[0-9a-f]{40}\b")


def summary_rows(report: str) -> set[tuple[str, str, str, str]]:
    """(model, condition, benchmark, grader) of each row of the report's summary table."""
    rows, columns = set(), None
    in_summary = False
    for line in report.splitlines():
        if line.startswith("## "):
            in_summary = line.startswith("## Summary")
            columns = None
            continue
        if not in_summary or not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if columns is None:
            columns = cells
        elif not set("".join(cells)) <= set("-: "):
            row = dict(zip(columns, cells))
            rows.add((row.get("model"), row.get("condition"), row.get("benchmark"), row.get("grader")))
    return rows


def problems(report: str, analysis_prov: dict, expected: dict) -> list[str]:
    """What is missing. expected: {models: {name: hub commit}, conditions, benchmarks, graders}."""
    out = []
    have = summary_rows(report)
    for model in expected["models"]:
        for cond in expected["conditions"]:
            for bench in expected["benchmarks"]:
                for grader in expected["graders"]:
                    if (model, cond, bench, grader) not in have:
                        out.append(f"report: no summary row for {model}/{cond} on {bench} by grader {grader}")
    upstream = analysis_prov.get("upstream") or {}
    backends = {b.get("backend") for b in upstream.get("backends") or []}
    if backends != {"vllm"}:
        out.append(f"provenance: generation backends {sorted(map(str, backends))}, expected only vllm")
    if "backend=vllm" not in report:
        out.append("report: the provenance section does not show backend=vllm")
    hub = upstream.get("hub_models") or {}
    for model, commit in expected["models"].items():
        got = (hub.get(model) or {}).get("revision")
        if not got or got != commit:
            out.append(f"provenance: {model} resolved to {got}, expected the cache's commit {commit}")
        elif f"@ {commit}" not in report:
            out.append(f"report: the provenance section does not name {model}'s commit {commit}")
    from spurious_rewards.report.markdown import notice_banner

    if expected.get("notice") and notice_banner({"notice": expected["notice"]}) not in report:
        out.append("report: analysis.notice is not its banner")
    return out


def cached_commit(repo_id: str, revision: str | None) -> str:
    """The commit huggingface_hub's offline lookup gives repo_id at revision (None = main)."""
    from huggingface_hub import snapshot_download

    return Path(snapshot_download(repo_id, revision=revision, local_files_only=True)).name


def main(argv: list[str]) -> int:
    from spurious_rewards import paths
    from spurious_rewards.config import load_params

    params = load_params(argv[0], check_rewards=False)
    r = params.results_dir
    report = paths.report_markdown(r).read_text(encoding="utf-8")
    prov = json.loads((paths.analysis_dir(r) / "provenance.json").read_text(encoding="utf-8"))
    models = {}
    for m in params.models:
        spec = params.model(m)
        models[m] = cached_commit(spec["path"], spec["revision"]) if spec["kind"] == "hf" else None
    expected = {"models": models, "conditions": params.conditions, "benchmarks": list(params.benchmarks),
                "graders": params.section("analysis")["graders"], "notice": params.section("analysis")["notice"]}
    found = problems(report, prov, expected)
    for line in found:
        print(f"paper-mini check: {line}", file=sys.stderr)
    if not found:
        print(f"paper-mini check: {paths.report_markdown(r)} holds {len(summary_rows(report))} summary rows "
              f"covering {len(expected['conditions'])} conditions x {len(expected['benchmarks'])} benchmarks x "
              f"{len(expected['graders'])} graders; backend vllm; " +
              ", ".join(f"{m} @ {c}" for m, c in models.items()))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
