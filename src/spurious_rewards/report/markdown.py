"""Markdown rendering of the report from the analysis tables (no tabulate dependency)."""

from __future__ import annotations

import math

import pandas as pd

from spurious_rewards.analysis.code_reasoning import TRANSITIONS
from spurious_rewards.report import figures as figs
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
def is_synthetic(prov: dict) -> bool:
    """True when the numbers come from the offline toy (synthetic data or a tiny model)."""
    benches = prov.get("benchmarks") or {}
    models = prov.get("models") or {}
    return (any((b or {}).get("source") == "synthetic" for b in benches.values())
            or any((m or {}).get("kind") == "tiny" for m in models.values()))


def synthetic_banner(prov: dict) -> str | None:
    if not is_synthetic(prov):
        return None
    return ("> **Synthetic toy run, not comparable with the paper.** These numbers come from synthetic "
            "arithmetic problems and/or a tiny model trained here offline (the default params.yaml). They "
            "test that the pipeline works end to end; they say nothing about Qwen2.5-Math or MATH-500. "
            "Run presets/paper.yaml for the paper's setting.\n")


def notice_banner(prov: dict) -> str | None:
    """`analysis.notice`, as analyze recorded it: the run's own warning to its readers."""
    notice = " ".join(str(prov.get("notice") or "").split())
    return f"> **Notice.** {notice}\n" if notice else None


def intervals_sentence(summary: pd.DataFrame, prov: dict) -> str:
    an = prov.get("analysis") or {}
    conf = f"{100 * float(an.get('confidence', 0.95)):.0f}%"
    acc = summary[summary["metric"] == "accuracy"] if "metric" in summary else summary
    seeds = sorted({int(n) for n in acc["n_seeds"].dropna()}) if "n_seeds" in acc else []
    if seeds and max(seeds) > 1:
        cover = ("with several seeds they resample seeds, then problems, so they cover training-seed and "
                 "benchmark-sampling variance")
    else:
        cover = ("with one training seed they cover problem sampling only (which problems the benchmark "
                 "happens to hold), not the variance between training runs; the seed spread is shown as –")
    return (f"Intervals are {conf} percentile bootstrap intervals ({an.get('bootstrap_samples', '?')} "
            f"resamples); {cover}.")


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


def summary_section(summary: pd.DataFrame, prov: dict | None = None) -> str:
    s = summary[summary["metric"] == "accuracy"].copy()
    if s.empty:
        return "## Summary\n\n_(no runs)_\n"
    out = pd.DataFrame({
        "model": s["model"], "condition": s["condition"], "benchmark": s["benchmark"], "grader": s["grader"],
        "seeds": s["n_seeds"], "final step": s["final_step"], "step 0 (%)": s["step0_value"].map(pct),
        "final (%)": s["final_value"].map(pct), "Δ (pts)": s["delta"].map(pct),
        "Δ CI (pts)": [f"[{fmt(pct(a))}, {fmt(pct(b))}]" for a, b in zip(s["ci_low"], s["ci_high"])],
        # one seed has no spread: "–", not a misleading 0.0
        "Δ sd across seeds": [pct(v) if n > 1 else math.nan for v, n in zip(s["delta_std"], s["n_seeds"])]})
    return ("## Summary: accuracy, step 0 → final\n\n" + intervals_sentence(summary, prov or {}) + "\n\n"
            + table(out) + "\n")


def figures_section(figures: list[str]) -> str:
    lines = ["## Figures", ""]
    for rel in figures:
        lines += [f"![{rel}]({rel})", ""]
        caption = figs.caption_for(rel)
        if caption:
            lines += [f"*{caption}*", ""]
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


def positive_gain(switch: pd.DataFrame) -> pd.DataFrame:
    """Rows of runs whose net gain is positive: the only ones where a share of the gain means anything."""
    return switch[switch["total_gain_pp"] > 0]


def switch_section(switch: pd.DataFrame, grader: str) -> str:
    s = switch[switch["grader"] == grader]
    if s.empty:
        return "## Strategy switches\n\n_(no rows: no run has both checkpoints)_\n"
    rows = []
    for key, g in s.groupby(["model", "condition", "seed", "benchmark", "step_from", "step_to"], sort=True):
        row = dict(zip(["model", "condition", "seed", "benchmark", "from", "to"], key))
        by = g.set_index("transition")
        gained = float(g["total_gain_pp"].iloc[0]) > 0
        for t in TRANSITIONS:
            r = by.loc[t]
            share = fmt(r["share_of_gain"]) if gained else "–"
            row[t] = (f"{int(r['count'])}: {fmt(pct(r['acc_before']))}→{fmt(pct(r['acc_after']))} "
                      f"(C={share})")
        row["gain (pts)"] = fmt(float(g["total_gain_pp"].iloc[0]))
        rows.append(row)
    pos = positive_gain(s)
    avg = (pos.groupby(["model", "benchmark", "transition"])["share_of_gain"].mean().unstack("transition")
           .reindex(columns=list(TRANSITIONS)).reset_index())
    gains = (pos.drop_duplicates(["model", "benchmark", "condition", "seed"])
             .groupby(["model", "benchmark"])
             .agg(runs=("seed", "size"), avg_gain=("total_gain_pp", "mean")).reset_index()
             .rename(columns={"runs": "runs with a gain", "avg_gain": "avg gain (pts)"}))
    avg = avg.merge(gains, on=["model", "benchmark"]) if len(avg) else avg
    return (f"## Strategy switches (paper Table 2 / Fig. 7; grader {grader})\n\n"
            "Each cell: pairs in the subset: accuracy before→after (C = the subset's share of the net gain "
            "in correct answers, %).\n\n" + table(pd.DataFrame(rows))
            + "\nA share of the gain is only defined when the net gain is positive (with a zero or negative "
              "gain it divides by ~0 or flips sign, giving shares of hundreds of percent), so C is – for "
              "runs without a gain and the average below uses only the runs with a positive gain (the "
              "paper averages over the rewards that changed the strategy):\n\n"
            + (table(avg) if len(avg) else "_(no run has a positive net gain)_\n") + "\n")


def prompting_section(prompting: pd.DataFrame, grader: str) -> str:
    p = prompting[prompting["grader"] == grader]
    if p.empty:
        return "## Prompting intervention\n\n_(not run: evaluate.forced_prefix is empty)_\n"
    out = p[["model", "benchmark", "original", "forced_prefix", "change", "code_frequency_original",
             "code_frequency_forced"]].copy()
    out.columns = ["model", "benchmark", "original (%)", "forced prefix (%)", "change (pts)",
                   "code freq original (%)", "code freq forced (%)"]
    return (f"## Prompting intervention (paper Table 3; grader {grader})\n\nThe base model's response is "
            "forced to start with the configured prefix. Code frequency counts only the text generated "
            "after the prefix: when the prefix itself holds \"python\" (the paper's \"Let's solve this using "
            "Python.\"), every forced response starts with code intent, yet its code frequency reads ~0 "
            "because the model need not repeat the word. Read the forced column as accuracy under a "
            "code prompt, not as a code-reasoning rate.\n\n" + table(out) + "\n")


def paper_section(summary: pd.DataFrame, code: pd.DataFrame, switch: pd.DataFrame, prompting: pd.DataFrame,
                  prov: dict, grader: str) -> str:
    """Our numbers beside the paper's, for models named like the paper's (the paper preset)."""
    models = prov.get("models") or {}
    matched = {m: paper_numbers.paper_model_for(m, v.get("path")) for m, v in models.items()}
    matched = {m: p for m, p in matched.items() if p}
    if not matched:
        return ""
    parts = ["## Ours vs the paper (MATH-500)", "",
             "Published numbers: arXiv 2506.10947 v1 (its tables and figures). The paper reports the "
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
        sw = positive_gain(sw)
        if t2 and len(sw):
            ours = sw.groupby("transition")["share_of_gain"].mean().to_dict()
            parts += ["Partial contribution C_d (Table 2; ours averaged over the runs with a positive net "
                      "gain):", "",
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
             "- package versions: " + ", ".join(f"{k} {v}" for k, v in pkgs.items()),
             *(f"- base model {m}: {v.get('path')} @ {v.get('revision')} (the commit evaluate loaded)"
               for m, v in sorted((up.get("hub_models") or {}).items())), "",
             "Generation backends (as recorded by evaluate):", ""]
    for b in up.get("backends") or []:
        lines.append("- " + ", ".join(f"{k}={v}" for k, v in b.items()))
    if not up.get("backends"):
        lines.append("- – (no evaluate provenance found)")
    return "\n".join(lines) + "\n"


def header(prov: dict, grader: str) -> list:
    """The report's opening parts (None: left out); the analyses' sections follow, provenance ends it."""
    return ["# Spurious Rewards re-run: report", "", notice_banner(prov), synthetic_banner(prov),
            f"Primary grader: **{grader}** (every grader's numbers are in the analysis CSVs).", "",
            run_section(prov)]
