"""The stage table drives both engines: dvc.yaml is in sync and Snakemake plans every stage."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from spurious_rewards import cli, stages
from spurious_rewards.commands import export_dvc as dvc_export
from spurious_rewards.config import load_params


def test_dvc_yaml_is_in_sync_with_the_stage_table(repo):
    on_disk = (repo / "dvc.yaml").read_text(encoding="utf-8")
    assert on_disk == dvc_export.render("params.yaml", "dvc.yaml"), (
        "dvc.yaml is stale: run `python -m spurious_rewards export-dvc`")
    assert on_disk.startswith("# GENERATED")


def test_paper_pipeline_renders_for_dvc(tmp_path, repo):
    out = "presets/paper/dvc.yaml"
    text = dvc_export.render("presets/paper.yaml", out)
    assert "wdir: ../.." in text and "- ../paper.yaml" in text
    assert "--params presets/paper.yaml" in text
    assert dvc_export.default_out("presets/paper.yaml") == out


def test_every_stage_has_a_command():
    for stage in stages.STAGES:
        assert stage.name_on_cli in cli.COMMANDS, stage.name


def test_outputs_of_one_stage_feed_the_next(repo):
    params = load_params(repo / "params.yaml")
    train = stages.stage("train")
    out = train.output_paths(params, model="toy", condition="random", seed=1)
    evaluate_inputs = stages.stage("evaluate").inputs(params, {"model": "toy", "condition": "random", "seed": "1"})
    assert evaluate_inputs["checkpoints"] == out["checkpoints"]
    mv = stages.stage("train").inputs(params, {"model": "toy", "condition": "majority_vote", "seed": "1"})
    assert mv["dataset"] == stages.stage("labels").output_paths(params, model="toy")["majority_vote"]


def test_fingerprint_changes_only_with_the_stage_params(tmp_path, repo):
    import yaml

    raw = yaml.safe_load((repo / "params.yaml").read_text())
    params = load_params(repo / "params.yaml")
    before = stages.fingerprint(params, stages.stage("train"), model="toy", condition="random", seed=1)
    raw["conditions"]["random"]["reward_options"]["gamma"] = 0.3
    raw["analysis"]["bootstrap_samples"] = 7
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw))
    changed = load_params(path)
    assert stages.fingerprint(changed, stages.stage("train"), model="toy", condition="random", seed=1) != before
    assert stages.fingerprint(changed, stages.stage("train"), model="toy", condition="format", seed=1) == \
        stages.fingerprint(params, stages.stage("train"), model="toy", condition="format", seed=1)


def _bin(name: str) -> str:
    path = Path(sys.executable).parent / name
    return str(path) if path.exists() else shutil.which(name) or name


def test_snakemake_dry_run_lists_every_stage_for_every_condition(tmp_path, repo):
    # A scratch checkout with the default parameters: the working checkout may hold a finished run
    # (after `make run` nothing is left to do there), and a test must not depend on that state.
    import yaml

    from tests.e2e.smoke import scratch_checkout

    scratch = scratch_checkout(tmp_path / "clone", yaml.safe_load((repo / "params.yaml").read_text()))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
           "PYTHONPATH": str(scratch / "src")}
    proc = subprocess.run([_bin("snakemake"), "-n", "--cores", "2", "--quiet", "rules"], cwd=scratch,
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = proc.stdout + proc.stderr
    params = load_params(scratch / "params.yaml")
    counts = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            counts[parts[0]] = int(parts[1])
    runs = len(params.runs())
    assert counts["train"] == runs and counts["evaluate"] == runs and counts["grade"] == runs
    for name in ("data", "base", "labels", "evaluate_base", "grade_base", "analyze", "report"):
        assert counts[name] >= 1, name


def _paper_params_at(tmp_path, data_root) -> Path:
    """presets/paper.yaml with its external/ paths pointing at data_root."""
    text = (Path(__file__).resolve().parents[2] / "presets" / "paper.yaml").read_text(encoding="utf-8")
    path = tmp_path / "paper.yaml"
    path.write_text(text.replace("external/", f"{data_root}/"), encoding="utf-8")
    return path


def test_data_stage_inputs_are_the_paper_source_files(tmp_path, shared_data):
    params = load_params(_paper_params_at(tmp_path, shared_data))
    files = stages.stage("data").inputs(params, {})["sources"]
    rr = shared_data / "rethink_rlvr"
    expected = [str(rr / f"DeepScaleR_Difficulty_Level_{i}" / name) for i in range(1, 6)
                for name in ("train.json", "test.json")]
    expected += [str(rr / "DeepScaleR_Difficulty_Level_4" / "train.json")]  # pi1, the bare prompt (row 7395)
    expected += [str(rr / f / "test.json") for f in ("MATH-TTT", "AMC-TTT", "AIME-TTT", "AIME2025-TTT")]
    assert files == expected
    # DVC: the declared paths (folders stay folders), after the stage's code dependency
    import yaml

    doc = yaml.safe_load(dvc_export.render(str(params.path), str(tmp_path / "paper" / "dvc.yaml")))
    deps = doc["stages"]["data"]["deps"]
    code = [d for d in deps if d.startswith("src/spurious_rewards/")]
    assert "src/spurious_rewards/commands/data.py" in code and deps[:len(code)] == code
    # then the validation stamp (every root of the DAG waits for `validate`), then the declared data
    assert deps[len(code)] == "${experiment.results_dir}/params.valid"
    assert deps[len(code) + 1:] == [str(rr / f"DeepScaleR_Difficulty_Level_{i}") for i in range(1, 6)] + expected[10:]
    # the synthetic default declares none
    default = load_params("params.yaml")
    assert stages.stage("data").inputs(default, {}) == {}
    assert all(d.startswith("src/spurious_rewards/") or d.endswith("/params.valid")
               for d in yaml.safe_load(dvc_export.render("params.yaml"))["stages"]["data"]["deps"])


def test_missing_data_source_names_every_file_and_the_readme(tmp_path):
    from spurious_rewards.io import DataError

    params = load_params(_paper_params_at(tmp_path, tmp_path / "nowhere"))
    with pytest.raises(DataError) as err:
        stages.stage("data").inputs(params, {})
    text = str(err.value)
    assert f"data.train.paths[2]: {tmp_path}/nowhere/rethink_rlvr/DeepScaleR_Difficulty_Level_3 not found" in text
    assert f"data.benchmarks.amc.path: {tmp_path}/nowhere/rethink_rlvr/AMC-TTT/test.json not found" in text
    assert text.count("not found") == 10 and 'README, "The paper preset"' in text
