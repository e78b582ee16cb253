"""params `train` -> TRL GRPOConfig: units, the paper recipe, the clipping controls, the dry-run
contract, the accelerate re-launch and the checkpoint/metrics helpers. No training here."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from spurious_rewards.config import Params, ParamsError, load_params
from spurious_rewards.training import checkpoints, dataset, launch, metrics
from spurious_rewards.training.grpo_config import NO_CLIP_EPSILON, grpo_kwargs, make_config, plan

REPO = Path(__file__).resolve().parents[2]
PAPER_TRAIN = {
    "steps": 300, "save_every": 25, "prompts_per_step": 64, "generations_per_prompt": 16,
    "optimizer_batch": 128, "per_device_batch": 4, "learning_rate": 5.0e-7, "lr_scheduler": "constant",
    "warmup_ratio": 0.0, "adam_beta1": 0.9, "adam_beta2": 0.95, "weight_decay": 0.0, "max_grad_norm": 1.0,
    "clip": True, "epsilon": 0.2, "beta": 0.0, "loss_type": "bnpo", "scale_rewards": "group",
    "temperature": 1.0, "top_p": 1.0, "max_prompt_length": 1024, "max_completion_length": 3072,
    "precision": "bf16", "attn_implementation": "sdpa", "gradient_checkpointing": True, "use_vllm": True,
    "vllm_mode": "colocate", "vllm_gpu_memory_utilization": 0.4, "vllm_importance_sampling_correction": False,
    "world_size": 8, "accelerate_config": "config/accelerate/zero3_8gpu.yaml", "report_to": ["tensorboard"],
}
# The clipping-bias ablation as conditions (paper App. B.2): all overrides of `train`.
CONTROLS = {
    "random_noclip": {"train": {"clip": False}},
    "random_big_minibatch": {"train": {"optimizer_batch": 1024}},
    "random_small_rollout": {"train": {"prompts_per_step": 8}},
}


def _paper_raw(tmp_path) -> dict:
    preset = REPO / "presets" / "paper.yaml"
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    if preset.is_file() and "train" in (yaml.safe_load(preset.read_text()) or {}):
        raw = yaml.safe_load(preset.read_text())
    else:
        raw["train"] = copy.deepcopy(PAPER_TRAIN)
        raw["experiment"].update(device="cuda", seeds=[42])
    raw["experiment"]["results_dir"] = str(tmp_path / "results")
    for name, spec in CONTROLS.items():
        raw["conditions"][name] = {"reward": "random", "labels": "ground_truth", "reward_options": {"gamma": 0.5},
                                   **spec}
    return raw


def _params(raw: dict, tmp_path) -> Params:
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw))
    return load_params(path)


@pytest.fixture
def paper(tmp_path) -> Params:
    return _params(_paper_raw(tmp_path), tmp_path)


def test_paper_recipe_units(paper):
    model = paper.models[0]
    p = plan(paper.train(model, "random"))
    assert (p.rollout_batch, p.updates_per_rollout) == (1024, 8)
    # 4 per GPU x 8 GPUs x 4 accumulation = 128 per update; 32 micro-batches = one 1,024 rollout
    assert (p.per_device_batch, p.grad_accum, p.steps_per_generation) == (4, 4, 32)
    assert p.per_device_batch * p.world_size * p.steps_per_generation == 1024
    assert (p.max_steps, p.save_steps) == (300 * 8, paper.train(model, "random")["save_every"] * 8)
    kw = grpo_kwargs(paper, model, "random", 42, output_dir="out", device="cuda")
    expected = {"learning_rate": 5.0e-7, "lr_scheduler_type": "constant", "warmup_steps": 0, "adam_beta1": 0.9,
                "adam_beta2": 0.95, "weight_decay": 0.0, "max_grad_norm": 1.0, "epsilon": 0.2, "epsilon_high": 0.2,
                "beta": 0.0, "entropy_coef": 0.0, "num_generations": 16, "temperature": 1.0, "top_p": 1.0,
                "top_k": 0, "max_completion_length": 3072, "bf16": True, "use_cpu": False,
                "gradient_checkpointing": True, "use_vllm": True, "vllm_mode": "colocate",
                "vllm_max_model_length": 4096, "vllm_importance_sampling_correction": False, "seed": 42,
                "loss_type": "bnpo", "scale_rewards": "group", "num_iterations": 1, "shuffle_dataset": False}
    assert {k: kw[k] for k in expected} == expected
    assert kw["model_init_kwargs"]["attn_implementation"] == paper.train(model, "random")["attn_implementation"]


def test_clipping_controls_are_conditions(paper):
    model = paper.models[0]
    noclip = grpo_kwargs(paper, model, "random_noclip", 42, output_dir="o", device="cuda")
    assert noclip["epsilon"] == noclip["epsilon_high"] == NO_CLIP_EPSILON
    # optimizer batch == rollout batch: one update per rollout, TRL then reuses the sampling logprobs
    # as pi_old (steps_per_generation == gradient_accumulation_steps), so the ratio is exactly 1
    big = plan(paper.train(model, "random_big_minibatch"))
    assert big.updates_per_rollout == 1 and big.steps_per_generation == big.grad_accum == 32
    small = plan(paper.train(model, "random_small_rollout"))
    assert small.rollout_batch == 128 and small.updates_per_rollout == 1


def test_cpu_settings_and_real_grpo_config(tmp_path):
    params = load_params(REPO / "params.yaml")
    kw = grpo_kwargs(params, "toy", "ground_truth", 1, output_dir=str(tmp_path / "o"), device="cpu")
    assert kw["use_cpu"] is True and kw["bf16"] is False and kw["gradient_checkpointing"] is False
    assert kw["model_init_kwargs"] == {"dtype": "float32", "attn_implementation": "eager"}
    cfg = make_config(kw)  # the installed TRL accepts every key, and derives the same generation batch
    train = params.train("toy", "ground_truth")
    rollout = train["prompts_per_step"] * train["generations_per_prompt"]
    updates = rollout // train["optimizer_batch"]
    assert cfg.generation_batch_size == rollout and cfg.steps_per_generation == updates
    assert cfg.max_steps == train["steps"] * updates and cfg.save_steps == train["save_every"] * updates


def test_bad_batch_arithmetic_names_the_key():
    train = {"steps": 2, "save_every": 1, "prompts_per_step": 4, "generations_per_prompt": 4,
             "optimizer_batch": 6, "world_size": 1}
    with pytest.raises(ParamsError, match="optimizer_batch"):
        plan(train)
    with pytest.raises(ParamsError, match="per_device_batch"):
        plan({**train, "optimizer_batch": 8, "per_device_batch": 3})


def _cli(*args, env=None):
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"), HF_HUB_OFFLINE="1", **(env or {}))
    return subprocess.run([sys.executable, "-m", "spurious_rewards", *args], capture_output=True, text=True,
                          cwd=REPO, env=env, timeout=120)


def test_dry_run_prints_one_json_object_for_the_paper_recipe(paper):
    # no base model, no GPU, no vLLM here: the dry run must not need any of them
    out = _cli("train", "--dry-run", "--params", paper.path, "--model", paper.models[0], "--condition", "random",
               "--seed", "42")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)  # the whole of stdout is one JSON object
    assert doc["world_size"] == 8 and doc["grpo_config"]["bf16"] is True and doc["grpo_config"]["use_vllm"]
    assert doc["grpo_config"] == grpo_kwargs(paper, paper.models[0], "random", 42,
                                             output_dir=doc["grpo_config"]["output_dir"], device="cuda")
    # the paper's second, token-weighted whitening and the per-step checkpoints of the final window
    assert doc["advantage"] == {"group": "group", "whitening": "token"}
    assert doc["checkpoint_steps"][-11:] == [290, *range(291, 301)]
    launch_cmd = doc["accelerate_launch"]
    assert launch_cmd[launch_cmd.index("--num_processes") + 1] == "8"
    assert "+ python -m spurious_rewards train" in out.stderr


def test_accelerate_relaunch_command():
    argv = launch.stage_argv(type("A", (), {"params": "presets/paper.yaml", "model": "qwen_math_7b",
                                            "condition": "random", "seed": 42, "verbose": False})())
    cmd = launch.command(argv, 8, "config/accelerate/zero3_8gpu.yaml")
    assert cmd[:3] == [sys.executable, "-m", "accelerate.commands.launch"]
    assert cmd[3:] == ["--config_file", "config/accelerate/zero3_8gpu.yaml", "--num_processes", "8", "-m",
                       "spurious_rewards", "train", "--params", "presets/paper.yaml", "--model", "qwen_math_7b",
                       "--condition", "random", "--seed", "42"]
    assert launch.command(argv, 2, None)[3] == "--multi_gpu"
    assert launch.needs_launch(8, None, env={}) and launch.needs_launch(1, "c.yaml", env={})
    assert not launch.needs_launch(1, None, env={})
    # inside the launched processes: never launch again
    assert not launch.needs_launch(8, "c.yaml", env={"LOCAL_RANK": "0"})
    assert not launch.needs_launch(8, "c.yaml", env={launch.LAUNCHED_ENV: "1"})


def test_accelerate_configs_are_valid():
    from accelerate.commands.config.config_args import load_config_from_file

    for name, n in (("zero3_8gpu", 8), ("zero3_1gpu", 1)):
        cfg = load_config_from_file(str(REPO / "config" / "accelerate" / f"{name}.yaml"))
        assert cfg.num_processes == n and cfg.distributed_type == "DEEPSPEED" and cfg.mixed_precision == "bf16"
        assert cfg.deepspeed_config["zero_stage"] == 3 and cfg.deepspeed_config["zero3_save_16bit_model"]


def test_data_order_is_seeded_and_drops_the_last_partial_batch():
    a = dataset.order(10, 4, 5, seed=3)
    assert a == dataset.order(10, 4, 5, seed=3) and a != dataset.order(10, 4, 5, seed=4)
    assert len(a) == 20
    # two epochs of 8 (drop_last of 10 rows by 4), each without repeats
    assert len(set(a[:8])) == 8 and len(set(a[8:16])) == 8


def test_latest_complete_ignores_and_removes_half_written(tmp_path):
    trl = checkpoints.trl_dir(tmp_path)
    for step in (2, 4, 6, 8):
        (trl / f"checkpoint-{step}").mkdir(parents=True)
        (trl / f"checkpoint-{step}" / "model.safetensors").write_bytes(b"w" * step)
    for step in (2, 4, 6):
        checkpoints.mark_complete(trl / f"checkpoint-{step}")
    assert checkpoints.latest_complete(tmp_path) == trl / "checkpoint-6"
    assert not (trl / "checkpoint-8").exists()
    # the newest complete checkpoint before `keep` stays as the fallback of a damaged `keep`
    checkpoints.prune(tmp_path, keep=trl / "checkpoint-6")
    assert [p.name for p in checkpoints.checkpoints(tmp_path)] == ["checkpoint-4", "checkpoint-6"]


def test_metrics_rows_and_code_frequency():
    history = [{"loss": 0.1, "grad_norm": 1.0, "reward": 0.5, "rewards/random/mean": 0.5, "step_time": 3.0,
                "completions/mean_length": 7.0, "clip_ratio/region_mean": 0.0, "step": 1},
               {"loss": 0.2, "grad_norm": 0.9, "clip_ratio/region_mean": 0.25, "step": 2},
               {"train_runtime": 9.0, "step": 2}]
    df = metrics.frame(history, updates_per_rollout=2)
    assert df["step"].tolist() == [1, 2] and df["rollout_step"].tolist() == [1, 1]
    assert df["update_in_rollout"].tolist() == [1, 2]
    assert "step_time" not in df.columns and "train_runtime" not in df.columns
    assert df["reward_random_mean"].iloc[0] == 0.5 and df["completion_mean_length"].iloc[0] == 7.0
    assert df["clip_ratio_region_mean"].tolist() == [0.0, 0.25]
    completions = [[{"role": "assistant", "content": "Let's use Python"}], [{"role": "assistant", "content": "x"}]]
    assert metrics.code_frequency(completions) == 0.5
    logged = {}
    wrapped = metrics.with_code_frequency(lambda prompts, completions, **kw: [1.0] * len(completions))
    assert wrapped(["p", "p"], ["python", "no"], log_metric=logged.__setitem__) == [1.0, 1.0]
    assert logged == {metrics.CODE_FREQUENCY: 0.5}


def test_default_keeps_trl_advantage_and_the_plain_checkpoint_schedule():
    out = _cli("train", "--dry-run", "--params", "params.yaml", "--model", "toy", "--condition", "random",
               "--seed", "1")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["advantage"] == {"group": "group", "whitening": "none"}
    train = load_params(REPO / "params.yaml").train("toy", "random")  # the default's sizes are the user's
    every = train["save_every"]
    assert doc["checkpoint_steps"] == sorted({*range(every, train["steps"] + 1, every), train["steps"]})


def test_final_window_checkpoint_schedule():
    train = {"steps": 25, "save_every": 10, "prompts_per_step": 4, "generations_per_prompt": 4,
             "optimizer_batch": 8, "world_size": 1, "per_device_batch": None, "save_final_window": 0}
    assert plan(train).export_steps() == [10, 20, 25]
    p = plan({**train, "save_final_window": 4})
    assert p.export_steps() == [10, 20, 22, 23, 24, 25]
    assert [s for s in range(1, 26) if p.in_final_window(s)] == [22, 23, 24, 25]
    assert plan({**train, "save_final_window": 25}).export_steps() == list(range(1, 26))
    with pytest.raises(ParamsError, match="save_final_window"):
        plan({**train, "save_final_window": 26})


def _with_train(tmp_path, **train) -> Params:
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    raw["train"].update(train)
    raw["experiment"]["results_dir"] = str(tmp_path / "results")
    return _params(raw, tmp_path)


def test_trl_passthrough_reaches_grpo_config_and_the_dry_run(tmp_path):
    params = _with_train(tmp_path, trl={"log_completions": True, "vllm_enable_sleep_mode": True,
                                        "vllm_tensor_parallel_size": 2})
    kw = grpo_kwargs(params, "toy", "ground_truth", 1, output_dir="o", device="cpu")
    assert (kw["log_completions"], kw["vllm_enable_sleep_mode"], kw["vllm_tensor_parallel_size"]) == (True, True, 2)
    cfg = make_config(kw)
    assert cfg.vllm_tensor_parallel_size == 2 and cfg.log_completions is True
    out = _cli("train", "--dry-run", "--params", params.path, "--model", "toy", "--condition", "ground_truth",
               "--seed", "1")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["grpo_config"]["vllm_tensor_parallel_size"] == 2


@pytest.mark.parametrize("trl, message", [
    ({"log_complétions": True}, None),  # schema: not a Python identifier
    ({"log_completion": True}, r"train\.trl.*log_completion: not a field of TRL .*GRPOConfig \(did you mean "
                               r"log_completions"),
    ({"learning_rate": 1.0}, r"train\.trl.*learning_rate: .*set by the pipeline; set train\.learning_rate"),
    ({"epsilon_high": 0.28}, r"train\.trl.*epsilon_high: .*set train\.epsilon / clip instead"),
    ({"num_iterations": 2}, r"train\.trl.*num_iterations: .*fixed by the pipeline"),
])
def test_trl_passthrough_refuses_unknown_and_pipeline_fields(tmp_path, trl, message):
    if message is None:
        with pytest.raises(ParamsError, match=r"train\.trl"):
            _with_train(tmp_path, trl=trl)
        return
    params = _with_train(tmp_path, trl=trl)
    with pytest.raises(ParamsError, match=message):
        grpo_kwargs(params, "toy", "ground_truth", 1, output_dir="o", device="cpu")
    out = _cli("train", "--dry-run", "--params", params.path, "--model", "toy", "--condition", "ground_truth",
               "--seed", "1")
    assert out.returncode == 2 and list(trl)[0] in out.stderr


def test_every_field_the_pipeline_sets_is_classified():
    """A GRPOConfig key grpo_kwargs sets must be refused in train.trl or listed as overridable."""
    import dataclasses

    from trl import GRPOConfig

    from spurious_rewards.training import grpo_config as gc

    fields = {f.name for f in dataclasses.fields(GRPOConfig)}
    classified = set(gc.PIPELINE_FIELDS) | gc._FIXED_HERE | gc.TRL_OVERRIDABLE
    assert classified <= fields, classified - fields
    for params in (load_params(REPO / "params.yaml"), load_params(REPO / "presets" / "paper.yaml")):
        m, c = params.models[0], params.conditions[0]
        assert set(grpo_kwargs(params, m, c, 1, output_dir="o", device="cuda")) <= classified


def test_trackers_and_run_names(tmp_path):
    params = _with_train(tmp_path, report_to=["wandb", "trackio"])
    kw = grpo_kwargs(params, "toy", "random", 3, output_dir="o", device="cpu")
    assert kw["report_to"] == ["wandb", "trackio"] and kw["run_name"] == "toy/random/seed3"
    assert grpo_kwargs(_with_train(tmp_path, report_to=[]), "toy", "random", 3, output_dir="o",
                       device="cpu")["report_to"] == ["none"]
    with pytest.raises(ParamsError, match="report_to"):
        _with_train(tmp_path, report_to=["mlflow"])
    with pytest.raises(ParamsError, match="report_to.*'none' cannot be combined"):
        grpo_kwargs(_with_train(tmp_path, report_to=["none", "wandb"]), "toy", "random", 3, output_dir="o",
                    device="cpu")


def test_dry_run_shows_the_papers_label_choices(paper):
    from spurious_rewards.commands.train import describe

    model = paper.models[0]
    mv = describe(paper, model, "majority_vote", 42, "cuda")
    assert mv["labels"] == {"kind": "majority_vote", "vote": "exact", "keep_empty": True}
    assert mv["reward"]["grader"] == "paper"
    assert describe(paper, model, "incorrect", 42, "cuda")["labels"]["vote"] == "exact"
    one_shot = describe(paper, model, "one_shot", 42, "cuda")["labels"]
    assert one_shot == {"kind": "one_shot", "source": "path", "id": "7395",
                        "path": "external/rethink_rlvr/DeepScaleR_Difficulty_Level_4/train.json"}
    assert describe(paper, model, "random", 42, "cuda")["labels"] == {"kind": "ground_truth"}
