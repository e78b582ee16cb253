"""Real GRPO runs on a tiny model: resume after preemption is exact; NaNs stop the run.

One uninterrupted run is the reference. A second run gets SIGTERM inside rollout step 2 (so it stops
without a save and keeps only the rollout-1 checkpoint), a half-written checkpoint folder is planted,
and the rerun resumes: the final weights and every metrics row must equal the reference.
"""

from __future__ import annotations

import os
import signal

import pandas as pd
import pytest
import torch
from safetensors.torch import load_file
from transformers import TrainerCallback

from spurious_rewards import paths
from spurious_rewards.commands import train as stage
from spurious_rewards.config import load_params
from spurious_rewards.training import checkpoints, smoke
from spurious_rewards.training.callbacks import NonFiniteError
from tests.conftest import REPO

# random reward: non-zero advantages even for an untrained model, and seeded per (seed, step, id)
MODEL, COND, SEED = "toy", "random", 1
# 3 rollout steps x 2 optimizer updates, a checkpoint after every rollout step.
TRAIN = {"steps": 3, "save_every": 1, "prompts_per_step": 4, "generations_per_prompt": 4, "optimizer_batch": 8,
         "max_completion_length": 12}


def _setup(root, **train):
    pf = smoke.write_setup(root, REPO / "params.yaml", n_rows=12, **{**TRAIN, **train})
    params = load_params(pf)
    params.raw["experiment"]["torch_threads"] = 1  # two test runs may share the 2 cores
    return params


def _weights(params, step):
    folder = paths.checkpoints_dir(params.results_dir, MODEL, COND, SEED) / paths.step_name(step)
    return load_file(str(folder / "model.safetensors"))


class SigtermAt(TrainerCallback):
    """Deliver SIGTERM to this process at the end of optimizer update `step` (as SLURM would)."""

    def __init__(self, step):
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            os.kill(os.getpid(), signal.SIGTERM)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    params = _setup(tmp_path_factory.mktemp("reference"))
    summary = stage.run(params, MODEL, COND, SEED)
    return params, summary


def test_uninterrupted_run_writes_declared_outputs(reference):
    params, summary = reference
    r = params.results_dir
    ckpt_dir = paths.checkpoints_dir(r, MODEL, COND, SEED)
    assert sorted(p.name for p in ckpt_dir.iterdir() if p.is_dir()) == ["step000001", "step000002", "step000003"]
    assert (ckpt_dir / "provenance.json").is_file()
    metrics = pd.read_csv(paths.train_metrics(r, MODEL, COND, SEED))
    assert metrics["step"].tolist() == [1, 2, 3, 4, 5, 6]
    assert metrics["rollout_step"].tolist() == [1, 1, 2, 2, 3, 3]
    # rollout metrics only on the update that generated; code frequency is a share in [0, 1]
    assert metrics["reward_mean"].notna().tolist() == [True, False] * 3
    assert metrics["code_reasoning_frequency"].dropna().between(0, 1).all()
    for col in ("loss", "grad_norm", "learning_rate", "entropy", "clip_ratio_region_mean",
                "reward_random_mean", "frac_reward_zero_std", "completion_mean_length"):
        assert col in metrics.columns, col
    # each checkpoint loads the way the evaluate stage loads it
    from transformers import AutoModelForCausalLM

    from spurious_rewards.model.loading import load_tokenizer

    model = AutoModelForCausalLM.from_pretrained(ckpt_dir / "step000003")
    tok = load_tokenizer(ckpt_dir / "step000003")
    assert model.config.vocab_size == 512 and tok.eos_token == "<|im_end|>"
    # the run changed the weights
    base = load_file(str(paths.base_model(r, MODEL) / "model.safetensors"))
    final = _weights(params, 3)
    assert any(not torch.equal(base[k], final[k]) for k in final)


def test_sigterm_then_resume_matches_uninterrupted(reference, tmp_path, capfd):
    ref_params, _ = reference
    params = _setup(tmp_path)
    state = paths.train_state_dir(params.results_dir, MODEL, COND, SEED)

    # SIGTERM after update 2: the run stops at the end of update 3, inside rollout step 2, so it saves
    # nothing more (exit code 143 through Preempted) and only the rollout-1 checkpoint remains
    with pytest.raises(stage.Preempted, match="update 3"):
        stage.run(params, MODEL, COND, SEED, callbacks=[SigtermAt(2)])
    assert [checkpoints.global_step_of(c) for c in checkpoints.checkpoints(state)] == [2]
    assert not paths.checkpoints_dir(params.results_dir, MODEL, COND, SEED).exists()
    # a save that was killed half-way: no COMPLETE mark, must be ignored and removed
    half = checkpoints.trl_dir(state) / "checkpoint-4"
    half.mkdir()
    (half / "model.safetensors").write_bytes(b"truncated")

    capfd.readouterr()
    summary = stage.run(params, MODEL, COND, SEED)
    assert summary["resumed_from"].endswith("checkpoint-2")
    # the planted folder was removed; checkpoint-4 is now the real one, kept as the fallback of checkpoint-6
    assert checkpoints.is_complete(half) and checkpoints.verify(half) is None
    assert (half / "model.safetensors").read_bytes() != b"truncated"
    # the job's log (stderr) counts rollout steps from where it resumed, with an ETA
    progress = [line for line in capfd.readouterr().err.splitlines() if ": rollout step: " in line]
    assert progress[0].startswith(f"train {MODEL}/{COND}/seed{SEED}: rollout step: 1/3 step (33%)")
    assert "3/3 step (100%)" in progress[-1] and "ETA 00:00" in progress[-1]
    for step in (1, 2, 3):
        ref, got = _weights(ref_params, step), _weights(params, step)
        assert ref.keys() == got.keys()
        assert all(torch.equal(ref[k], got[k]) for k in ref), f"weights differ at step {step}"
    ref_m = pd.read_csv(paths.train_metrics(ref_params.results_dir, MODEL, COND, SEED))
    got_m = pd.read_csv(paths.train_metrics(params.results_dir, MODEL, COND, SEED))
    pd.testing.assert_frame_equal(ref_m, got_m)

    # Snakemake/DVC delete declared outputs before a rerun: they come back from the state dir unchanged
    import shutil

    shutil.rmtree(paths.checkpoints_dir(params.results_dir, MODEL, COND, SEED))
    paths.train_metrics(params.results_dir, MODEL, COND, SEED).unlink()
    again = stage.run(params, MODEL, COND, SEED)
    assert again["resumed_from"].endswith("checkpoint-6") and again["steps"] == [1, 2, 3]
    assert all(torch.equal(ref_w, _weights(params, 3)[k]) for k, ref_w in _weights(ref_params, 3).items())
    pd.testing.assert_frame_equal(ref_m, pd.read_csv(paths.train_metrics(params.results_dir, MODEL, COND, SEED)))


def test_non_finite_loss_stops_before_the_update(tmp_path):
    # A learning rate of 1e30 makes the first Adam update blow the weights up; the next update's
    # loss/gradients are non-finite and must never reach the optimizer or a checkpoint.
    params = _setup(tmp_path, steps=2, save_every=2, learning_rate=1.0e30)
    state = paths.train_state_dir(params.results_dir, MODEL, COND, SEED)
    with pytest.raises(NonFiniteError, match=r"non-finite .* at optimizer update 2"):
        stage.run(params, MODEL, COND, SEED)
    assert checkpoints.checkpoints(state) == []
    assert not paths.train_metrics(params.results_dir, MODEL, COND, SEED).exists()


def test_paper_options_in_a_real_run(tmp_path, monkeypatch):
    # save_every 3 of 3 steps would export step 3 only; the final window of 2 adds step 2. The paper's
    # token whitening runs on every rollout: the advantages TRL trains on have token mean 0, std 1.
    # reward_text with_special_tokens decodes TRL's completion_ids (the run fails if TRL stops passing them).
    from spurious_rewards.training import advantage

    seen = []
    original = advantage.token_whiten

    def spy(adv, lengths, reduce_sum=advantage._identity):
        out = original(adv, lengths, reduce_sum)
        seen.append((adv.clone(), lengths.clone(), out[0].clone()))
        return out

    monkeypatch.setattr(advantage, "token_whiten", spy)
    params = _setup(tmp_path, save_every=3, save_final_window=2, advantage_whitening="token",
                    reward_text="with_special_tokens")
    summary = stage.run(params, MODEL, COND, SEED)
    assert summary["steps"] == [2, 3]
    ckpt_dir = paths.checkpoints_dir(params.results_dir, MODEL, COND, SEED)
    assert sorted(p.name for p in ckpt_dir.iterdir() if p.is_dir()) == ["step000002", "step000003"]
    assert len(seen) == 3  # one whitening per rollout step (16 responses each)
    for adv, lengths, out in seen:
        assert adv.shape == (16,) and int(lengths.min()) >= 1
        w = lengths.double()
        if float(adv.abs().max()) > 0:
            assert float((out.double() * w).sum() / w.sum()) == pytest.approx(0.0, abs=1e-6)
            assert float(((out.double() ** 2) * w).sum() / w.sum()) == pytest.approx(1.0, rel=1e-5)
    metrics = pd.read_csv(paths.train_metrics(params.results_dir, MODEL, COND, SEED))
    logged = metrics.filter(like="whitening")
    assert logged.shape[1] == 2 and logged.notna().any().all(), list(metrics.columns)
