"""params.yaml validation: the schema and the semantic checks name the file and the key."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from spurious_rewards.config import ParamsError, load_params


def _write(tmp_path, raw) -> str:
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return str(path)


@pytest.fixture
def raw(repo):
    return yaml.safe_load((repo / "params.yaml").read_text(encoding="utf-8"))


def test_default_and_paper_presets_are_valid(repo):
    # params.yaml is the user's to edit (the Quick start test shrinks it): check its shape, not its sizes
    default = load_params(repo / "params.yaml")
    assert default.models == ["toy"]
    assert len(default.runs()) == len(default.conditions) * len(default.seeds) >= 1
    assert {"ground_truth", "majority_vote", "incorrect", "one_shot", "format", "random", "python"} <= \
        set(default.raw["conditions"])
    paper = load_params(repo / "presets" / "paper.yaml")
    assert len(paper.models) == 10 and len(paper.conditions) == 10 and len(paper.seeds) == 3
    assert paper.train("qwen2_5-math-7b", "random_no_clip")["clip"] is False
    assert paper.train("qwen2_5-math-7b", "random")["clip"] is True
    # the clipping ablations ran 650 steps in the paper (App. B.2), the clipped reference too
    steps = {c: paper.train("qwen2_5-math-7b", c)["steps"] for c in paper.raw["conditions"]}
    assert {c for c, n in steps.items() if n == 650} == {"random_no_clip", "random_650",
                                                          "random_minibatch_1024", "random_rollout_8"}
    assert steps["random"] == steps["ground_truth"] == 300


def test_unknown_key_is_named(tmp_path, raw):
    raw["train"]["learning_rte"] = 1e-4
    with pytest.raises(ParamsError) as err:
        load_params(_write(tmp_path, raw))
    assert "params.yaml: key train" in str(err.value)
    assert "learning_rte" in str(err.value)


def test_wrong_type_is_named(tmp_path, raw):
    raw["train"]["steps"] = "thirty"
    with pytest.raises(ParamsError, match=r"key train\.steps: 'thirty' is not of type 'integer'"):
        load_params(_write(tmp_path, raw))


def test_bad_value_is_named(tmp_path, raw):
    raw["conditions"]["random"]["reward_options"]["gamma"] = 1.5
    with pytest.raises(ParamsError, match=r"conditions\.random\.reward: .*gamma"):
        load_params(_write(tmp_path, raw))


def test_unknown_condition_is_named(tmp_path, raw):
    index = len(raw["experiment"]["conditions"])
    raw["experiment"]["conditions"].append("telepathy")
    with pytest.raises(ParamsError, match=rf"experiment\.conditions\[{index}\]: unknown condition 'telepathy'"):
        load_params(_write(tmp_path, raw))


def test_unknown_reward_is_named(tmp_path, raw):
    raw["conditions"]["format"]["reward"] = "vibes"
    with pytest.raises(ParamsError, match=r"conditions\.format\.reward: .*vibes"):
        load_params(_write(tmp_path, raw))


def test_batch_arithmetic_is_checked(tmp_path, raw):
    raw["train"]["optimizer_batch"] = 48
    with pytest.raises(ParamsError, match=r"train\.optimizer_batch"):
        load_params(_write(tmp_path, raw))


def test_overrides_merge_per_key(tmp_path, raw):
    raw["conditions"]["random"]["train"] = {"clip": False}
    raw["models"]["toy"]["train"] = {"learning_rate": 1e-5}
    params = load_params(_write(tmp_path, raw))
    merged = params.train("toy", "random")
    assert merged["clip"] is False and merged["learning_rate"] == 1e-5
    assert merged["steps"] == raw["train"]["steps"]
    assert params.train("toy", "format")["clip"] is True


def test_hash_ignores_key_order(tmp_path, raw):
    first = load_params(_write(tmp_path, raw)).hash
    reordered = dict(reversed(list(raw.items())))
    (tmp_path / "b").mkdir()
    assert load_params(_write(tmp_path / "b", reordered)).hash == first


def test_cli_exits_nonzero_naming_file_and_key(tmp_path, raw, repo):
    raw["experiment"]["seeds"] = [1, -3]
    path = _write(tmp_path, raw)
    proc = subprocess.run([sys.executable, "-m", "spurious_rewards", "validate", "--params", path],
                          capture_output=True, text=True, cwd=repo)
    assert proc.returncode == 2
    assert f"{path}: key experiment.seeds[1]" in proc.stderr
