"""The toy path never contacts the Hugging Face Hub, with HF_HUB_OFFLINE unset.

Nothing in the package forces offline mode any more, so this runs the stage commands of a cut-down
smoke configuration (data, base with a tiny pre-training, one GRPO step, evaluation of the base) in
online mode with HF_ENDPOINT pointed at a server that records every request. Before the CLI turned
usage pings off, TRL's SFTTrainer and GRPOTrainer each sent one (`HEAD /api/telemetry/trl/...`),
and huggingface_hub fetched `/api/agent-harnesses` for it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from spurious_rewards.config import _merge
from tests.e2e.smoke import smoke_params
from tests.unit import fake_hub

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]


def test_toy_stages_make_no_hub_request(tmp_path):
    params = _merge(smoke_params(), {
        "experiment": {"results_dir": str(tmp_path / "results"), "conditions": ["random"], "seeds": [1]},
        "models": {"toy": {"pretrain": {"steps": 5, "corpus_size": 300}}},
        "train": {"steps": 1}})
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env.update(HF_HOME=str(tmp_path / "hf"), PYTHONPATH=str(REPO / "src"), TOKENIZERS_PARALLELISM="false")
    with fake_hub.recording_endpoint() as (url, seen):
        env["HF_ENDPOINT"] = url
        for args in (["data"], ["base", "--model", "toy"],
                     ["train", "--model", "toy", "--condition", "random", "--seed", "1"],
                     ["evaluate", "--model", "toy", "--base"]):
            out = subprocess.run([sys.executable, "-m", "spurious_rewards", *args, "--params", str(path)],
                                 cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
            assert out.returncode == 0, f"{args[0]}: {out.stderr[-3000:]}"
    assert (tmp_path / "results" / "runs" / "toy" / "random" / "seed1" / "train_metrics.csv").is_file()
    assert seen == []
