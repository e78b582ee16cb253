"""Report from a synthetic analysis folder (built with the analysis functions from synthetic grades)."""

from __future__ import annotations

import json
import zlib

import numpy as np
import pandas as pd
import pytest

from spurious_rewards.analysis import code_reasoning
from spurious_rewards.analysis.code_reasoning import TRANSITIONS
from spurious_rewards.commands import analyze as analysis_stage
from spurious_rewards.commands import report as report_stage
from spurious_rewards.io import DataError
from spurious_rewards.report import paper_numbers

MODEL = "qwen2.5-math-7b"  # named like the paper's model: the paper comparison must appear


def synthetic_grades() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []

    def add(cond, seed, step, variant, p_code, p_correct, samples=1, bench="math500"):
        for grader in ("math_verify", "paper"):
            for i in range(40):
                for k in range(samples):
                    r = np.random.default_rng(zlib.crc32(repr((cond, seed, step, variant, i, k)).encode()))
                    rows.append({"model": MODEL, "condition": cond, "seed": seed, "step": step,
                                 "benchmark": bench, "variant": variant, "grader": grader,
                                 "grader_version": grader + "-1", "problem_id": f"p{i}", "sample_index": k,
                                 "correct": bool(r.random() < p_correct),
                                 "has_python": bool(r.random() < p_code),
                                 "has_code_block": False, "n_tokens": int(rng.integers(5, 50)),
                                 "finish_reason": "stop"})

    for variant, p in (("default", 0.5), ("forced_prefix", 0.65)):
        add("base", -1, 0, variant, 0.65, p)
        add("base", -1, 0, variant, 0.65, p * 0.5, samples=4, bench="amc")
    for cond, gain in (("ground_truth", 0.3), ("random", 0.2)):
        for seed in (1, 2):
            for step in (5, 10):
                add(cond, seed, step, "default", 0.9, 0.5 + gain * step / 10)
                add(cond, seed, step, "default", 0.9, 0.25 + gain * step / 20, samples=4, bench="amc")
    return pd.DataFrame(rows)


class FakeParams:
    def runs(self):
        return [(MODEL, c, s) for c in ("ground_truth", "random") for s in (1, 2)]


@pytest.fixture()
def analysis_dir(tmp_path):
    grades = synthetic_grades()
    full = analysis_stage.with_baseline(grades, FakeParams())
    folder = tmp_path / "analysis"
    folder.mkdir()
    train = pd.DataFrame([{"model": MODEL, "condition": c, "seed": s, "step": st, "metric": metric,
                           "value": scale * st} for c, s in [("ground_truth", 1), ("random", 1)]
                          for st in range(1, 11)
                          for metric, scale in (("reward", 0.1), ("clip_ratio_low_mean", 0.001),
                                                ("clip_ratio_high_mean", 0.002),
                                                ("clip_ratio_region_mean", 0.003))])
    tables = {
        "metrics.csv": analysis_stage.metrics_table(full, 200, 0.95),
        "summary.csv": analysis_stage.summary_table(full, 1, 200, 0.95),
        "code_reasoning.csv": code_reasoning.frequency_table(full),
        "switch.csv": code_reasoning.switch_table(full[full["condition"] != "base"], 0, "last"),
        "prompting.csv": code_reasoning.prompting_table(grades[grades["condition"] == "base"]),
        "train_metrics.csv": train,
    }
    for name, frame in tables.items():
        frame.to_csv(folder / name, index=False)
    prov = {"primary_grader": "math_verify", "params_file": "presets/paper.yaml", "params_hash": "abc123",
            "git": {"sha": "deadbeef", "dirty": False}, "packages": {"torch": "2.13.0", "vllm": None},
            "graders": [{"grader": "math_verify", "grader_version": "math_verify-1"}],
            "models": {MODEL: {"kind": "hf", "path": "Qwen/Qwen2.5-Math-7B"}},
            "conditions": {"ground_truth": {"reward": "ground_truth", "labels": "ground_truth"}},
            "seeds": [1, 2], "benchmarks": {"math500": {"samples": 1, "temperature": 0.0}},
            "analysis": {"smoothing_window": 1, "confidence": 0.95, "bootstrap_samples": 200},
            "upstream": {"backends": [{"backend": "vllm", "tensor_parallel_size": 1,
                                       "batch_invariant": True}],
                         "graders": [{"name": "math_verify", "version": "math_verify-1"}]}}
    (folder / "provenance.json").write_text(json.dumps(prov), encoding="utf-8")
    return folder, tables


def test_analysis_tables_are_consistent(analysis_dir):
    _, tables = analysis_dir
    m = tables["metrics.csv"]
    assert {"accuracy", "accuracy_ci_low", "pass@2", "pass@4", "avg@4", "code_frequency"} <= set(m["metric"])
    # Step 0 of every run is the base evaluation.
    step0 = m[(m["step"] == 0) & (m["metric"] == "accuracy") & (m["benchmark"] == "math500")
              & (m["grader"] == "paper") & (m["variant"] == "default")]
    assert step0["value"].nunique() == 1 and len(step0) == 5  # base + 2 conditions x 2 seeds
    s = tables["summary.csv"]
    acc = s[(s["metric"] == "accuracy") & (s["benchmark"] == "math500") & (s["grader"] == "paper")]
    assert (acc["n_seeds"] == 2).all()
    assert ((acc["ci_low"] <= acc["delta"]) & (acc["delta"] <= acc["ci_high"])).all()


def test_report_files_and_tables(analysis_dir, tmp_path):
    folder, _ = analysis_dir
    out = tmp_path / "report"
    report_stage.build(folder, out)
    pngs = sorted((out / "figures").glob("*.png"))
    assert {p.name for p in pngs} == {"accuracy_vs_step_math_verify.png", "accuracy_vs_step_paper.png",
                                      "delta_accuracy_math_verify.png", "delta_accuracy_paper.png",
                                      "code_frequency_vs_step.png", "train_reward_vs_step.png",
                                      "clip_ratio_vs_step.png"}
    assert all(p.stat().st_size > 5000 for p in pngs)
    md = (out / "report.md").read_text(encoding="utf-8")
    for needle in ("## Summary", "## Strategy switches", "## Code reasoning", "## Prompting intervention",
                   "## Ours vs the paper", "Qwen2.5-Math-7B", "| ground_truth |", "language->code",
                   "](figures/accuracy_vs_step_math_verify.png)", "deadbeef", "batch_invariant=True",
                   "abc123"):
        assert needle in md, needle
    for p in pngs:
        assert f"](figures/{p.name})" in md
    assert not [p for p in tmp_path.iterdir() if ".tmp" in p.name]


def test_report_without_paper_model_and_missing_input(analysis_dir, tmp_path):
    folder, _ = analysis_dir
    prov = json.loads((folder / "provenance.json").read_text())
    prov["models"] = {"toy": {"kind": "tiny", "path": None}}
    (folder / "provenance.json").write_text(json.dumps(prov))
    report_stage.build(folder, tmp_path / "r1")
    assert "Ours vs the paper" not in (tmp_path / "r1" / "report.md").read_text()
    # an analysis folder without one analysis' table (written before it existed): its section is left
    # out, the rest renders
    (folder / "switch.csv").unlink()
    report_stage.build(folder, tmp_path / "r2")
    md = (tmp_path / "r2" / "report.md").read_text()
    assert "## Strategy switches" not in md
    assert "## Summary" in md and "## Code reasoning" in md and "## Provenance" in md
    # a table that is there but unreadable still stops the report, and nothing is written
    (folder / "switch.csv").write_text("")
    with pytest.raises(DataError, match="switch.csv: empty file"):
        report_stage.build(folder, tmp_path / "r3")
    assert not (tmp_path / "r3").exists()


def test_paper_model_matching():
    assert paper_numbers.paper_model_for("Qwen/Qwen2.5-Math-7B") == "Qwen2.5-Math-7B"
    assert paper_numbers.paper_model_for("qwen25_math_1.5b") == "Qwen2.5-Math-1.5B"
    assert paper_numbers.paper_model_for("toy", None) is None
    assert paper_numbers.is_math500("MATH-500") and not paper_numbers.is_math500("amc")


# -- a report a researcher trusts at a glance ----------------------------------------------------
def _captured_figures(monkeypatch):
    """Keep the figures make_all builds (instead of closing them) so their axes can be inspected."""
    from spurious_rewards.report import figures

    kept = {}

    def keep(fig, path):
        fig.savefig(path, dpi=30)
        kept[path.stem] = fig
        return path

    monkeypatch.setattr(figures, "save_figure", keep)
    return kept


def test_figures_show_intervals_legends_protocols_and_fixed_ranges(analysis_dir, tmp_path, monkeypatch):
    from spurious_rewards.report import figures

    folder, tables = analysis_dir
    kept = _captured_figures(monkeypatch)
    prov = {"benchmarks": {"math500": {"samples": 1, "temperature": 0.0},
                           "amc": {"samples": 4, "temperature": 0.6}}}
    figures.make_all(tables["metrics.csv"], tables["train_metrics.csv"], ["math_verify"], tmp_path,
                     summary=tables["summary.csv"], prov=prov)
    assert set(kept) == {"delta_accuracy_math_verify", "accuracy_vs_step_math_verify",
                         "code_frequency_vs_step", "train_reward_vs_step", "clip_ratio_vs_step"}
    for name, fig in kept.items():
        # one shared legend on the figure, none inside a panel
        assert len(fig.legends) == 1, name
        assert all(ax.get_legend() is None for ax in fig.axes), name
        assert {t.get_text() for t in fig.legends[0].get_texts()} == {"ground_truth", "random"}, name
    acc = kept["accuracy_vs_step_math_verify"].axes
    titles = {ax.get_title() for ax in acc}
    assert f"{MODEL} / math500: greedy pass@1, n=40" in titles
    assert f"{MODEL} / amc: avg@4 (T=0.6), n=40" in titles
    for ax in acc + kept["code_frequency_vs_step"].axes:
        assert ax.get_ylim() == (0, 100) and ax.get_xlabel() == "rollout step"
    # the interval bands of metrics.csv (accuracy_ci_low/high): one per condition per panel
    assert all(len(ax.collections) == 2 for ax in acc)
    band = acc[0].collections[0].get_paths()[0].vertices[:, 1]
    m = tables["metrics.csv"]
    lo = m[(m["metric"] == "accuracy_ci_low") & (m["grader"] == "math_verify") & (m["benchmark"] == "amc")
           & (m["condition"] == "ground_truth") & (m["step"] == 10)]["value"].mean()
    assert np.isclose(band, 100 * lo).any()
    # Figure 1: one bar per condition and model, error bars = the summary's interval
    bars = kept["delta_accuracy_math_verify"].axes
    s = tables["summary.csv"]
    gt = s[(s["metric"] == "accuracy") & (s["grader"] == "math_verify") & (s["benchmark"] == "math500")
           & (s["condition"] == "ground_truth")].iloc[0]
    heights = [p.get_height() for p in bars[1].patches]
    assert np.isclose(heights, 100 * gt["delta"]).any()
    assert bars[0].get_shared_y_axes().joined(bars[0], bars[1])
    assert "math500: greedy pass@1, n=40" in bars[1].get_title()
    # clip ratio: every side that TRL logs, in percent, on one y-range
    clip = kept["clip_ratio_vs_step"].axes
    assert len(clip) == 3 and clip[0].get_shared_y_axes().joined(clip[0], clip[2])
    assert np.isclose(clip[2].lines[0].get_ydata()[-1], 100 * 0.003 * 10)


def test_protocol_names_greedy_and_sampled_benchmarks():
    from spurious_rewards.report.figures import protocol

    prov = {"benchmarks": {"arith": {"samples": 1, "temperature": 0.0},
                           "hard": {"samples": 8, "temperature": 0.6}}}
    assert protocol("arith", prov, 300) == "greedy pass@1, n=300"
    assert protocol("hard", prov, 100) == "avg@8 (T=0.6), n=100"


def test_markdown_captions_banner_and_interval_sentence(analysis_dir, tmp_path):
    from spurious_rewards.report import figures

    folder, _ = analysis_dir
    report_stage.build(folder, tmp_path / "paper")
    md = (tmp_path / "paper" / "report.md").read_text(encoding="utf-8")
    assert "Synthetic toy run" not in md
    # every figure is followed by its caption
    for png in (tmp_path / "paper" / "figures").glob("*.png"):
        caption = figures.caption_for(png.name)
        assert caption and f"](figures/{png.name})\n\n*{caption}*" in md, png.name
    assert "they cover training-seed and benchmark-sampling variance" in md  # two seeds in the fixture
    assert "Code frequency counts only the text generated after the prefix" in md

    prov = json.loads((folder / "provenance.json").read_text())
    prov["models"] = {"toy": {"kind": "tiny", "path": None}}
    prov["benchmarks"] = {"arith": {"source": "synthetic", "samples": 1, "temperature": 0.0}}
    (folder / "provenance.json").write_text(json.dumps(prov))
    report_stage.build(folder, tmp_path / "toy")
    md = (tmp_path / "toy" / "report.md").read_text(encoding="utf-8")
    assert md.index("Synthetic toy run, not comparable with the paper") < md.index("## What was run")
    assert "Notice." not in md

    # analysis.notice, as analyze records it: one quoted line (a newline would end the quote) on top
    prov["notice"] = "a plumbing check:\n  its numbers mean nothing"
    (folder / "provenance.json").write_text(json.dumps(prov))
    report_stage.build(folder, tmp_path / "noticed")
    md = (tmp_path / "noticed" / "report.md").read_text(encoding="utf-8")
    assert "> **Notice.** a plumbing check: its numbers mean nothing\n" in md
    assert md.index("**Notice.**") < md.index("Synthetic toy run") < md.index("## What was run")


def test_one_seed_shows_no_spread_and_says_what_the_interval_covers():
    from spurious_rewards.report import markdown

    summary = pd.DataFrame([{"model": "toy", "condition": "random", "benchmark": "arith", "grader": "mv",
                             "metric": "accuracy", "n_seeds": 1, "final_step": 2, "step0_value": 0.5,
                             "final_value": 0.6, "delta": 0.1, "delta_std": 0.0, "ci_low": 0.02,
                             "ci_high": 0.18, "ci_method": "bootstrap problems", "n_problems": 24}])
    text = markdown.summary_section(summary, {"analysis": {"confidence": 0.95, "bootstrap_samples": 100}})
    row = next(line for line in text.splitlines() if line.startswith("| toy |"))
    assert row.rstrip().endswith("| – |") and "0.0 |" not in row.split("[2.0, 18.0]")[1]
    assert "with one training seed they cover problem sampling only" in text
    assert "95% percentile bootstrap intervals (100 resamples)" in text


def test_switch_shares_only_for_runs_with_a_positive_gain():
    from spurious_rewards.report import markdown

    rows = []
    for cond, gain, shares in (("ground_truth", 10.0, (60.0, 40.0, 0.0, 0.0)),
                               ("random", -0.3, (283.0, -183.0, 0.0, 0.0))):
        for t, share in zip(TRANSITIONS, shares):
            rows.append({"model": "m", "condition": cond, "seed": 1, "benchmark": "b", "grader": "g",
                         "step_from": 0, "step_to": 10, "transition": t, "count": 5, "acc_before": 0.5,
                         "acc_after": 0.6, "gain": 1.0, "share_of_gain": share, "n_pairs": 20,
                         "total_gain_pp": gain})
    text = markdown.switch_section(pd.DataFrame(rows), "g")
    assert "283" not in text and "-183" not in text
    assert "(C=60.0)" in text and "(C=–)" in text
    # the average uses the one run with a gain: its shares, its gain, one run counted
    assert "| m | b | 60.0 | 40.0 | 0.0 | 0.0 | 1 | 10.0 |" in text


def test_snakemake_report_captions_are_generated_from_the_figures(repo):
    from jinja2 import Template

    from spurious_rewards.report import figures

    rst = (repo / "workflow" / "report" / "figures.rst").read_text(encoding="utf-8")
    assert rst == figures.captions_rst(), "regenerate workflow/report/figures.rst from figures.captions_rst()"

    class W:
        def __init__(self, name):
            self.wildcards = type("wc", (), {"name": name})()

    seen = set()
    for name in ("delta_accuracy_math_verify", "accuracy_vs_step_paper", "code_frequency_vs_step",
                 "train_reward_vs_step", "clip_ratio_vs_step"):
        text = Template(rst).render(snakemake=W(name)).strip()
        assert text == figures.caption_for(name + ".png"), name
        seen.add(text)
    assert len(seen) == 5
    tables = (repo / "workflow" / "report" / "tables.rst").read_text(encoding="utf-8")
    for name in ("summary", "metrics", "code_reasoning", "switch", "prompting", "train_metrics"):
        text = Template(tables).render(snakemake=W(name)).strip()
        assert text and text != "A table of the analysis folder.", name
    smk = (repo / "workflow" / "rules" / "report.smk").read_text(encoding="utf-8")
    assert 'caption="../report/tables.rst"' in smk and 'patterns=["{name}.csv"]' in smk


ORGANISM_CONDITIONS = ("ground_truth", "majority_vote", "incorrect", "one_shot", "format", "random", "random_g07",
                       "random_g03", "random_no_clip", "random_one_update", "random_whiten",
                       "random_whiten_no_clip", "python")


@pytest.mark.parametrize("names", [
    ("format", "ground_truth", "incorrect", "majority_vote", "one_shot", "python", "random"),
    ORGANISM_CONDITIONS])  # long names (random_whiten_no_clip) once ran past the right edge
def test_the_legend_of_a_one_panel_figure_stays_inside_it(names):
    """Seven conditions under one panel (the training-reward figure) once ran past both edges."""
    import matplotlib

    matplotlib.use("Agg")
    from spurious_rewards.report import figures

    fig, axes = figures.panel_grid(1, 1)
    handles = {name: axes[0][0].plot([0, 1], [0, 1], label=name)[0] for name in names}
    figures.condition_legend(fig, handles)
    fig.canvas.draw()
    box, frame = fig.legends[0].get_window_extent(), fig.bbox
    assert box.x0 >= frame.x0 and box.x1 <= frame.x1, (box, frame)
