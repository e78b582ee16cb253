"""The paper preset's data files are declared inputs of the data stage (Snakemake, in a fresh clone).

Without external/, the dry run of presets/paper.yaml fails naming every missing file and how to get
it. With external/ linked to the paper's data (../shared/data, the layout of the paper's code/data),
the dry run plans the whole matrix; after the data stage has run, changing one source file makes
Snakemake plan `data` again, with that file as the reason.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.e2e import infra
from tests.e2e.smoke import scratch_checkout

pytestmark = pytest.mark.e2e
PAPER = ["--config", "params=presets/paper.yaml"]


def _snakemake(root: Path, *args: str, check: bool = True):
    return infra.run(["snakemake", "--cores", "1", *args, *PAPER], root, timeout=600, check=check)


def test_missing_paper_data_fails_the_dry_run_naming_each_file(tmp_path):
    root = scratch_checkout(tmp_path)
    out = _snakemake(root, "-n", check=False)
    assert out.returncode != 0
    text = out.stdout
    for key, path in [("data.train.paths[0]", "external/rethink_rlvr/DeepScaleR_Difficulty_Level_1"),
                      ("data.train.paths[4]", "external/rethink_rlvr/DeepScaleR_Difficulty_Level_5"),
                      ("data.one_shot.path", "external/rethink_rlvr/DeepScaleR_Difficulty_Level_4/train.json"),
                      ("data.benchmarks.aime25.path", "external/rethink_rlvr/AIME2025-TTT/test.json")]:
        assert f"presets/paper.yaml: {key}: {path} not found" in text, text[-4000:]
    assert "ln -s <Rethink_RLVR>/code/data external/rethink_rlvr" in text
    assert 'README, "The paper preset"' in text


def test_a_changed_source_file_reruns_the_data_stage(tmp_path, shared_data):
    root = scratch_checkout(tmp_path)
    # external/ as the README says (symlinks into the paper's data), except one benchmark file,
    # copied so that it can be touched here
    ext = root / "external" / "rethink_rlvr"
    ext.mkdir(parents=True)
    for folder in (shared_data / "rethink_rlvr").iterdir():
        if folder.name != "AIME2025-TTT":
            (ext / folder.name).symlink_to(folder)
    (ext / "AIME2025-TTT").mkdir()
    copied = ext / "AIME2025-TTT" / "test.json"
    copied.write_bytes((shared_data / "rethink_rlvr" / "AIME2025-TTT" / "test.json").read_bytes())
    (root / "external" / "one_shot_rlvr").symlink_to(shared_data / "one_shot_rlvr")

    plan = _snakemake(root, "-n", "--quiet", "rules").stdout
    counts = {p[0]: int(p[1]) for p in map(str.split, plan.splitlines()) if len(p) == 2 and p[1].isdigit()}
    from spurious_rewards.config import load_params

    runs = len(load_params(root / "presets" / "paper.yaml").runs())
    assert counts["data"] == 1 and counts["train"] == runs >= 270, plan[-3000:]

    _snakemake(root, "data")
    train = root / "results" / "paper" / "data" / "train.jsonl"
    assert sum(1 for _ in train.open(encoding="utf-8")) == 40308
    assert "Nothing to be done" in _snakemake(root, "-n", "data").stdout

    # A newer file with the same bytes is not a change: Snakemake compares the checksum it recorded.
    later = time.time() + 60
    os.utime(copied, (later, later))
    assert "Nothing to be done" in _snakemake(root, "-n", "data").stdout
    with copied.open("a", encoding="utf-8") as fh:
        fh.write("\n")
    rerun = _snakemake(root, "-n", "data").stdout
    assert "Reason: Updated input files: external/rethink_rlvr/AIME2025-TTT/test.json" in rerun, rerun[-3000:]
    assert "Building the training prompts and benchmarks" in rerun
