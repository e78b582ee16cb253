"""The GPU benchmark scripts' CPU-side logic: the job order, the parameter file, the estimate.

Their CUDA parts ran on a lent H200 (BENCHMARKS.md section 7); here we check what decides whether
such a run is meaningful before any device time is spent.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))

import gpu_check  # noqa: E402
import gpu_stages  # noqa: E402

from spurious_rewards import stages  # noqa: E402
from spurious_rewards.config import load_params  # noqa: E402


@pytest.fixture()
def gpu_params(tmp_path):
    path = tmp_path / "params.gpu.yaml"
    path.write_text(yaml.safe_dump(gpu_stages.gpu_params(20)), encoding="utf-8")
    return load_params(path)


def test_gpu_parameters_validate_and_ask_for_cuda_bf16_eager(gpu_params):
    assert gpu_params.experiment["device"] == "cuda"
    train = gpu_params.train("toy", "random")
    assert (train["precision"], train["attn_implementation"], train["steps"]) == ("bf16", "eager", 20)


def test_jobs_follow_the_stage_table_with_every_wildcard_combination(gpu_params):
    jobs = gpu_stages.jobs(gpu_params)
    names = [name for name, _ in jobs]
    # each stage's jobs come after every job of the stages before it in the table
    order = [st.name for st in stages.STAGES]
    assert names == sorted(names, key=order.index)
    assert names.count("train") == names.count("evaluate") == names.count("grade") == 3
    assert {wc["condition"] for name, wc in jobs if name == "train"} == {"ground_truth", "majority_vote", "random"}
    assert len(jobs) == 16


def test_gpu_hours_estimate_from_rates():
    costs = {"hf_generate": {"tokens_per_s": 1000.0}, "train_tokens_per_s": 4000.0}
    est = gpu_check.estimate(costs, runs=10, prompt_tokens=100, completion_tokens=500)
    responses = 300 * 1024
    gen_h = responses * 500 / 1000 / 3600
    train_h = responses * 600 / 4000 * 4 / 3 / 3600
    assert est["per_run_gpu_hours"]["generation_hf"] == round(gen_h, 1) == 42.7
    assert est["per_run_gpu_hours"]["training"] == round(train_h, 1) == 17.1
    assert est["matrix_gpu_hours"] == round((gen_h + train_h) * 10, 1)


def test_paper_matrix_size_comes_from_the_preset():
    from spurious_rewards.config import load_params

    paper = load_params(REPO / "presets" / "paper.yaml")
    assert gpu_check.paper_runs() == len(paper.runs()) == len(paper.models) * len(paper.conditions) * 3


@pytest.mark.parametrize("script", ["gpu_check.py", "gpu_stages.py"])
def test_scripts_exit_cleanly_without_cuda(script):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    proc = subprocess.run([sys.executable, str(REPO / "bench" / script)], cwd=REPO, capture_output=True,
                          text=True, timeout=120, env={"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1",
                                                       "PYTHONPATH": str(REPO / "src")})
    assert proc.returncode == 0, proc.stderr
    assert "CUDA is not available" in proc.stdout
