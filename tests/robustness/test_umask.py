"""Issue 13 item 6: outputs are readable as the umask says (safetensors and mkstemp make 0600 files).

The checkpoints, export and final model of a real GRPO run are checked in test_checkpoint_integrity.py.
"""

from __future__ import annotations

import argparse
import json
import os

import pytest
import yaml

from spurious_rewards import cli, paths
from spurious_rewards.commands import score
from tests.conftest import REPO


@pytest.fixture(params=[0o022, 0o027, 0o002], ids=oct)
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def test_score_output_follows_the_umask(tmp_path, umask):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"completion": r"\boxed{1}"}) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    parser = argparse.ArgumentParser()
    score.configure_parser(parser)
    assert score.main(parser.parse_args(["--reward", "format_boxed", str(src), str(out)])) == 0
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask


def test_base_stage_weights_follow_the_umask(tmp_path):
    """`base` pre-trains the tiny model (2 SFT steps here) and saves it with save_pretrained."""
    raw = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    raw["experiment"].update(results_dir=str(tmp_path / "results"), torch_threads=1)
    raw["data"]["train"]["n"] = 20
    for bench in raw["data"]["benchmarks"].values():
        bench["n"] = 5
    raw["models"]["toy"]["pretrain"].update(corpus_size=64, steps=2, batch_size=8, warmup_steps=0)
    pf = tmp_path / "params.yaml"
    pf.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    old = os.umask(0o022)
    try:
        assert cli.main(["data", "--params", str(pf)]) == 0
        assert cli.main(["base", "--params", str(pf), "--model", "toy"]) == 0
    finally:
        os.umask(old)
    base = paths.base_model(tmp_path / "results", "toy")
    modes = {f.name: oct(f.stat().st_mode & 0o777) for f in base.iterdir() if f.is_file()}
    assert "model.safetensors" in modes and set(modes.values()) == {"0o644"}, modes
