"""The toy organisms (issue 7): corpus style mixture and correctness follow the parameters, and the
report's organism section is computed correctly from a tiny synthetic analysis folder."""

from __future__ import annotations

import json
import re
import zlib

import numpy as np
import pandas as pd
import pytest

from spurious_rewards.analysis import code_reasoning
from spurious_rewards.commands import analyze as analysis_stage
from spurious_rewards.commands import report as report_stage
from spurious_rewards.data.synthetic import evaluate_expression
from spurious_rewards.model import corpus
from spurious_rewards.report import organism

BOXED = re.compile(r"\\boxed\{(-?\d+)\}")


@pytest.mark.parametrize("mix", [
    corpus.StyleMix(code_share=0.65, code_correct=0.6, language_correct=0.3, unboxed_share=0.1),
    corpus.StyleMix(code_share=0.1, code_correct=0.3, language_correct=0.55, unboxed_share=0.0,
                    style_spread=0.05),
])
def test_corpus_style_shares_and_correctness_match_parameters(mix):
    rows = corpus.build(6000, mix, seed=3, add_max=99, mul_max=12, exclude=set())
    code = [r for r in rows if r["style"] == "code"]
    lang = [r for r in rows if r["style"] == "language"]
    assert abs(len(code) / len(rows) - mix.code_share) < 0.03
    # the `correct` flag is what the trace says: the last number stated is the true answer or not
    for r in rows[:500]:
        text = r["completion"][0]["content"]
        assert r["answer"] == evaluate_expression(r["expression"])
        assert (int(re.findall(r"(\d+)", text)[-1]) == r["answer"]) == r["correct"], text
        assert ("python" in text.lower()) == (r["style"] == "code")
    assert abs(np.mean([r["correct"] for r in code]) - mix.code_correct) < 0.04
    assert abs(np.mean([r["correct"] for r in lang]) - mix.language_correct) < 0.04
    unboxed = np.mean([not BOXED.search(r["completion"][0]["content"]) for r in lang])
    assert abs(unboxed - mix.unboxed_share) < 0.03
    assert all(BOXED.search(r["completion"][0]["content"]) for r in code)


def test_corpus_hard_share_and_style_spread():
    mix = corpus.StyleMix(code_share=0.5, style_spread=0.0)
    assert mix.code_probability(0) == mix.code_probability(1) == 0.5
    rows = corpus.build(2000, mix, seed=0, add_max=20, mul_max=9, exclude=set(), hard_share=0.0)
    assert not any(r["expression"].count(" ") > 2 for r in rows)


# -- report section -------------------------------------------------------------------------------
CONDITIONS = {
    "ground_truth": {"reward": "ground_truth", "labels": "ground_truth"},
    "format": {"reward": "format_boxed", "labels": "ground_truth"},
    "random": {"reward": "random", "labels": "ground_truth", "reward_options": {"gamma": 0.5}},
    "random_g0": {"reward": "random", "labels": "ground_truth", "reward_options": {"gamma": 0.0}},
    "random_no_clip": {"reward": "random", "labels": "ground_truth", "reward_options": {"gamma": 0.5},
                       "train": {"clip": False}},
}
# (model, condition) -> (accuracy gain, code frequency gain) at the final step
EFFECTS = {("coder", "ground_truth"): (0.35, 0.1), ("coder", "format"): (0.25, 0.3),
           ("coder", "random"): (0.2, 0.3), ("coder", "random_g0"): (0.0, 0.0),
           ("coder", "random_no_clip"): (0.0, 0.0),
           ("talker", "ground_truth"): (0.3, 0.0), ("talker", "format"): (0.0, 0.0),
           ("talker", "random"): (-0.2, 0.0), ("talker", "random_g0"): (0.0, 0.0),
           ("talker", "random_no_clip"): (0.0, 0.0)}
BASE = {"coder": (0.65, 0.6, 0.3), "talker": (0.1, 0.3, 0.55)}  # code share, acc code, acc language


def synthetic_grades(n=150) -> pd.DataFrame:
    rows = []

    def add(model, cond, seed, step, p_code, acc_code, acc_lang):
        for i in range(n):
            r = np.random.default_rng(zlib.crc32(repr((model, cond, seed, step, i)).encode()))
            code = bool(r.random() < p_code)
            correct = bool(r.random() < (acc_code if code else acc_lang))
            rows.append({"model": model, "condition": cond, "seed": seed, "step": step, "benchmark": "arith",
                         "variant": "default", "grader": "math_verify", "grader_version": "1",
                         "problem_id": f"p{i}", "sample_index": 0, "correct": correct, "has_python": code,
                         "has_code_block": code, "n_tokens": 20, "finish_reason": "stop"})

    for model, (share, ac, al) in BASE.items():
        add(model, "base", -1, 0, share, ac, al)
        for cond in CONDITIONS:
            gain, code_gain = EFFECTS[(model, cond)]
            for seed in (1, 2, 3):
                add(model, cond, seed, 20, min(1.0, share + code_gain), min(1.0, ac + gain),
                    max(0.0, min(1.0, al + gain)))
    return pd.DataFrame(rows)


class FakeParams:
    def runs(self):
        return [(m, c, s) for m in BASE for c in CONDITIONS for s in (1, 2, 3)]


@pytest.fixture()
def tables():
    full = analysis_stage.with_baseline(synthetic_grades(), FakeParams())
    return {"summary": analysis_stage.summary_table(full, 1, 200, 0.95),
            "code": code_reasoning.frequency_table(full), "full": full}


def test_results_table_and_claims(tables):
    res = organism.results_table(tables["summary"], CONDITIONS, "math_verify", "arith")
    assert len(res) == 10 and (res["seeds"] == 3).all()
    row = res[(res["model"] == "coder") & (res["condition"] == "ground_truth")].iloc[0]
    assert 25 < row["Δ acc"] < 45 and row["Δ acc lo"] <= row["Δ acc"] <= row["Δ acc hi"]
    assert row["effect"] == "helps" and row["kind"] == "true"
    kinds = dict(zip(res["condition"], res["kind"]))
    assert kinds == {"ground_truth": "true", "format": "spurious", "random": "random",
                     "random_g0": "random_zero", "random_no_clip": "random_no_clip"}
    talker_random = res[(res["model"] == "talker") & (res["condition"] == "random")].iloc[0]
    assert talker_random["effect"] == "hurts"

    base = organism.base_table(tables["code"], "math_verify", "arith")
    coder = base[base["model"] == "coder"].iloc[0]
    assert abs(coder["code frequency"] - 65) < 10 and coder["acc. code"] > coder["acc. language"]
    assert organism.code_favouring(base) == ("coder", ["talker"])

    verdicts = organism.claims(res, "coder", ["talker"]).set_index("paper's claim")["verdict"]
    assert verdicts.iloc[0] == "yes"                        # ground truth best for both
    assert verdicts.iloc[1] == "yes"                        # spurious help coder, not talker
    assert verdicts.iloc[2].startswith("partly")            # clipping matters for coder only
    assert verdicts.iloc[3] == "yes"                        # code frequency rises


def test_section_in_report(tables, tmp_path):
    folder = tmp_path / "analysis"
    folder.mkdir()
    full = tables["full"]
    frames = {
        "metrics.csv": analysis_stage.metrics_table(full, 100, 0.95),
        "summary.csv": tables["summary"],
        "code_reasoning.csv": tables["code"],
        "switch.csv": code_reasoning.switch_table(full[full["condition"] != "base"], 0, "last"),
        "prompting.csv": code_reasoning.prompting_table(full[full["condition"] == "base"]),
        "train_metrics.csv": pd.DataFrame(columns=["model", "condition", "seed", "step", "metric", "value"]),
    }
    for name, frame in frames.items():
        frame.to_csv(folder / name, index=False)
    prov = {"primary_grader": "math_verify", "models": {m: {"kind": "tiny"} for m in BASE},
            "conditions": CONDITIONS, "seeds": [1, 2, 3], "benchmarks": {"arith": {"samples": 1}},
            "analysis": {"confidence": 0.95}}
    (folder / "provenance.json").write_text(json.dumps(prov), encoding="utf-8")
    report_stage.build(folder, tmp_path / "report")
    md = (tmp_path / "report" / "report.md").read_text(encoding="utf-8")
    assert "## Organism experiment: results" in md
    assert md.index("## Organism experiment") < md.index("## Provenance")
    assert "| coder | random_no_clip | random_no_clip |" in md
    assert "Random rewards help only with clipping" in md


def test_section_absent_for_one_model(tables):
    s = tables["summary"]
    assert organism.render(s[s["model"] == "coder"], tables["code"], {}, "math_verify") == ""


def test_claims_when_nothing_helps():
    rows = []
    for model, d in (("coder", -5.0), ("talker", -7.0)):
        for cond, kind in (("ground_truth", "true"), ("random", "random"), ("random_no_clip", "random_no_clip"),
                           ("python", "spurious")):
            rows.append({"model": model, "condition": cond, "kind": kind, "Δ acc": d, "Δ acc lo": d - 3,
                         "Δ acc hi": d + 3, "Δ code": 10.0, "Δ code lo": 5.0, "Δ code hi": 15.0,
                         "effect": organism.effect((d - 3) / 100, (d + 3) / 100)})
    verdicts = organism.claims(pd.DataFrame(rows), "coder", ["talker"])["verdict"].tolist()
    assert verdicts[1].startswith("no")
    assert verdicts[2].startswith("no (random does not help")
    assert verdicts[3] == "yes"


def test_one_update_per_rollout_counts_as_unclipped():
    # the batch-size control: with one update per rollout pi_old == pi_theta, so the clip never binds
    conds = {"rnd": {"reward": "random"}, "rnd_u1": {"reward": "random", "train": {"optimizer_batch": 32}},
             "rnd_nc": {"reward": "random", "train": {"clip": False}}}
    updates = organism.updates_by_condition({"updates_per_rollout": {"a/rnd": 8, "b/rnd": 8, "a/rnd_u1": 1,
                                                                     "b/rnd_u1": 1, "a/rnd_nc": 8}})
    assert updates == {"rnd": 8, "rnd_u1": 1, "rnd_nc": 8}
    assert organism.classify(conds, updates) == {"rnd": "random", "rnd_u1": "random_no_clip",
                                                 "rnd_nc": "random_no_clip"}
    # older analysis folders have no updates_per_rollout: the condition's clip setting decides alone
    assert organism.classify(conds)["rnd_u1"] == "random"
