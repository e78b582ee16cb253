"""One tiny-model builder (spurious_rewards.model.build), smoke setups that take their parameter file,
and no imports from tests/ in the package or the benchmarks."""

from __future__ import annotations

import ast
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest
import torch
from safetensors.torch import load_file

from spurious_rewards.model import build
from spurious_rewards.training import smoke
from tests.conftest import REPO


def test_smoke_model_is_the_package_builders(tmp_path):
    folder = smoke.build_base_model(tmp_path / "base", hidden=64, layers=2, seed=4)
    tokenizer = smoke.build_tokenizer(smoke.problems(400, seed=4))
    model = build.build_model(tokenizer, smoke.architecture(64, 2), 512, seed=4)
    saved = load_file(str(folder / "model.safetensors"))
    state = model.state_dict()
    assert set(saved) <= set(state) and len(saved) > 10
    assert all(torch.equal(saved[k], state[k]) for k in saved)
    assert model.config.intermediate_size == 192 and model.config.num_hidden_layers == 2
    assert (folder / "model.safetensors").stat().st_mode & 0o044  # build.save honours the umask, not 0600


def test_smoke_params_come_from_the_file_given(tmp_path, monkeypatch):
    raw = smoke.params_dict(tmp_path / "results", REPO / "params.yaml", steps=2)
    assert raw["train"]["steps"] == 2 and raw["experiment"]["results_dir"] == str(tmp_path / "results")
    monkeypatch.chdir(tmp_path)  # the default is the CLI's: params.yaml in the working directory
    with pytest.raises(FileNotFoundError, match="params.yaml: no parameter file"):
        smoke.params_dict(tmp_path / "results")


def _imports_tests(path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return [n for n in names if n == "tests" or n.startswith("tests.")]


def test_package_and_benchmarks_do_not_import_tests():
    files = sorted((REPO / "src").rglob("*.py")) + sorted((REPO / "bench").rglob("*.py"))
    assert len(files) > 30
    offenders = {str(f.relative_to(REPO)): _imports_tests(f) for f in files if _imports_tests(f)}
    assert offenders == {}
