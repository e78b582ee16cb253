"""Code-reasoning analysis of the paper (§4): how often responses "use code", how accurate code and
language responses are, how responses switch strategy between two checkpoints (Table 2 / Fig. 7), and
the prompting intervention (Table 3).

A response uses code when it contains "python" (case-insensitive), the paper's operational detector
(`has_python` in the grades); the stricter fenced-block detector is reported beside it.
"""

from __future__ import annotations

import math
import re

import pandas as pd

TRANSITIONS = ("code->code", "code->language", "language->code", "language->language")
GROUP = ["model", "condition", "seed", "step", "benchmark", "variant", "grader"]
CODE_BLOCK = re.compile(r"```[ \t]*python\b", re.IGNORECASE)


def has_python(text: str) -> bool:
    """The paper's code-reasoning detector: the substring "python", any case."""
    return "python" in (text or "").lower()


def has_code_block(text: str) -> bool:
    """Stricter: a fenced ```python block opens somewhere in the text."""
    return bool(CODE_BLOCK.search(text or ""))


def _rate(num: float, den: float) -> float:
    return float(num) / float(den) if den else math.nan


def frequency_table(grades: pd.DataFrame) -> pd.DataFrame:
    """Per (model, condition, seed, step, benchmark, variant, grader): code frequency and the accuracy
    of code and of language responses."""
    rows = []
    for key, g in grades.groupby(GROUP, sort=True, dropna=False):
        code = g["has_python"].astype(bool)
        correct = g["correct"].astype(bool)
        n_code = int(code.sum())
        n_lang = int((~code).sum())
        rows.append({**dict(zip(GROUP, key)), "n": len(g), "n_code": n_code, "n_language": n_lang,
                     "code_frequency": _rate(n_code, len(g)),
                     "code_block_frequency": _rate(int(g["has_code_block"].astype(bool).sum()), len(g)),
                     "accuracy": _rate(int(correct.sum()), len(g)),
                     "acc_code": _rate(int((correct & code).sum()), n_code),
                     "acc_language": _rate(int((correct & ~code).sum()), n_lang)})
    return pd.DataFrame(rows, columns=GROUP + ["n", "n_code", "n_language", "code_frequency",
                                               "code_block_frequency", "accuracy", "acc_code",
                                               "acc_language"])


def switch_counts(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Strategy switches between two evaluations of the same (problem, sample) pairs.

    Per transition: count, accuracy before/after, correct answers before/after, the gain in correct
    answers, and `share_of_gain` = gain / total gain x 100: the paper's partial contribution C_d
    (Table 2). `total_gain_pp` is the accuracy change of all pairs, in points.
    """
    keys = ["problem_id", "sample_index"]
    merged = before[keys + ["has_python", "correct"]].merge(
        after[keys + ["has_python", "correct"]], on=keys, suffixes=("_before", "_after"), how="inner",
        validate="one_to_one")
    n_total = len(merged)
    total_gain = int(merged["correct_after"].sum()) - int(merged["correct_before"].sum())
    rows = []
    for name in TRANSITIONS:
        src, dst = name.split("->")
        sel = merged[(merged["has_python_before"] == (src == "code"))
                     & (merged["has_python_after"] == (dst == "code"))]
        cb, ca = int(sel["correct_before"].sum()), int(sel["correct_after"].sum())
        rows.append({"transition": name, "count": len(sel), "share_of_pairs": _rate(len(sel), n_total),
                     "acc_before": _rate(cb, len(sel)), "acc_after": _rate(ca, len(sel)),
                     "correct_before": cb, "correct_after": ca, "gain": ca - cb,
                     "share_of_gain": 100.0 * (ca - cb) / total_gain if total_gain else math.nan,
                     "n_pairs": n_total,
                     "total_gain_pp": 100.0 * _rate(total_gain, n_total)})
    return pd.DataFrame(rows)


def switch_table(grades: pd.DataFrame, step_from: int, step_to: int | str) -> pd.DataFrame:
    """Switch analysis for every (model, condition, seed, benchmark, grader), default variant only.

    step_to "last" = each run's last evaluated step. Runs without step_from or step_to are skipped.
    """
    g = grades[grades["variant"] == "default"]
    out = []
    for key, run in g.groupby(["model", "condition", "seed", "benchmark", "grader"], sort=True):
        steps = set(run["step"].unique())
        to = max(steps) if step_to == "last" else int(step_to)
        if step_from not in steps or to not in steps or to == step_from:
            continue
        table = switch_counts(run[run["step"] == step_from], run[run["step"] == to])
        for col, val in zip(["model", "condition", "seed", "benchmark", "grader"], key):
            table[col] = val
        table["step_from"], table["step_to"] = step_from, to
        out.append(table)
    cols = ["model", "condition", "seed", "benchmark", "grader", "step_from", "step_to", "transition",
            "count", "share_of_pairs", "acc_before", "acc_after", "correct_before", "correct_after",
            "gain", "share_of_gain", "n_pairs", "total_gain_pp"]
    return pd.concat(out, ignore_index=True)[cols] if out else pd.DataFrame(columns=cols)


def prompting_table(base_grades: pd.DataFrame) -> pd.DataFrame:
    """Table 3: accuracy (and code frequency) of the base model, default prompt vs the forced prefix."""
    cols = ["model", "benchmark", "grader", "original", "forced_prefix", "change",
            "code_frequency_original", "code_frequency_forced", "n"]
    if "forced_prefix" not in set(base_grades["variant"]):
        return pd.DataFrame(columns=cols)
    rows = []
    for (model, bench, grader), g in base_grades.groupby(["model", "benchmark", "grader"], sort=True):
        d, f = g[g["variant"] == "default"], g[g["variant"] == "forced_prefix"]
        if d.empty or f.empty:
            continue
        orig, forced = 100.0 * d["correct"].mean(), 100.0 * f["correct"].mean()
        rows.append({"model": model, "benchmark": bench, "grader": grader, "original": orig,
                     "forced_prefix": forced, "change": forced - orig,
                     "code_frequency_original": 100.0 * d["has_python"].mean(),
                     "code_frequency_forced": 100.0 * f["has_python"].mean(), "n": len(d)})
    return pd.DataFrame(rows, columns=cols)
