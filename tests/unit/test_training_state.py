"""A run's resume state is dropped when its settings changed (else a rerun re-exports the old run)."""

from __future__ import annotations

import json

from spurious_rewards.training import checkpoints


def _fake_state(state):
    ckpt = checkpoints.trl_dir(state) / "checkpoint-4"
    ckpt.mkdir(parents=True)
    checkpoints.mark_complete(ckpt, step=4)
    (checkpoints.export_dir(state) / "step000002").mkdir(parents=True)
    (checkpoints.tensorboard_dir(state)).mkdir()
    return ckpt


def test_same_settings_keep_the_state_to_resume(tmp_path):
    state = tmp_path / "state"
    assert checkpoints.reset_if_changed(state, {"params": "a", "training_set": "x"}) is False
    ckpt = _fake_state(state)
    assert checkpoints.reset_if_changed(state, {"params": "a", "training_set": "x"}) is False
    assert checkpoints.latest_complete(state) == ckpt


def test_changed_settings_start_afresh(tmp_path):
    state = tmp_path / "state"
    checkpoints.reset_if_changed(state, {"params": "lr=3e-5", "training_set": "x"})
    _fake_state(state)
    assert checkpoints.reset_if_changed(state, {"params": "lr=3e-3", "training_set": "x"}) is True
    assert checkpoints.latest_complete(state) is None
    assert not checkpoints.export_dir(state).exists()
    assert checkpoints.tensorboard_dir(state).is_dir()  # logs of earlier runs are kept
    recorded = json.loads(checkpoints.settings_path(state).read_text())
    assert recorded == {"params": "lr=3e-3", "training_set": "x"}


def test_state_without_a_record_is_not_trusted(tmp_path):
    """State written before settings were recorded cannot be checked: it is dropped once."""
    state = tmp_path / "state"
    _fake_state(state)
    assert checkpoints.reset_if_changed(state, {"params": "a"}) is True
    assert checkpoints.latest_complete(state) is None
