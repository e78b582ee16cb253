"""Rewards as plugins: factories, kinds, pickling, dotted paths, and the README's worked example
(examples/length_penalty.py) through `score`, `config.load_params` and one real GRPO step."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest
import yaml

from spurious_rewards.config import ParamsError, load_params
from spurious_rewards.report import organism
from spurious_rewards.rewards import KINDS, REWARDS, build_reward, needs_label, reward_kind, reward_spec

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = "examples.length_penalty:length_penalty"
TEXTS = [r"Using python: \boxed{4}", r"\boxed{5}", "na " * 40, "nothing"]


def test_every_registered_reward_has_a_known_kind():
    assert {name: spec.kind for name, spec in REWARDS.items()} == {
        "ground_truth": "ground_truth", "majority_vote": "weak_label", "one_shot": "weak_label",
        "incorrect_label": "incorrect_label", "format_boxed": "format", "random": "random",
        "mention_python": "code", "no_repetition": "heuristic"}
    assert {spec.kind for spec in REWARDS.values()} <= set(KINDS)
    assert reward_kind("incorrect_label_without_python") == "incorrect_label"
    assert reward_kind(EXAMPLE) == "heuristic"


@pytest.mark.parametrize("name", sorted(REWARDS) + ["random_without_python", EXAMPLE,
                                                     EXAMPLE + "_without_python"])
def test_built_rewards_pickle_and_score_the_same(name):
    reward = build_reward(name, seed=3)
    kwargs = {"answer": ["4"] * 4, "id": list("abab"), "trainer_state": SimpleNamespace(global_step=2)}
    again = pickle.loads(pickle.dumps(reward))
    assert again.__name__ == reward.__name__
    assert again(["p"] * 4, TEXTS, **kwargs) == reward(["p"] * 4, TEXTS, **kwargs)


def test_factories_validate_their_own_options():
    # the registry's option list is the factory's signature, nothing kept beside it
    assert REWARDS["random"].options == {"gamma": 0.5}
    assert REWARDS["ground_truth"].options == {"workers": None, "timeout_s": 5.0, "label_column": "answer"}
    assert REWARDS["format_boxed"].options == {}
    assert build_reward("random", gamma=1).options["gamma"] == 1
    with pytest.raises(ValueError, match="option target must be a positive integer, got 0"):
        build_reward(EXAMPLE, target=0)
    with pytest.raises(ValueError, match=r"unknown option\(s\) gamma .* allowed: budget_column, target"):
        build_reward(EXAMPLE, gamma=0.5)


def test_dotted_path_errors_name_the_path():
    with pytest.raises(ValueError, match="'no_such_module_xyz:f'.*cannot import module 'no_such_module_xyz'"):
        build_reward("no_such_module_xyz:f")
    with pytest.raises(ValueError, match="has no attribute 'nope'"):
        needs_label("examples.length_penalty:nope")
    with pytest.raises(ValueError, match="not a reward factory"):
        reward_spec("examples.length_penalty:__doc__")
    with pytest.raises(ValueError, match="module:attribute"):
        reward_spec(":length_penalty")


def test_example_reads_extra_columns_as_trl_passes_them():
    reward = build_reward(EXAMPLE, target=10, budget_column="budget")
    assert reward.__name__ == "length_penalty"  # TRL's log key
    # TRL: reward(prompts=, completions=, completion_ids=, **columns, trainer_state=, log_metric=)
    out = reward(prompts=["q"] * 3, completions=[[{"role": "assistant", "content": "x" * 5}]] * 3,
                 completion_ids=[[1]] * 3, budget=[None, 20, 5], answer=["1"] * 3, id=["a", "b", "c"],
                 trainer_state=SimpleNamespace(global_step=0), log_metric=lambda *a: None)
    assert out == [0.5, 0.75, 0.0]


def test_report_classifies_by_the_registry_kind():
    kinds = organism.classify({
        "gt": {"reward": "ground_truth"}, "mv": {"reward": "majority_vote"},
        "wrong": {"reward": "incorrect_label"}, "fmt": {"reward": "format_boxed"},
        "py": {"reward": "mention_python"}, "rep": {"reward": "no_repetition"},
        "short": {"reward": EXAMPLE}, "rnd": {"reward": "random"}, "rnd0": {"reward": "random",
                                                                          "reward_options": {"gamma": 0}},
        "gt_np": {"reward": "ground_truth_without_python"}, "gone": {"reward": "no_such_module_xyz:f"}})
    assert kinds == {"gt": "true", "mv": "true", "wrong": "spurious", "fmt": "spurious", "py": "spurious",
                     "rep": "other", "short": "other", "rnd": "random", "rnd0": "random_zero",
                     "gt_np": "other", "gone": "other"}


def test_example_through_the_score_command(tmp_path):
    rows = [{"completion": "x" * 20}, {"completion": "x" * 5, "budget": 10}, {"completion": "x" * 50}]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out.jsonl"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-m", "spurious_rewards", "score", "--reward", EXAMPLE,
                           "--set", "target=40", "--set", "budget_column=budget", str(src), str(out)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert [json.loads(line)["reward"] for line in out.read_text().splitlines()] == [0.5, 0.5, 0.0]
    bad = subprocess.run([sys.executable, "-m", "spurious_rewards", "score", "--reward", EXAMPLE,
                          "--set", "target=-1", str(src), str(tmp_path / "bad.jsonl")],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert bad.returncode == 2 and "option target must be a positive integer" in bad.stderr


def _params_with(tmp_path, condition: dict) -> Path:
    raw = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    raw["conditions"]["short"] = condition
    raw["experiment"]["conditions"] = [*raw["experiment"]["conditions"], "short"]
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def test_example_condition_in_a_params_file(tmp_path):
    good = {"reward": EXAMPLE, "labels": "ground_truth", "reward_options": {"target": 400}}
    params = load_params(_params_with(tmp_path, good))
    assert params.condition("short")["reward"] == EXAMPLE
    bad = {"reward": EXAMPLE, "labels": "ground_truth", "reward_options": {"target": "long"}}
    with pytest.raises(ParamsError, match=r"key conditions\.short\.reward: option target must be"):
        load_params(_params_with(tmp_path, bad))
    missing = {"reward": "examples.no_such_module:length_penalty", "labels": "ground_truth"}
    with pytest.raises(ParamsError, match=r"conditions\.short\.reward: .*cannot import"):
        load_params(_params_with(tmp_path, missing))


def test_example_in_one_real_grpo_step(tmp_path):
    """TRL calls the plugin with the dataset's extra columns: `budget` exists only in train.jsonl."""
    from spurious_rewards import paths
    from spurious_rewards.commands import train as stage
    from spurious_rewards.io import read_jsonl, write_jsonl
    from spurious_rewards.training import smoke

    pf = smoke.write_setup(tmp_path, REPO / "params.yaml", n_rows=8, steps=1, save_every=1,
                           prompts_per_step=4, generations_per_prompt=2, optimizer_batch=8,
                           max_completion_length=8)
    params = load_params(pf)
    params.raw["experiment"]["torch_threads"] = 1
    params.raw["conditions"]["short"] = {"reward": EXAMPLE, "labels": "ground_truth",
                                         "reward_options": {"target": 1, "budget_column": "budget"},
                                         "train": {}}
    train = paths.train_data(params.results_dir)
    write_jsonl(train, [{**row, "budget": 1_000_000} for row in read_jsonl(train)])
    summary = stage.run(params, "toy", "short", 1)
    assert summary["global_step"] == 1
    import pandas as pd

    metrics = pd.read_csv(paths.train_metrics(params.results_dir, "toy", "short", 1))
    # target 1 would pay 0 for any non-empty completion: the per-row budget of 1e6 reached the reward
    assert metrics["reward_length_penalty_mean"].iloc[0] > 0.99


def test_the_reward_training_hands_to_trl_pickles():
    from spurious_rewards.training.decoding import reward_text
    from spurious_rewards.training.metrics import CODE_FREQUENCY, with_code_frequency

    reward = with_code_frequency(reward_text(build_reward("ground_truth"), "plain", None))
    again = pickle.loads(pickle.dumps(reward))
    logged = []
    out = again(["q"] * 2, [r"python \boxed{3}", r"\boxed{4}"], answer=["3", "3"],
                log_metric=lambda key, value: logged.append((key, value)))
    assert again.__name__ == "ground_truth" and out == [1.0, 0.0] and logged == [(CODE_FREQUENCY, 0.5)]
