"""Markdown rendering of the report from the analysis tables (no tabulate dependency)."""

from __future__ import annotations

import math

import pandas as pd

from spurious_rewards.analysis.code_reasoning import TRANSITIONS
from spurious_rewards.report import paper_numbers


def fmt(value, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def table(frame: pd.DataFrame, digits: int = 1) -> str:
    if frame.empty:
        return "_(no rows)_\n"
    head = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(fmt(v, digits).replace("|", "\\|") for v in row) + " |"
            for row in frame.itertuples(index=False, name=None)]
    return "\n".join([head, rule, *body]) + "\n"


def pct(x) -> float:
    return 100.0 * x if x is not None and not (isinstance(x, float) and math.isnan(x)) else math.nan


# -- sections -------------------------------------------------------------------------------------
def run_section(prov: dict) -> str:
    bench = pd.DataFrame([{"benchmark": b, "samples": s.get("samples"), "temperature": s.get("temperature"),
                           "top_p": s.get("top_p", 1.0), "max_new_tokens": s.get("max_new_tokens")}
                          for b, s in (prov.get("benchmarks") or {}).items()])
    models = ", ".join(f"{m} ({v.get('kind')}{', ' + v['path'] if v.get('path') else ''})"
                       for m, v in (prov.get("models") or {}).items())
    conds = ", ".join(f"{c} (reward {v.get('reward')}, labels {v.get('labels')})"
                      for c, v in (prov.get("conditions") or {}).items())
    an = prov.get("analysis") or {}
    steps = ", ".join(f"{k}: {v}" for k, v in (prov.get("train_steps") or {}).items()) or "–"
    graders = ", ".join(f"{g['grader']} {g['grader_version']}" for g in prov.get("graders") or []) or "–"
    lines = ["## What was run", "",
             f"- Models: {models or '–'}",
             f"- Conditions: {conds or '–'}",
             f"- Seeds: {', '.join(map(str, prov.get('seeds') or [])) or '–'}",
             f"- Training steps: {steps}",
             f"- Graders: {graders}",
             f"- Step 0 of every run is the base model evaluated by the same code path; final values are "
             f"smoothed over a {an.get('smoothing_window', 1)}-step window; intervals are "
             f"{100 * float(an.get('confidence', 0.95)):.0f}% bootstrap intervals "
             f"({an.get('bootstrap_samples', '?')} resamples).", "",
             "Benchmarks:", "", table(bench, 2)]
    return "\n".join(lines)


def summary_section(summary: pd.DataFrame) -> str:
    s = summary[summary["metric"] == "accuracy"].copy()
    if s.empty:
        return "## Summary\n\n_(no runs)_\n"
    out = pd.DataFrame({
        "model": s["model"], "condition": s["condition"], "benchmark": s["benchmark"], "grader": s["grader"],
        "seeds": s["n_seeds"], "final step": s["final_step"], "step 0 (%)": s["step0_value"].map(pct),
        "final (%)": s["final_value"].map(pct), "Δ (pts)": s["delta"].map(pct),
        "Δ CI (pts)": [f"[{fmt(pct(a))}, {fmt(pct(b))}]" for a, b in zip(s["ci_low"], s["ci_high"])],
        "Δ sd across seeds": s["delta_std"].map(pct)})
    return "## Summary: accuracy, step 0 → final\n\n" + table(out) + "\n"


def figures_section(figures: list[str]) -> str:
    lines = ["## Figures", ""]
    for rel in figures:
        lines += [f"![{rel}]({rel})", ""]
    return "\n".join(lines)


def code_section(code: pd.DataFrame, grader: str) -> str:
    c = code[(code["grader"] == grader) & (code["variant"] == "default")]
    if c.empty:
        return "## Code reasoning\n\n_(no rows)_\n"
    base = c[c["condition"] == "base"]
    runs = c[c["condition"] != "base"]
    last = runs[runs["step"] == runs.groupby(["model", "condition", "seed"])["step"].transform("max")]
    rows = pd.concat([base, last], ignore_index=True)
    agg = rows.groupby(["model", "condition", "step", "benchmark"], sort=True).agg(
        code=("code_frequency", "mean"), code_block=("code_block_frequency", "mean"),
        acc=("accuracy", "mean"), acc_code=("acc_code", "mean"), acc_language=("acc_language", "mean"),
        seeds=("seed", "nunique")).reset_index()
    for col in ("code", "code_block", "acc", "acc_code", "acc_language"):
        agg[col] = agg[col].map(pct)
    agg.columns = ["model", "condition", "step", "benchmark", "code freq (%)", "```python freq (%)",
                   "acc (%)", "acc code (%)", "acc language (%)", "seeds"]
    return (f"## Code reasoning (grader {grader})\n\nA response counts as code reasoning when it contains "
            "\"python\" (the paper's detector). Base model and each run's last checkpoint.\n\n"
            + table(agg) + "\n")


def switch_section(switch: pd.DataFrame, grader: str) -> str:
    s = switch[switch["grader"] == grader]
    if s.empty:
        return "## Strategy switches\n\n_(no rows: no run has both checkpoints)_\n"
    rows = []
    for key, g in s.groupby(["model", "condition", "seed", "benchmark", "step_from", "step_to"], sort=True):
        row = dict(zip(["model", "condition", "seed", "benchmark", "from", "to"], key))
        by = g.set_index("transition")
        for t in TRANSITIONS:
            r = by.loc[t]
            row[t] = (f"{int(r['count'])}: {fmt(pct(r['acc_before']))}→{fmt(pct(r['acc_after']))} "
                      f"(C={fmt(r['share_of_gain'])})")
        row["gain (pts)"] = fmt(float(g["total_gain_pp"].iloc[0]))
        rows.append(row)
    avg = (s.groupby(["model", "benchmark", "transition"])["share_of_gain"].mean().unstack("transition")
           .reindex(columns=list(TRANSITIONS)).reset_index())
    gains = s.groupby(["model", "benchmark"])["total_gain_pp"].mean().reset_index(name="avg gain (pts)")
    avg = avg.merge(gains, on=["model", "benchmark"])
    return (f"## Strategy switches (paper Table 2 / Fig. 7; grader {grader})\n\n"
            "Each cell: pairs in the subset: accuracy before→after (C = the subset's share of the net gain "
            "in correct answers, %).\n\n" + table(pd.DataFrame(rows))
            + "\nPartial contribution C_d averaged over conditions (the paper averages over the rewards "
              "that changed the strategy):\n\n" + table(avg) + "\n")


def prompting_section(prompting: pd.DataFrame, grader: str) -> str:
    p = prompting[prompting["grader"] == grader]
    if p.empty:
        return "## Prompting intervention\n\n_(not run: evaluate.forced_prefix is empty)_\n"
    out = p[["model", "benchmark", "original", "forced_prefix", "change", "code_frequency_original",
             "code_frequency_forced"]].copy()
    out.columns = ["model", "benchmark", "original (%)", "forced prefix (%)", "change (pts)",
                   "code freq original (%)", "code freq forced (%)"]
    return (f"## Prompting intervention (paper Table 3; grader {grader})\n\nThe base model's response is "
            "forced to start with the configured prefix; code frequency counts the text generated after "
            "the prefix.\n\n" + table(out) + "\n")


def paper_section(summary: pd.DataFrame, code: pd.DataFrame, switch: pd.DataFrame, prompting: pd.DataFrame,
                  prov: dict, grader: str) -> str:
    """Our numbers beside the paper's, for models named like the paper's (the paper preset)."""
    models = prov.get("models") or {}
    matched = {m: paper_numbers.paper_model_for(m, v.get("path")) for m, v in models.items()}
    matched = {m: p for m, p in matched.items() if p}
    if not matched:
        return ""
    parts = ["## Ours vs the paper (MATH-500)", "",
             "Published numbers: arXiv 2506.10947 v1 (research/paper.md §4, §5). The paper reports the "
             "smoothed value after 300 steps; ours is the final value of this run.", ""]
    for model, paper in matched.items():
        rows = []
        s = summary[(summary["model"] == model) & (summary["metric"] == "accuracy")
                    & (summary["grader"] == grader) & summary["benchmark"].map(paper_numbers.is_math500)]
        base_paper = paper_numbers.MATH500_BASE.get(paper)
        for cond, paper_delta in paper_numbers.MATH500_DELTA_300.get(paper, {}).items():
            ours = s[s["condition"] == cond]
            rows.append({"condition": cond, "paper step 0": base_paper, "paper Δ": paper_delta,
                         "ours step 0": pct(ours["step0_value"].iloc[0]) if len(ours) else math.nan,
                         "ours Δ": pct(ours["delta"].iloc[0]) if len(ours) else math.nan,
                         "ours final step": int(ours["final_step"].iloc[0]) if len(ours) else "–"})
        if rows:
            parts += [f"### {model} ≙ {paper}: Δ accuracy per reward (grader {grader})", "",
                      table(pd.DataFrame(rows))]
        t1 = paper_numbers.TABLE1.get(paper)
        c = code[(code["model"] == model) & (code["condition"] == "base") & (code["variant"] == "default")
                 & (code["grader"] == grader) & code["benchmark"].map(paper_numbers.is_math500)]
        if t1 and len(c):
            r = c.iloc[0]
            parts += ["Pre-RL code reasoning (Table 1):", "", table(pd.DataFrame([
                {"": "paper", **t1},
                {"": "ours", "code_frequency": pct(r["code_frequency"]), "acc_code": pct(r["acc_code"]),
                 "acc_language": pct(r["acc_language"])}]))]
        t2 = paper_numbers.TABLE2.get(paper)
        sw = switch[(switch["model"] == model) & (switch["grader"] == grader)
                    & switch["benchmark"].map(paper_numbers.is_math500)]
        if t2 and len(sw):
            ours = sw.groupby("transition")["share_of_gain"].mean().to_dict()
            parts += ["Partial contribution C_d (Table 2; ours averaged over all conditions):", "",
                      table(pd.DataFrame([{"": "paper", **t2},
                                          {"": "ours", "avg_gain": sw["total_gain_pp"].mean(),
                                           **{t: ours.get(t, math.nan) for t in TRANSITIONS}}]))]
        t3 = paper_numbers.TABLE3.get(paper)
        pr = prompting[(prompting["model"] == model) & (prompting["grader"] == grader)
                       & prompting["benchmark"].map(paper_numbers.is_math500)]
        if t3 and len(pr):
            r = pr.iloc[0]
            parts += ["Prompting intervention (Table 3):", "", table(pd.DataFrame([
                {"": "paper", "original": t3[0], "forced prefix": t3[1], "change": t3[1] - t3[0]},
                {"": "ours", "original": r["original"], "forced prefix": r["forced_prefix"],
                 "change": r["change"]}]))]
    return "\n".join(parts) + "\n"


def provenance_section(analysis_prov: dict) -> str:
    up = analysis_prov.get("upstream") or {}
    git = analysis_prov.get("git") or {}
    pkgs = {k: v for k, v in (analysis_prov.get("packages") or {}).items() if v}
    graders = ", ".join(f"{g.get('name', g.get('grader'))} {g.get('version', g.get('grader_version'))}"
                        for g in (up.get("graders") or analysis_prov.get("graders") or [])) or "–"
    dev = analysis_prov.get("device") or {}
    dirty = " (dirty tree)" if git.get("dirty") else ""
    lines = ["## Provenance", "",
             f"- git SHA (analysis): {git.get('sha') or 'unknown'}{dirty}",
             f"- git SHAs of the evaluate/grade jobs: {', '.join(up.get('upstream_git_shas') or []) or '–'}",
             f"- params file: {analysis_prov.get('params_file')}, hash {analysis_prov.get('params_hash')}",
             f"- graders: {graders}",
             f"- analysis host: {dev.get('device_name')} ({dev.get('device')}), python {dev.get('python')}",
             "- package versions: " + ", ".join(f"{k} {v}" for k, v in pkgs.items()), "",
             "Generation backends (as recorded by evaluate):", ""]
    for b in up.get("backends") or []:
        lines.append("- " + ", ".join(f"{k}={v}" for k, v in b.items()))
    if not up.get("backends"):
        lines.append("- – (no evaluate provenance found)")
    return "\n".join(lines) + "\n"


def render(*, prov: dict, summary, code, switch, prompting, figures: list[str], grader: str) -> str:
    parts = ["# Spurious Rewards re-run: report", "",
             f"Primary grader: **{grader}** (every grader's numbers are in the analysis CSVs).", "",
             run_section(prov), summary_section(summary), figures_section(figures),
             code_section(code, grader), switch_section(switch, grader), prompting_section(prompting, grader),
             paper_section(summary, code, switch, prompting, prov, grader), provenance_section(prov)]
    return "\n".join(p for p in parts if p is not None)
