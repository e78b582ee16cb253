"""--configfile / --config as Snakemake hands them to the Snakefile -> the parameter file of the jobs."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from spurious_rewards.config import ParamsError, load_params
from spurious_rewards.overrides import RESOLVED_DIR, resolve

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def cwd(tmp_path, monkeypatch):
    from tests.conftest import committed_text

    # the shipped default (the working copy is the user's to edit; the Quick start test shrinks it)
    (tmp_path / "params.yaml").write_text(committed_text("params.yaml"), encoding="utf-8")
    (tmp_path / "presets").mkdir()
    shutil.copy(REPO / "presets" / "paper.yaml", tmp_path / "presets" / "paper.yaml")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_no_overrides_and_params_select_a_file_unchanged(cwd):
    assert resolve([], []) == "params.yaml"
    assert resolve(["params=presets/paper.yaml"], []) == "presets/paper.yaml"
    # a complete parameter set given as --configfile selects that file, as params=FILE does
    assert resolve([], [cwd / "presets" / "paper.yaml"]) == str(cwd / "presets" / "paper.yaml")
    assert not (cwd / "results").exists()


def test_section_override_is_typed_merged_and_written(cwd):
    # Snakemake's own parser reads nested values as strings; the override is re-read as YAML
    path = resolve(["train={steps: 10, learning_rate: 1.0e-5}", "experiment={seeds: [1, 2]}"], [])
    assert re.fullmatch(rf"results/default/{RESOLVED_DIR}/resolved-[0-9a-f]{{16}}\.yaml", path)
    p = load_params(path)
    assert p.raw["train"]["steps"] == 10 and p.raw["train"]["learning_rate"] == 1.0e-5
    assert p.raw["train"]["save_every"] == 5  # untouched keys stay
    assert p.seeds == [1, 2] and p.conditions == load_params("params.yaml").conditions
    mtime = Path(path).stat().st_mtime_ns
    # the same values (in another order) -> the same file, not rewritten
    assert resolve(["experiment={seeds: [1, 2]}", "train={learning_rate: 1.0e-5, steps: 10}"], []) == path
    assert Path(path).stat().st_mtime_ns == mtime
    # other values -> another file: what running jobs read never changes under them
    other = resolve(["train={steps: 11}"], [])
    assert other != path and load_params(path).raw["train"]["steps"] == 10


def test_overrides_apply_to_the_selected_file_and_a_partial_configfile(cwd):
    partial = cwd / "short.yaml"
    partial.write_text("train:\n  steps: 12\n")
    path = resolve(["params=presets/paper.yaml", "train={save_every: 4}"], [partial])
    p = load_params(path)
    paper = load_params("presets/paper.yaml")
    assert (p.raw["train"]["steps"], p.raw["train"]["save_every"]) == (12, 4)
    assert p.models == paper.models and p.results_dir == paper.results_dir
    assert Path(path).parent == paper.results_dir / RESOLVED_DIR
    # a complete --configfile plus --config overrides: the configfile is the base
    path = resolve(["train={steps: 7}"], [cwd / "presets" / "paper.yaml"])
    assert load_params(path).raw["train"]["steps"] == 7 and load_params(path).models == paper.models


@pytest.mark.parametrize("args, files, message", [
    (["foo=1"], [], r"key 'foo': not a section .*--config params=FILE"),
    (["train={stepz: 10}"], [], r"key train: Additional properties are not allowed \('stepz'"),
    (["train={steps: ten}"], [], r"--config train.*key train.steps: 'ten' is not of type 'integer'"),
    (["experiment={conditions: [nope]}"], [], r"experiment.conditions\[0\]: unknown condition 'nope'"),
    (["params=presets/paper.yaml"], ["presets/paper.yaml"], r"complete parameter set .* give one of them"),
    (["params=missing.yaml", "train={steps: 1}"], [], r"missing.yaml: file not found"),
])
def test_what_would_be_ignored_is_an_error(cwd, args, files, message):
    with pytest.raises(ParamsError, match=message):
        resolve(args, [cwd / f for f in files])
    assert not (cwd / "results").exists()
