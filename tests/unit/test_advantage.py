"""The paper's token-weighted whitening of the rollout's advantages (training/advantage.py), against a
hand computation, over one and over two processes."""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from spurious_rewards.training.advantage import (
    TOKEN_PROBABILITY,
    token_probability,
    token_whiten,
    trainer_class,
)

REPO = Path(__file__).resolve().parents[2]

# Four sequences after group normalisation, with 2, 1, 3 and 2 completion tokens.
ADV = [1.0, -1.0, 0.5, 0.0]
LENGTHS = [2, 1, 3, 2]
# By hand: token mean = (2*1 - 1*1 + 3*0.5 + 2*0) / 8 = 2.5 / 8 = 0.3125
# deviations 0.6875, -1.3125, 0.1875, -0.3125; token variance (population, over the 8 tokens) =
# (2*0.47265625 + 1.72265625 + 3*0.03515625 + 2*0.09765625) / 8 = 2.96875 / 8 = 0.37109375
MEAN, VAR = 0.3125, 0.37109375
EXPECTED = [d / math.sqrt(VAR) for d in (0.6875, -1.3125, 0.1875, -0.3125)]


def test_token_whitening_matches_the_hand_computation():
    out, mean, std = token_whiten(torch.tensor(ADV), torch.tensor(LENGTHS))
    assert out.dtype == torch.float32
    assert out.tolist() == pytest.approx(EXPECTED, rel=1e-6)
    assert out.tolist() == pytest.approx([1.1285762, -2.1545545, 0.3077935, -0.5129892], rel=1e-6)
    assert (mean, std) == (pytest.approx(MEAN), pytest.approx(math.sqrt(VAR)))
    # weighted by tokens, not by sequences: the token mean is removed, the sequence mean is not
    assert sum(out.tolist()) / 4 != pytest.approx(0.0, abs=1e-3)
    w = torch.tensor(LENGTHS, dtype=torch.float64)
    assert float((out.double() * w).sum() / w.sum()) == pytest.approx(0.0, abs=1e-7)


def test_all_equal_advantages_become_zero_not_nan():
    # an all-zero rollout (every group all-equal): var 0 is floored at 1e-8, as OpenRLHF clamps it
    out, _, std = token_whiten(torch.zeros(4), torch.tensor(LENGTHS))
    assert out.tolist() == [0.0] * 4 and std == 0.0


def test_zero_groups_get_a_nonzero_advantage_after_the_mean_shift():
    # group A informative (+1/-1 after group norm), group B all-equal (0): B's tokens move too
    out, _, _ = token_whiten(torch.tensor([1.0, -1.0, 0.0, 0.0]), torch.tensor([4, 1, 2, 2]))
    assert out[2] == out[3] and float(out[2]) < 0


_WORKER = textwrap.dedent("""
    import json, os, sys
    import torch
    import torch.distributed as dist
    from spurious_rewards.training.advantage import token_whiten
    rank = int(os.environ["RANK"])
    dist.init_process_group("gloo", rank=rank, world_size=2)
    adv, lengths = json.loads(sys.argv[1])
    def reduce_sum(t):
        t = t.clone()
        dist.all_reduce(t)
        return t
    out, mean, std = token_whiten(torch.tensor(adv[rank]), torch.tensor(lengths[rank]), reduce_sum)
    print(json.dumps({"out": out.tolist(), "mean": mean, "std": std}))
    dist.destroy_process_group()
""")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_processes_use_the_statistics_of_the_whole_rollout(tmp_path):
    # rank 0 holds sequences 0-1, rank 1 holds 2-3: each must get its slice of the one-process result
    script = tmp_path / "worker.py"
    script.write_text(_WORKER)
    shards = json.dumps([[ADV[:2], ADV[2:]], [LENGTHS[:2], LENGTHS[2:]]])
    port = str(_free_port())
    procs = []
    for rank in (0, 1):
        env = dict(os.environ, RANK=str(rank), WORLD_SIZE="2", MASTER_ADDR="127.0.0.1", MASTER_PORT=port,
                   PYTHONPATH=str(REPO / "src"), OMP_NUM_THREADS="1")
        procs.append(subprocess.Popen([sys.executable, str(script), shards], env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert results[0]["out"] + results[1]["out"] == pytest.approx(EXPECTED, rel=1e-6)
    assert results[0]["mean"] == results[1]["mean"] == pytest.approx(MEAN)


def test_trainer_class_follows_the_setting():
    from trl import GRPOTrainer

    assert trainer_class("none") is GRPOTrainer
    cls = trainer_class("token")
    assert issubclass(cls, GRPOTrainer) and cls is not GRPOTrainer
    # the TRL method we extend still exists under this name (a TRL upgrade that renames it fails here)
    assert "_generate_and_score_completions" in cls.__dict__
    assert hasattr(GRPOTrainer, "_generate_and_score_completions")
    with pytest.raises(ValueError, match="advantage_whitening"):
        trainer_class("batch")


def test_token_probability_is_the_mean_over_completion_tokens_only():
    logps = torch.log(torch.tensor([[0.5, 0.25, 0.9], [1.0, 0.1, 0.2]]))
    mask = torch.tensor([[1, 1, 0], [1, 0, 0]])
    # (0.5 + 0.25 + 1.0) / 3 tokens: the masked 0.9, 0.1 and 0.2 do not count
    assert token_probability(logps, mask) == pytest.approx(1.75 / 3)
    assert math.isnan(token_probability(logps, torch.zeros_like(mask)))


def test_token_probability_sums_over_processes():
    # a second process holding the same slice doubles both sums: the mean is unchanged, the reduce used
    logps, mask = torch.log(torch.tensor([[0.5, 0.2]])), torch.tensor([[1, 1]])
    calls = []

    def reduce_sum(t):
        calls.append(t)
        return torch.stack([t[0] * 2 + 0.3, t[1] * 2 + 1])  # other process: one token of probability 0.3

    assert token_probability(logps, mask, reduce_sum) == pytest.approx((0.7 * 2 + 0.3) / 5)
    assert calls


def test_token_probability_trainer_logs_and_computes_missing_logps():
    from trl import GRPOTrainer

    cls = trainer_class("none", log_token_probability=True)
    assert issubclass(cls, GRPOTrainer) and cls is not trainer_class("token")
    assert cls is trainer_class("none", log_token_probability=True)
    # the TRL method the one-update case calls still exists under this name and signature
    assert hasattr(GRPOTrainer, "_get_per_token_logps_and_entropies")
    assert TOKEN_PROBABILITY.replace("/", "_") == "token_probability_mean"

    class Fake:
        class args:
            per_device_train_batch_size = 2
        model = object()
        seen = []

        def _get_per_token_logps_and_entropies(self, model, ids, attention, keep, batch_size):
            self.seen.append((ids.tolist(), attention.tolist(), keep, batch_size))
            return torch.full((ids.size(0), keep), -1.0), None, None

    output = {"prompt_ids": torch.tensor([[7, 8]]), "prompt_mask": torch.tensor([[1, 1]]),
              "completion_ids": torch.tensor([[3, 4, 5]]), "completion_mask": torch.tensor([[1, 1, 0]])}
    # one update per rollout: TRL left old_per_token_logps out, so one forward pass computes them
    got = cls._sampled_logps(Fake(), output)
    assert got.shape == (1, 3) and Fake.seen == [([[7, 8, 3, 4, 5]], [[1, 1, 1, 1, 0]], 3, 2)]
    # several updates: TRL's own rollout-policy logps are used, no extra pass
    old = torch.zeros(1, 3)
    assert cls._sampled_logps(Fake(), {**output, "old_per_token_logps": old}) is old
    assert len(Fake.seen) == 1
