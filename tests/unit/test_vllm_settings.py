"""What the vLLM settings do without vLLM installed: server mode refused by the schema, the CPU colocate
preparation a no-op off CPU or without vLLM rollouts, the single-process distributed variables."""

from __future__ import annotations

import os

import pytest
import yaml

from spurious_rewards.config import ParamsError, _merge, validate_against_schema
from spurious_rewards.training import vllm_cpu


def test_server_mode_is_refused_with_a_reason(repo):
    params = _merge(yaml.safe_load((repo / "params.yaml").read_text()), {"train": {"vllm_mode": "server"}})
    with pytest.raises(ParamsError, match=r"key train\.vllm_mode: .*server mode \(trl vllm-serve\) has never"):
        validate_against_schema(params, "p.yaml")
    params["train"]["vllm_mode"] = "colocate"
    validate_against_schema(params, "p.yaml")


def _unset(monkeypatch, keys) -> None:
    # setenv first so that monkeypatch restores each key's absence too: what the code under test sets
    # (RANK, WORLD_SIZE ...) must not leak into later tests, where it would make TRL expect a process group
    for key in keys:
        monkeypatch.setenv(key, "")
        monkeypatch.delenv(key)


def test_prepare_touches_nothing_off_cpu_or_without_vllm(monkeypatch):
    _unset(monkeypatch, ("RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "VLLM_CPU_KVCACHE_SPACE"))
    vllm_cpu.prepare({"use_vllm": False, "vllm_mode": "colocate"}, "cpu")
    vllm_cpu.prepare({"use_vllm": True, "vllm_mode": "colocate"}, "cuda")
    assert "RANK" not in os.environ and "VLLM_CPU_KVCACHE_SPACE" not in os.environ


def test_single_process_env_fills_only_what_is_missing(monkeypatch):
    _unset(monkeypatch, ("RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"))
    monkeypatch.setenv("MASTER_ADDR", "127.0.0.2")
    env = vllm_cpu.single_process_env()
    assert env["RANK"] == env["LOCAL_RANK"] == "0" and env["WORLD_SIZE"] == "1"
    assert env["MASTER_ADDR"] == "127.0.0.2"
    assert 0 < int(env["MASTER_PORT"]) < 65536


@pytest.mark.vllm
def test_vllm_backend_names_its_devices(tmp_path):
    pytest.importorskip("vllm")
    from spurious_rewards.generation import make_generator

    with pytest.raises(RuntimeError, match="runs on cuda or cpu"):
        make_generator("vllm", tmp_path, device="mps", batch_size=4,
                       vllm_options={"tensor_parallel_size": 1, "gpu_memory_utilization": 0.5,
                                     "batch_invariant": False})
