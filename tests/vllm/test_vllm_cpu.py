"""TRL's colocated vLLM rollouts on CPU: the private vLLM switch they rely on is where we expect it, and a
few GRPO steps with `use_vllm: true, vllm_mode: colocate` run through `python -m spurious_rewards train`
on the smoke toy model, with vLLM and the trainer agreeing on the updated weights."""

from __future__ import annotations

import csv
import importlib
import inspect
import subprocess
import sys

import pytest
import yaml

pytest.importorskip("vllm")

from spurious_rewards import scratch  # noqa: E402
from spurious_rewards.training import vllm_cpu  # noqa: E402

pytestmark = pytest.mark.vllm


def test_the_onednn_switch_is_where_vllm_reads_it(monkeypatch):
    """Fails when a vLLM upgrade moves or renames the switch, or stops reading it in the CPU linear
    dispatch: then TRL's weight sync on CPU breaks again (training/vllm_cpu.py)."""
    module = importlib.import_module(vllm_cpu.SWITCH_MODULE)
    assert isinstance(getattr(module, vllm_cpu.SWITCH_NAME), bool)
    utils = importlib.import_module("vllm.model_executor.layers.utils")
    assert f"ops.{vllm_cpu.SWITCH_NAME}" in inspect.getsource(utils)
    monkeypatch.setattr(module, vllm_cpu.SWITCH_NAME, True)
    vllm_cpu.disable_onednn_linear()
    assert getattr(module, vllm_cpu.SWITCH_NAME) is False


def test_a_moved_switch_fails_loudly(monkeypatch):
    monkeypatch.setattr(vllm_cpu, "SWITCH_NAME", "_no_such_switch")
    with pytest.raises(RuntimeError, match="has moved"):
        vllm_cpu.disable_onednn_linear()


def test_grpo_with_colocated_vllm_rollouts_on_cpu(smoke_checkout):
    params = yaml.safe_load((smoke_checkout / "params.yaml").read_text())
    # A random reward gives every step an update, and a large learning rate moves the weights far, so
    # a vLLM that kept the old weights would drift away from the trainer at once. The importance-
    # sampling correction makes TRL log vLLM's logprobs against the trainer's.
    params["train"].update({"use_vllm": True, "vllm_mode": "colocate", "steps": 3, "save_every": 3,
                            "learning_rate": 1e-3, "vllm_importance_sampling_correction": True})
    (smoke_checkout / "params-colocate.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    env = scratch.scratch_env(smoke_checkout)
    for key in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    proc = subprocess.run([sys.executable, "-m", "spurious_rewards", "train", "--params", "params-colocate.yaml",
                           "--model", "toy", "--condition", "random", "--seed", "1"],
                          cwd=smoke_checkout, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]
    metrics = smoke_checkout / params["experiment"]["results_dir"] / "runs" / "toy" / "random" / "seed1"
    rows = list(csv.DictReader((metrics / "train_metrics.csv").open()))
    assert len(rows) >= 3
    # vLLM's logprobs of its own samples against the trainer's: they differ only by kernel rounding
    # when the weight sync works; a stale vLLM (no sync) drifts away as the weights change.
    diff_cols = [c for c in rows[0] if "logp_difference" in c and "mean" in c]
    assert diff_cols, sorted(rows[0])
    diffs = [float(row[diff_cols[0]]) for row in rows if row[diff_cols[0]]]
    print(f"{diff_cols[0]} per rollout step: {diffs}")
    assert len(diffs) >= 3 and max(diffs) < 0.05, diffs
