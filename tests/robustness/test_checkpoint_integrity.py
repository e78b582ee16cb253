"""Issue 13 item 3: a damaged checkpoint never blocks a run, and damage never spreads.

Real GRPO runs on the tiny model (3 rollout steps x 2 optimizer updates, a checkpoint per rollout step).
The newest TRL checkpoint's weights are truncated after its COMPLETE mark was written: the rerun must
set it aside, resume from the one before (which pruning kept), and end with the same weights as the
undamaged run. Damage to one copy of a model (TRL checkpoint, export, declared output) must not reach
the others, and a damaged export must never be materialised as a declared output.
"""

from __future__ import annotations

import logging
import os
import shutil

import pytest
import torch
from safetensors.torch import load_file

from spurious_rewards import paths
from spurious_rewards.commands import train as stage
from spurious_rewards.config import load_params
from spurious_rewards.io import DataError
from spurious_rewards.training import checkpoints, smoke
from tests.conftest import REPO

MODEL, COND, SEED = "toy", "random", 1
TRAIN = {"steps": 3, "save_every": 1, "prompts_per_step": 4, "generations_per_prompt": 4, "optimizer_batch": 8,
         "max_completion_length": 12}
UMASK = 0o022


def _truncate(path, keep=100):
    """Damage a file in place (same inode, as a crash or a bad disk would)."""
    with open(path, "r+b") as fh:
        fh.truncate(keep)


def _flip(path, offset=-10):
    """Same size, different content: only the hash can tell."""
    with open(path, "r+b") as fh:
        fh.seek(offset, os.SEEK_END)
        byte = fh.read(1)
        fh.seek(offset, os.SEEK_END)
        fh.write(bytes([byte[0] ^ 0xFF]))


def _weights(folder):
    return load_file(str(folder / "model.safetensors"))


def _same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    old = os.umask(UMASK)
    try:
        root = tmp_path_factory.mktemp("trained")
        params = load_params(smoke.write_setup(root, REPO / "params.yaml", n_rows=12, **TRAIN))
        params.raw["experiment"]["torch_threads"] = 1
        stage.run(params, MODEL, COND, SEED)
    finally:
        os.umask(old)
    r = params.results_dir
    reference = {s: _weights(paths.checkpoints_dir(r, MODEL, COND, SEED) / paths.step_name(s)) for s in (1, 2, 3)}
    return params, reference


def test_model_files_are_readable_as_the_umask_says(trained):
    """Item 6: safetensors writes 0600; every model file must be 0644 under umask 022."""
    params, _ = trained
    r = params.results_dir
    state = paths.train_state_dir(r, MODEL, COND, SEED)
    weights = [paths.base_model(r, MODEL) / "model.safetensors",
               *checkpoints.trl_dir(state).glob("checkpoint-*/model.safetensors"),
               *checkpoints.export_dir(state).glob("step*/model.safetensors"),
               *paths.checkpoints_dir(r, MODEL, COND, SEED).glob("step*/model.safetensors"),
               paths.final_model(r, MODEL, COND, SEED) / "model.safetensors"]
    assert len(weights) == 1 + 2 + 3 + 3 + 1
    modes = {str(w): oct(w.stat().st_mode & 0o777) for w in weights}
    assert set(modes.values()) == {"0o644"}, modes


def test_pruning_keeps_a_fallback_and_the_mark_lists_hashes(trained):
    params, _ = trained
    state = paths.train_state_dir(params.results_dir, MODEL, COND, SEED)
    assert [checkpoints.global_step_of(c) for c in checkpoints.checkpoints(state)] == [4, 6]
    mark = checkpoints.read_mark(checkpoints.trl_dir(state) / "checkpoint-6")
    entry = mark["files"]["model.safetensors"]
    assert entry["size"] == (checkpoints.trl_dir(state) / "checkpoint-6" / "model.safetensors").stat().st_size
    assert len(entry["sha256"]) == 64 and "optimizer.pt" in mark["files"]


def test_truncated_newest_checkpoint_is_set_aside_and_the_run_resumes(trained, tmp_path, caplog):
    src_params, reference = trained
    root = tmp_path / "copy"
    shutil.copytree(src_params.results_dir.parent, root, symlinks=True)
    params = load_params(_rewrite(root))
    params.raw["experiment"]["torch_threads"] = 1
    r = params.results_dir
    state = paths.train_state_dir(r, MODEL, COND, SEED)
    newest = checkpoints.trl_dir(state) / "checkpoint-6"
    _truncate(newest / "model.safetensors")
    # the export is a copy, not a hardlink: the damage did not reach it
    assert _same(_weights(checkpoints.export_dir(state) / "step000003"), reference[3])
    # Snakemake/DVC delete declared outputs before a rerun
    shutil.rmtree(paths.checkpoints_dir(r, MODEL, COND, SEED))
    shutil.rmtree(paths.final_model(r, MODEL, COND, SEED))
    with caplog.at_level(logging.WARNING, logger="spurious_rewards.training.checkpoints"):
        summary = stage.run(params, MODEL, COND, SEED)
    assert summary["resumed_from"].endswith("checkpoint-4")
    assert any("checkpoint-6" in rec.getMessage() and "moved aside" in rec.getMessage() for rec in caplog.records)
    assert (checkpoints.trl_dir(state) / "checkpoint-6.corrupt" / "model.safetensors").stat().st_size == 100
    assert checkpoints.verify(newest) is None  # the retrained update 6 wrote a whole new checkpoint
    for step in (1, 2, 3):
        got = _weights(paths.checkpoints_dir(r, MODEL, COND, SEED) / paths.step_name(step))
        assert _same(got, reference[step]), f"weights differ at rollout step {step}"
    assert _same(_weights(paths.final_model(r, MODEL, COND, SEED)), reference[3])

    # damage to a declared output stays there: the export and the other outputs keep their bytes
    _truncate(paths.final_model(r, MODEL, COND, SEED) / "model.safetensors")
    assert _same(_weights(checkpoints.export_dir(state) / "step000003"), reference[3])
    assert _same(_weights(paths.checkpoints_dir(r, MODEL, COND, SEED) / "step000003"), reference[3])

    # a damaged export is refused by name, never materialised as a declared output
    _flip(checkpoints.export_dir(state) / "step000002" / "model.safetensors")
    dest = tmp_path / "materialised"
    with pytest.raises(DataError, match=r"step000002/model\.safetensors.*sha256"):
        checkpoints.materialise(state, dest, [1, 2, 3])
    assert not dest.exists()
    _truncate(checkpoints.export_dir(state) / "step000003" / "model.safetensors")
    with pytest.raises(DataError, match=r"step000003/model\.safetensors: 100 bytes"):
        checkpoints.materialise_final(state, tmp_path / "final", 3)
    assert not (tmp_path / "final").exists()


def _rewrite(root):
    """The copied params file pointed at the copied results folder."""
    import yaml

    pf = root / "params.yaml"
    raw = yaml.safe_load(pf.read_text(encoding="utf-8"))
    raw["experiment"]["results_dir"] = str(root / "results")
    pf.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return pf


def test_every_checkpoint_damaged_restarts_from_the_base_model(tmp_path, caplog):
    trl = checkpoints.trl_dir(tmp_path)
    for step in (2, 4):
        (trl / f"checkpoint-{step}").mkdir(parents=True)
        (trl / f"checkpoint-{step}" / "model.safetensors").write_bytes(b"x" * 64)
        checkpoints.mark_complete(trl / f"checkpoint-{step}")
        _truncate(trl / f"checkpoint-{step}" / "model.safetensors", keep=10)
    with caplog.at_level(logging.WARNING, logger="spurious_rewards.training.checkpoints"):
        assert checkpoints.latest_complete(tmp_path) is None
    assert sorted(p.name for p in trl.iterdir()) == ["checkpoint-2.corrupt", "checkpoint-4.corrupt"]
    assert any("starts again from the base model" in rec.getMessage() for rec in caplog.records)


def test_export_refuses_a_checkpoint_that_changed_since_its_mark(tmp_path):
    ckpt = checkpoints.trl_dir(tmp_path) / "checkpoint-2"
    ckpt.mkdir(parents=True)
    (ckpt / "model.safetensors").write_bytes(b"w" * 64)
    (ckpt / "optimizer.pt").write_bytes(b"o" * 64)
    checkpoints.mark_complete(ckpt)
    _flip(ckpt / "model.safetensors")
    with pytest.raises(DataError, match=r"checkpoint-2: exporting rollout step 1: model\.safetensors differ"):
        checkpoints.export(ckpt, tmp_path, 1, 2)
    assert checkpoints.exported_steps(tmp_path) == []
