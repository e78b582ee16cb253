"""Issue 13 item 7: catch what is meant; Ctrl-C, broken records and failed benchmarks are not hidden."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from spurious_rewards import cli, paths, provenance
from spurious_rewards.commands import analyze as analysis
from spurious_rewards.config import load_params
from spurious_rewards.grading import Grader, GradingTimeout, pool
from spurious_rewards.io import DataError
from tests.conftest import REPO
from tests.unit.eval_fixtures import build_tree, write_params
from tests.unit.tiny_lm import save_tiny


class Raising(Grader):
    name, version = "paper", "test"

    def __init__(self, exc):
        self.exc = exc

    def extract(self, completion):
        raise self.exc

    def is_equivalent(self, prediction, gold):
        raise self.exc


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), SystemExit(3)], ids=repr)
def test_ctrl_c_and_exit_are_not_a_grade_of_false(monkeypatch, exc):
    monkeypatch.setattr(pool, "get_grader", lambda name: Raising(exc))
    with pytest.raises(type(exc)):
        pool.GradingPool("paper", workers=0).grade([r"\boxed{1}"], ["1"])
    with pytest.raises(type(exc)):
        pool.GradingPool("paper", workers=0).extract([r"\boxed{1}"])


@pytest.mark.parametrize("exc", [ValueError("bad latex"), RecursionError(), GradingTimeout("slow")], ids=repr)
def test_failures_on_model_output_still_score_no_credit(monkeypatch, exc):
    monkeypatch.setattr(pool, "get_grader", lambda name: Raising(exc))
    assert pool.GradingPool("paper", workers=0).grade([r"\boxed{1}"], ["1"]) == [False]
    assert pool.GradingPool("paper", workers=0).extract([r"\boxed{1}"]) == [None]


def test_math_verify_timeout_is_no_credit(monkeypatch):
    from math_verify.errors import TimeoutException

    monkeypatch.setattr(pool, "get_grader", lambda name: Raising(TimeoutException()))
    assert pool.GradingPool("paper", workers=0).grade([r"\boxed{1}"], ["1"]) == [False]


# -- provenance records -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def template_model(tmp_path_factory):
    return save_tiny(tmp_path_factory.mktemp("tiny") / "model")


def test_evaluate_regenerates_a_shard_whose_record_is_unreadable(tmp_path, template_model, caplog):
    results = build_tree(tmp_path, template_model)
    pf = write_params(tmp_path, evaluate__forced_prefix="")
    args = ["evaluate", "--params", str(pf), "--model", "toy", "--base"]
    assert cli.main(args) == 0
    state = paths.eval_state_dir(results, "toy", paths.BASE_RUN)
    metas = sorted(state.rglob("*.json"))
    assert metas
    metas[0].write_text("{not json", encoding="utf-8")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="spurious_rewards.commands.evaluate"):
        assert cli.main(args) == 0
    assert any(str(metas[0]) in rec.getMessage() and "regenerating" in rec.getMessage()
               for rec in caplog.records)
    rec = json.loads(provenance.provenance_path(paths.completions(results, "toy", paths.BASE_RUN)).read_text())
    assert rec["backend_describe"] and all(isinstance(d, dict) for d in rec["backend_describe"])
    assert [s["resumed"] for s in rec["shards"]].count(False) == 1
    assert json.loads(metas[0].read_text())["settings_hash"]  # rewritten whole


def test_analyze_refuses_an_unreadable_upstream_record(tmp_path):
    params = load_params(write_params(tmp_path))
    side = provenance.provenance_path(paths.completions(params.results_dir, "toy", paths.BASE_RUN))
    side.parent.mkdir(parents=True)
    side.write_text('{"backend_describe": [', encoding="utf-8")
    with pytest.raises(DataError, match=rf"{side}: unreadable provenance record"):
        analysis.upstream_provenance(params)
    side.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(DataError, match=rf"{side}: unreadable provenance record"):
        analysis.upstream_provenance(params)


def test_analyze_warns_about_a_missing_upstream_record(tmp_path, caplog):
    params = load_params(write_params(tmp_path))
    with caplog.at_level(logging.WARNING, logger="spurious_rewards.commands.analyze"):
        assert analysis.upstream_provenance(params)["backends"] == []
    missing = provenance.provenance_path(paths.completions(params.results_dir, "toy", paths.BASE_RUN))
    assert any(str(missing) in rec.getMessage() for rec in caplog.records)


# -- bench/gpu_check.py -----------------------------------------------------------------------------
def _gpu_check(monkeypatch, tmp_path, failing):
    sys.path.insert(0, str(REPO / "bench"))
    import gpu_check
    import torch

    from spurious_rewards.training import smoke

    def section(name):
        def measure(*args, **kwargs):
            if name in failing:
                raise RuntimeError(f"{name} broke")
            return {"ok": 1.0}
        return measure

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i: "fake")
    monkeypatch.setattr(smoke, "build_base_model", lambda *a, **k: tmp_path)
    monkeypatch.setattr(gpu_check, "grpo", section("grpo"))
    monkeypatch.setattr(gpu_check, "tiny_generation", lambda base: {"tiny_bf16_generate": section("gen")()})
    monkeypatch.setattr(gpu_check, "shape_costs", section("shape"))
    monkeypatch.setattr(gpu_check, "estimate", lambda *a: {"gpu_hours": 1.0})
    monkeypatch.setattr(sys, "argv", ["gpu_check.py", "--runs", "1"])
    return gpu_check.main()


def test_gpu_check_exits_nonzero_when_every_section_failed(monkeypatch, tmp_path, capsys):
    assert _gpu_check(monkeypatch, tmp_path, {"grpo", "gen", "shape"}) != 0
    assert "grpo broke" in capsys.readouterr().out


def test_gpu_check_exits_nonzero_when_one_section_failed(monkeypatch, tmp_path, capsys):
    assert _gpu_check(monkeypatch, tmp_path, {"shape"}) != 0
    out = capsys.readouterr()
    assert "shape_1.5b" in out.err and "failed" in out.err


def test_gpu_check_exits_zero_when_every_section_measured(monkeypatch, tmp_path):
    assert _gpu_check(monkeypatch, tmp_path, set()) == 0
