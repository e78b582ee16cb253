"""Results section of the toy-organism experiment (presets/organism.yaml, issue 7).

Two tiny base models ("organisms") are pre-trained with different reasoning-style mixtures, one that
writes code often and is more accurate in code (the Qwen2.5-Math analogue) and one where code is rare
or worse (the OLMo2/Llama analogue); every reward condition then trains each of them with several
seeds. This module reads the analysis tables only (summary.csv, code_reasoning.csv, provenance.json)
and writes:

  1. the base organisms' code frequency and per-style accuracy beside the paper's Table 1;
  2. per organism and condition, the change in accuracy and in code frequency (step 0 -> final),
     with the analysis' bootstrap interval over seeds and problems;
  3. the paper's four headline claims, each with a verdict computed from those intervals.

A condition "helps" when the lower end of its interval for the accuracy change is above 0, "hurts"
when the upper end is below 0, and has "no clear effect" otherwise. Conditions are classified by their
reward's kind in the reward registry (the reward from the analysis provenance), not by their names, so
renamed conditions and rewards of your own (rewards.reward_factory(kind=...)) still count.
"""

from __future__ import annotations

import math

import pandas as pd

from spurious_rewards.report import paper_numbers
from spurious_rewards.report.markdown import fmt, pct, table

# Reward kinds (the registry's, rewards.KINDS) whose signal is uncorrelated with (or opposed to)
# correctness, the paper's spurious rewards, and those correlated with it.
SPURIOUS_KINDS = ("incorrect_label", "format", "random", "code")
TRUE_KINDS = ("ground_truth", "weak_label")


def reward_kind(reward) -> str:
    """The registry's kind of a condition's reward; "other" for a compound (`_without_python`: the python
    penalty changes the signal), an unknown name, or a dotted path that no longer imports."""
    from spurious_rewards.rewards import COMPOUND_SUFFIX
    from spurious_rewards.rewards import reward_kind as registry_kind

    if not isinstance(reward, str) or reward.endswith(COMPOUND_SUFFIX):
        return "other"
    try:
        return registry_kind(reward)
    except ValueError:
        return "other"


def applies(summary: pd.DataFrame) -> bool:
    """The section is written when the sweep compares at least two models (organisms)."""
    return not summary.empty and summary["model"].nunique() >= 2


def _gamma(cond: dict) -> float | None:
    if reward_kind(cond.get("reward")) != "random":
        return None
    from spurious_rewards.rewards import reward_spec

    default = reward_spec(cond["reward"]).options.get("gamma", 0.5)
    return float((cond.get("reward_options") or {}).get("gamma", default))


def _clipped(cond: dict, updates: int | None = None) -> bool:
    """Whether the PPO clip can act: `clip: false` turns it off, and with one optimizer update per rollout
    pi_old == pi_theta at every update, so the ratio is 1 and the clip never binds (the paper's
    batch-size control, §4.4.2)."""
    return bool((cond.get("train") or {}).get("clip", True)) and (updates is None or updates > 1)


def updates_by_condition(prov: dict) -> dict[str, int]:
    """condition -> the fewest optimizer updates per rollout over its models (analyze's provenance)."""
    out: dict[str, int] = {}
    for key, updates in (prov.get("updates_per_rollout") or {}).items():
        cond = key.split("/", 1)[1]
        out[cond] = min(int(updates), out.get(cond, int(updates)))
    return out


def classify(conditions: dict, updates: dict[str, int] | None = None) -> dict[str, str]:
    """condition -> kind: true | spurious | random | random_no_clip | random_zero | other. `updates`
    (condition -> updates per rollout) counts a one-update random run as unclipped."""
    kinds = {}
    updates = updates or {}
    for name, cond in conditions.items():
        kind = reward_kind((cond or {}).get("reward"))
        gamma = _gamma(cond or {})
        if gamma is not None:
            kinds[name] = ("random_zero" if gamma == 0 else
                           "random" if _clipped(cond, updates.get(name)) else "random_no_clip")
        elif kind in TRUE_KINDS:
            kinds[name] = "true"
        elif kind in SPURIOUS_KINDS:
            kinds[name] = "spurious"
        else:
            kinds[name] = "other"
    return kinds


def effect(lo: float, hi: float) -> str:
    if any(isinstance(v, float) and math.isnan(v) for v in (lo, hi)):
        return "n/a"
    if lo > 0:
        return "helps"
    if hi < 0:
        return "hurts"
    return "no clear effect"


def _pick_benchmark(summary: pd.DataFrame) -> str:
    """The first benchmark in the sweep (the toy MATH-500 counterpart comes first in the presets)."""
    return str(summary["benchmark"].iloc[0])


def results_table(summary: pd.DataFrame, conditions: dict, grader: str, benchmark: str,
                  updates: dict[str, int] | None = None) -> pd.DataFrame:
    """One row per (model, condition): Δ accuracy and Δ code frequency with intervals, in points."""
    kinds = classify(conditions, updates)
    s = summary[(summary["grader"] == grader) & (summary["benchmark"] == benchmark)]
    rows = []
    order = list(conditions) or sorted(s["condition"].unique())
    for model in sorted(s["model"].unique()):
        for cond in order:
            acc = s[(s["model"] == model) & (s["condition"] == cond) & (s["metric"] == "accuracy")]
            code = s[(s["model"] == model) & (s["condition"] == cond) & (s["metric"] == "code_frequency")]
            if acc.empty:
                continue
            a = acc.iloc[0]
            c = code.iloc[0] if len(code) else None
            rows.append({
                "model": model, "condition": cond, "kind": kinds.get(cond, "other"),
                "seeds": int(a["n_seeds"]), "final step": int(a["final_step"]),
                "acc step 0": pct(a["step0_value"]), "acc final": pct(a["final_value"]),
                "Δ acc": pct(a["delta"]), "Δ acc lo": pct(a["ci_low"]), "Δ acc hi": pct(a["ci_high"]),
                "code step 0": pct(c["step0_value"]) if c is not None else math.nan,
                "Δ code": pct(c["delta"]) if c is not None else math.nan,
                "Δ code lo": pct(c["ci_low"]) if c is not None else math.nan,
                "Δ code hi": pct(c["ci_high"]) if c is not None else math.nan,
                "effect": effect(a["ci_low"], a["ci_high"]),
            })
    return pd.DataFrame(rows)


def base_table(code: pd.DataFrame, grader: str, benchmark: str) -> pd.DataFrame:
    c = code[(code["condition"] == "base") & (code["variant"] == "default") & (code["grader"] == grader)
             & (code["benchmark"] == benchmark)]
    c = c[c["step"] == 0] if "step" in c.columns else c
    rows = [{"model": r["model"], "code frequency": pct(r["code_frequency"]), "acc. code": pct(r["acc_code"]),
             "acc. language": pct(r["acc_language"]), "accuracy": pct(r["accuracy"]), "responses": int(r["n"])}
            for _, r in c.drop_duplicates("model").iterrows()]
    for paper, t1 in (("paper: Qwen2.5-Math-7B", paper_numbers.TABLE1["Qwen2.5-Math-7B"]),
                      ("paper: Qwen2.5-7B (bad code)", paper_numbers.TABLE1["Qwen2.5-7B"])):
        rows.append({"model": paper, "code frequency": t1["code_frequency"], "acc. code": t1["acc_code"],
                     "acc. language": t1["acc_language"], "accuracy": math.nan, "responses": 500})
    rows.append({"model": "paper: OLMo2-7B, Llama3 (no code)", "code frequency": 0.0, "acc. code": math.nan,
                 "acc. language": math.nan, "accuracy": math.nan, "responses": 500})
    return pd.DataFrame(rows)


def code_favouring(base: pd.DataFrame) -> tuple[str | None, list[str]]:
    """The organism whose base model writes code most often and is more accurate in code, and the rest."""
    ours = base[~base["model"].astype(str).str.startswith("paper:")].copy()
    if ours.empty:
        return None, []
    ours["edge"] = ours["acc. code"].fillna(-100) - ours["acc. language"].fillna(0)
    ok = ours[(ours["edge"] > 0)]
    pick = (ok if len(ok) else ours).sort_values(["code frequency", "edge"], ascending=False)["model"].iloc[0]
    return str(pick), [str(m) for m in ours["model"] if m != pick]


def _mean(rows: pd.DataFrame, col: str) -> float:
    return float(rows[col].mean()) if len(rows) else math.nan


def claims(res: pd.DataFrame, coder: str | None, others: list[str]) -> pd.DataFrame:
    """The paper's headline claims, each judged on this run's intervals."""
    out = []

    def add(claim, verdict, evidence):
        out.append({"paper's claim": claim, "verdict": verdict, "evidence": evidence})

    def describe(rows):
        return "; ".join(f"{r['model']}/{r['condition']} {fmt(r['Δ acc'])} [{fmt(r['Δ acc lo'])}, "
                         f"{fmt(r['Δ acc hi'])}]" for _, r in rows.iterrows()) or "no runs"

    # 1. ground truth is the best reward (per organism)
    verdicts, ev = [], []
    for model in ([coder] if coder else []) + others:
        m = res[res["model"] == model]
        gt = m[m["condition"] == "ground_truth"]
        if gt.empty or len(m) < 2:
            continue
        best = m.loc[m["Δ acc"].idxmax()]
        g = gt.iloc[0]
        if best["condition"] == "ground_truth":
            verdicts.append("yes")
        elif g["Δ acc hi"] >= best["Δ acc"]:
            verdicts.append("tied")
        else:
            verdicts.append("no")
        ev.append(f"{model}: ground truth {fmt(g['Δ acc'])} [{fmt(g['Δ acc lo'])}, {fmt(g['Δ acc hi'])}], "
                  f"best {best['condition']} {fmt(best['Δ acc'])}")
    add("Ground-truth reward gives the largest gain",
        _combine(verdicts), "; ".join(ev) or "no ground_truth runs")

    # 2. spurious rewards help the code-favouring organism and not the other
    spur = res[res["kind"].isin(["spurious", "random"])]
    if coder is not None and len(spur):
        c = spur[spur["model"] == coder]
        o = spur[spur["model"].isin(others)]
        c_help = (c["effect"] == "helps").mean() if len(c) else math.nan
        o_help = (o["effect"] == "helps").mean() if len(o) else math.nan
        if len(c) and len(o):
            better = _mean(c, "Δ acc") > _mean(o, "Δ acc")
            if c_help >= 0.5 and o_help < 0.5 and better:
                verdict = "yes"
            elif c_help > o_help and better:
                verdict = "partly"
            elif better:
                verdict = "no (no spurious reward helps; the code-favouring organism loses less)"
            else:
                verdict = "no"
        else:
            verdict = "n/a"
        add("Spurious rewards (incorrect, format, random, python) help the code-favouring organism and not "
            "the other", verdict,
            f"{coder}: {fmt(100 * c_help, 0)}% of spurious conditions help, mean Δ {fmt(_mean(c, 'Δ acc'))}; "
            f"{', '.join(others) or 'others'}: {fmt(100 * o_help, 0)}% help, mean Δ {fmt(_mean(o, 'Δ acc'))}")
    else:
        add("Spurious rewards help the code-favouring organism and not the other", "n/a", "no spurious runs")

    # 3. random rewards help only with clipping (and not at γ = 0)
    verdicts, ev = [], []
    for model in ([coder] if coder else []) + others:
        m = res[res["model"] == model]
        clip = m[m["kind"] == "random"]
        noclip = m[m["kind"] == "random_no_clip"]
        zero = m[m["kind"] == "random_zero"]
        if clip.empty or noclip.empty:
            continue
        clip_helps = (clip["effect"] == "helps").mean() >= 0.5
        noclip_helps = (noclip["effect"] == "helps").any()
        zero_flat = zero.empty or (zero["effect"] != "helps").all()
        if clip_helps and not noclip_helps and zero_flat:
            verdicts.append("yes")
        elif not clip_helps and not noclip_helps:
            verdicts.append("no (random does not help here, clipped or not)")
        else:
            verdicts.append("no")
        ev.append(f"{model}: clipped {describe(clip)}; unclipped {describe(noclip)}"
                  + (f"; γ=0 {describe(zero)}" if len(zero) else ""))
    add("Random rewards help only with clipping (γ sweep: every γ > 0 helps, γ = 0 does not)",
        _combine(verdicts), " | ".join(ev) or "needs clipped and unclipped random conditions")

    # 4. code frequency rises under spurious rewards (code-favouring organism)
    if coder is not None and len(spur):
        c = spur[spur["model"] == coder]
        rises = (c["Δ code lo"] > 0).mean() if len(c) else math.nan
        add("Code frequency rises under spurious rewards (code-favouring organism)",
            "yes" if rises >= 0.5 else "partly" if rises > 0 else "no",
            f"{coder}: code frequency rises (interval above 0) in {fmt(100 * rises, 0)}% of spurious "
            f"conditions, mean Δ code {fmt(_mean(c, 'Δ code'))} pts")
    return pd.DataFrame(out)


def _combine(verdicts: list[str]) -> str:
    if not verdicts:
        return "n/a"
    if all(v == "yes" for v in verdicts):
        return "yes"
    if any(v.startswith("yes") or v == "tied" for v in verdicts):
        return "partly (" + ", ".join(verdicts) + ")"
    return verdicts[0] if len(set(verdicts)) == 1 else "no (" + ", ".join(verdicts) + ")"


def render(summary: pd.DataFrame, code: pd.DataFrame, prov: dict, grader: str,
           benchmark: str | None = None) -> str:
    if not applies(summary):
        return ""
    benchmark = benchmark or _pick_benchmark(summary)
    conditions = prov.get("conditions") or {}
    res = results_table(summary, conditions, grader, benchmark, updates_by_condition(prov))
    base = base_table(code, grader, benchmark)
    coder, others = code_favouring(base)
    seeds = sorted(prov.get("seeds") or [])
    conf = 100 * float((prov.get("analysis") or {}).get("confidence", 0.95))
    lines = ["## Organism experiment: results", "",
             f"Benchmark **{benchmark}**, grader {grader}; {len(seeds)} seed(s) ({', '.join(map(str, seeds))}). "
             f"Intervals are {conf:.0f}% bootstrap intervals of the change (step 0 → final), resampling "
             "seeds and problems; with one seed they cover benchmark sampling only.", "",
             "### Base organisms (step 0) beside the paper's Table 1", "", table(base), "",
             f"Code-favouring organism (most code, code more accurate): **{coder or '–'}**; "
             f"other(s): {', '.join(others) or '–'}.", "",
             "### Change per organism and condition (percentage points)", ""]
    if res.empty:
        lines.append("_(no runs)_\n")
    else:
        shown = pd.DataFrame({
            "model": res["model"], "condition": res["condition"], "kind": res["kind"],
            "seeds": res["seeds"], "final step": res["final step"],
            "acc step 0 (%)": res["acc step 0"], "acc final (%)": res["acc final"],
            "Δ acc [CI]": [f"{fmt(d)} [{fmt(lo)}, {fmt(hi)}]"
                           for d, lo, hi in zip(res["Δ acc"], res["Δ acc lo"], res["Δ acc hi"])],
            "code step 0 (%)": res["code step 0"],
            "Δ code [CI]": [f"{fmt(d)} [{fmt(lo)}, {fmt(hi)}]"
                            for d, lo, hi in zip(res["Δ code"], res["Δ code lo"], res["Δ code hi"])],
            "effect on acc": res["effect"]})
        lines += [table(shown), ""]
    lines += ["### The paper's claims on these organisms", "",
              "A condition helps when its interval for Δ accuracy lies above 0. "
              "Paper: Qwen2.5-Math-7B gains under every reward (ground truth +29.1, random +21.4 on "
              "MATH-500), OLMo2/Llama gain only from informative rewards; random rewards stop helping "
              "without clipping; code frequency rises to >90% (the paper, §4).", "",
              table(claims(res, coder, others)) if len(res) else "_(no runs)_\n"]
    return "\n".join(lines) + "\n"
