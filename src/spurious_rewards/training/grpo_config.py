"""The `train` parameters of one run -> TRL's GRPOConfig (the one place that maps them).

Units. Params count ROLLOUT steps, as the paper does: one rollout step samples
`prompts_per_step x generations_per_prompt` responses, then runs `rollout / optimizer_batch` optimizer
updates on them. TRL's `global_step` counts optimizer updates, and its `steps_per_generation` counts
MICRO-batches (forward/backward passes) per generation batch. So, with U = updates per rollout and
micro = per_device_train_batch_size:

    optimizer_batch      = micro * gradient_accumulation_steps * world_size
    steps_per_generation = U * gradient_accumulation_steps     (=> generation batch = the rollout batch)
    max_steps            = steps * U          save_steps = save_every * U

plus, with `save_final_window: N`, a save at every rollout step of the last N (callbacks.py asks TRL for
them), so that the paper's 10-step smoothing of the final value averages N per-step evaluations.

Keeping the generation batch larger than the optimizer batch is what makes pi_old != pi_theta from the
second update of a rollout on, i.e. what lets the PPO clip act at all (paper App. B.2).

How TRL's GRPO differs from the paper's OpenRLHF GRPO, and the closest setting chosen here:

* Loss aggregation. OpenRLHF (`--packing_samples`) takes a token mean over each packed micro-batch and
  averages micro-batches. TRL `loss_type: bnpo` is exactly a token mean over the local micro-batch,
  divided by the accumulation steps, so the paper preset uses bnpo (TRL's default, dapo, normalises by
  the tokens of the whole generation batch instead; grpo takes a per-sequence mean first).
* Advantage. Both compute (r - mean_g) / (std_g + eps) with the unbiased group std (TRL's nanstd uses
  the n-1 correction); eps is 1e-4 in TRL vs 1e-9. OpenRLHF then whitens advantages again over the whole
  rollout batch (token-weighted); TRL has no equivalent (scale_rewards: batch replaces the group std by
  the batch std, it does not re-whiten). `advantage_whitening: token` reproduces that second whitening
  through a GRPOTrainer subclass (training/advantage.py); it is not a GRPOConfig key, so the dry run
  shows it under "advantage".
* Clipping switch. `clip: false` sets epsilon = epsilon_high = 1e9, so clamp(rho, 1-eps, 1+eps) == rho
  and the loss is the unclipped surrogate -(pi_theta/pi_old) * A. TRL has no documented "no clip" flag;
  the released code's `--use_policy_loss_wo_old_log_probs` (-exp(log pi_theta) * A) has no TRL
  equivalent either, and the paper does not say which one its no-clip runs used.
* vLLM. TRL corrects the vLLM/trainer logprob mismatch by importance sampling by default; OpenRLHF
  (vLLM 0.7.2) did not, so `vllm_importance_sampling_correction` defaults to false here.
* Prompt length. TRL 1.16 has no max_prompt_length; prompts over `max_prompt_length` tokens are
  dropped from the training set (training/dataset.py) instead of being truncated as OpenRLHF does.
* R1 stop string ("</answer>") is applied through vLLM's `stop`; transformers generation in TRL gets
  no tokenizer, so under use_vllm: false the R1 template generates to EOS / max length (logged).
* Data order: a seeded permutation per epoch (drop_last), built by us and fed unshuffled to TRL, so
  resuming skips exactly the consumed prompts (TRL's sampler reseeds each epoch from scratch).
* Optimizer: torch AdamW with weight_decay 0 (= Adam), fp32 master weights; the paper used
  DeepSpeedCPUAdam (offloaded). Same update rule.

`grpo_kwargs` builds a plain dict of GRPOConfig keyword arguments. The dry-run prints it, and the real
run calls `GRPOConfig(**kwargs)` on the very same dict, so the two cannot drift; nothing here looks at
the local hardware except through the `device` argument.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from spurious_rewards import prompts
from spurious_rewards.config import Params, ParamsError
from spurious_rewards.model.spec import resolve_spec

# The parameter keys this module reads (codegraph: the stage table derives fingerprints and DVC params).
PARAMS = ("train", "models.{model}", "conditions.{condition}.train")

# epsilon of the `clip: false` control: wide enough that the clamp never binds.
NO_CLIP_EPSILON = 1.0e9


@dataclass(frozen=True)
class Plan:
    """Batch arithmetic of one run, in both units."""

    rollout_batch: int            # responses per rollout step
    updates_per_rollout: int      # optimizer updates per rollout step (U)
    per_device_batch: int         # micro-batch per device (TRL per_device_train_batch_size)
    grad_accum: int
    world_size: int
    steps_per_generation: int     # TRL: micro-batches per generation batch
    max_steps: int                # TRL: optimizer updates in the run
    save_steps: int               # TRL: optimizer updates between checkpoints
    rollout_steps: int
    save_every: int
    final_window: int = 0         # also export every rollout step of the last final_window steps

    def export_steps(self) -> list[int]:
        """Rollout steps whose model is exported: every save_every-th, the last, and the final window."""
        steps = set(range(self.save_every, self.rollout_steps + 1, self.save_every))
        steps.add(self.rollout_steps)
        steps.update(range(max(self.rollout_steps - self.final_window + 1, 1), self.rollout_steps + 1))
        return sorted(steps)

    def in_final_window(self, rollout_step: int) -> bool:
        return rollout_step > self.rollout_steps - self.final_window

    def rollout_step(self, global_step: int) -> int:
        """Rollout step that optimizer update `global_step` (1-based) belongs to."""
        return -(-global_step // self.updates_per_rollout)

    def is_rollout_boundary(self, global_step: int) -> bool:
        return global_step % self.updates_per_rollout == 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def plan(train: dict, where: str = "train") -> Plan:
    """Check the batch arithmetic of a merged `train` section and derive TRL's step counts."""
    rollout = train["prompts_per_step"] * train["generations_per_prompt"]
    opt = train["optimizer_batch"]
    world = train["world_size"]
    if rollout % opt:
        raise ParamsError(f"{where}.optimizer_batch: {opt} must divide prompts_per_step * "
                          f"generations_per_prompt = {rollout}")
    micro = train["per_device_batch"] or opt // world  # null: no gradient accumulation
    if micro < 1 or opt % (micro * world):
        raise ParamsError(f"{where}.per_device_batch: optimizer_batch {opt} must be a multiple of "
                          f"per_device_batch ({micro}) * world_size ({world})")
    if train["save_every"] > train["steps"]:
        raise ParamsError(f"{where}.save_every: {train['save_every']} exceeds steps ({train['steps']}); "
                          "no checkpoint would be written")
    window = train["save_final_window"]
    if window > train["steps"]:
        raise ParamsError(f"{where}.save_final_window: {window} exceeds steps ({train['steps']})")
    updates = rollout // opt
    accum = opt // (micro * world)
    return Plan(rollout_batch=rollout, updates_per_rollout=updates, per_device_batch=micro,
                grad_accum=accum, world_size=world, steps_per_generation=updates * accum,
                max_steps=train["steps"] * updates, save_steps=train["save_every"] * updates,
                rollout_steps=train["steps"], save_every=train["save_every"], final_window=window)


def generation_kwargs(template: str, use_vllm: bool) -> dict | None:
    """Stop strings of the prompt template, in the form the rollout engine takes."""
    stops = prompts.stop_strings(template)
    if not stops or not use_vllm:
        return None
    return {"stop": list(stops), "include_stop_str_in_output": True}


def grpo_kwargs(params: Params, model: str, condition: str, seed: int, *, output_dir: str | Path,
                device: str, revision: str | None = None) -> dict[str, Any]:
    """GRPOConfig keyword arguments of one run. JSON-serialisable; `device` is cpu or cuda."""
    train = params.train(model, condition)
    p = plan(train, where=f"{params.path}: key train (model {model}, condition {condition})")
    cpu = device == "cpu"
    bf16 = train["precision"] == "bf16" and not cpu
    epsilon = train["epsilon"] if train["clip"] else NO_CLIP_EPSILON
    use_vllm = bool(train["use_vllm"])
    template = resolve_spec(params, model).prompt_template
    model_init = {"dtype": "float32", "attn_implementation": train["attn_implementation"]}
    if revision:
        model_init["revision"] = revision
    report_to = _report_to(train["report_to"], where=f"{params.path}: key train.report_to")
    kwargs: dict[str, Any] = {
        "output_dir": str(output_dir),
        "seed": int(seed),
        # -- batch structure (see the module docstring)
        "max_steps": p.max_steps,
        "per_device_train_batch_size": p.per_device_batch,
        "gradient_accumulation_steps": p.grad_accum,
        "steps_per_generation": p.steps_per_generation,
        "num_generations": train["generations_per_prompt"],
        "num_iterations": 1,
        # our seeded order (training/dataset.py); TRL's own shuffle is not resume-exact across epochs
        "shuffle_dataset": False,
        # -- optimisation
        "learning_rate": train["learning_rate"],
        "lr_scheduler_type": train["lr_scheduler"],
        "warmup_steps": float(train["warmup_ratio"]) if train["warmup_ratio"] else 0,
        "optim": "adamw_torch",
        "adam_beta1": train["adam_beta1"],
        "adam_beta2": train["adam_beta2"],
        "weight_decay": train["weight_decay"],
        "max_grad_norm": train["max_grad_norm"],
        # -- GRPO objective
        "loss_type": train["loss_type"],
        "epsilon": epsilon,
        "epsilon_high": epsilon,
        "beta": train["beta"],
        "entropy_coef": 0.0,
        "scale_rewards": train["scale_rewards"],
        "mask_truncated_completions": False,
        # -- sampling
        "temperature": train["temperature"],
        "top_p": train["top_p"],
        "top_k": 0,
        "max_completion_length": train["max_completion_length"],
        "generation_kwargs": generation_kwargs(template, use_vllm),
        # -- model, precision, device
        "model_init_kwargs": model_init,
        "bf16": bf16,
        "fp16": False,
        "use_cpu": cpu,
        "gradient_checkpointing": bool(train["gradient_checkpointing"]) and not cpu,
        # -- rollouts
        "use_vllm": use_vllm,
        # -- logging and checkpoints: one log row per optimizer update, NaNs not filtered out
        "logging_steps": 1,
        "logging_nan_inf_filter": False,
        "report_to": report_to,
        # the tracker's run name: model/condition/seed, the run's place in the sweep
        "run_name": f"{model}/{condition}/seed{seed}",
        "project": TRACKER_PROJECT,
        # TRL's tqdm bar rewrites one line with carriage returns; training/callbacks.py logs lines instead
        "disable_tqdm": True,
        "log_completions": False,
        "save_strategy": "steps",
        "save_steps": p.save_steps,
        # rotation is ours (training/checkpoints.py): TRL's would delete by mtime, marks unseen
        "save_total_limit": None,
        "save_only_model": False,
        "remove_unused_columns": False,
        "dataloader_num_workers": 0,
    }
    if use_vllm:
        kwargs.update({
            "vllm_mode": train["vllm_mode"],
            "vllm_gpu_memory_utilization": train["vllm_gpu_memory_utilization"],
            "vllm_max_model_length": train["max_prompt_length"] + train["max_completion_length"],
            "vllm_importance_sampling_correction": train["vllm_importance_sampling_correction"],
        })
    extra = dict(train["trl"])
    if extra:
        check_trl_fields(extra, where=f"{params.path}: key train.trl (model {model}, condition {condition})")
        kwargs.update(extra)
    return kwargs


# W&B / trackio project of every run (W&B reads WANDB_PROJECT first, trackio takes this).
TRACKER_PROJECT = "spurious-rewards"
TRACKERS = ("tensorboard", "wandb", "trackio")

# GRPOConfig fields the pipeline sets from its own parameters (value: where to set them instead).
# `train.trl` may not set these: the batch arithmetic, the clipping control, checkpoints and the
# metrics CSV all rely on them. Fields set from `train.<key>` name that key.
PIPELINE_FIELDS = {
    "output_dir": "experiment.results_dir (the run's state dir)", "seed": "experiment.seeds",
    "max_steps": "train.steps", "save_steps": "train.save_every", "save_strategy": "train.save_every",
    "per_device_train_batch_size": "train.per_device_batch", "gradient_accumulation_steps":
    "train.optimizer_batch", "steps_per_generation": "train.optimizer_batch and train.prompts_per_step",
    "num_generations": "train.generations_per_prompt", "learning_rate": "train.learning_rate",
    "lr_scheduler_type": "train.lr_scheduler", "warmup_steps": "train.warmup_ratio",
    "adam_beta1": "train.adam_beta1", "adam_beta2": "train.adam_beta2", "weight_decay": "train.weight_decay",
    "max_grad_norm": "train.max_grad_norm", "loss_type": "train.loss_type", "epsilon": "train.epsilon / clip",
    "epsilon_high": "train.epsilon / clip", "beta": "train.beta", "scale_rewards": "train.scale_rewards",
    "temperature": "train.temperature", "top_p": "train.top_p",
    "max_completion_length": "train.max_completion_length", "bf16": "train.precision",
    "fp16": "train.precision", "use_cpu": "experiment.device", "model_init_kwargs":
    "train.attn_implementation / models.<m>.revision", "gradient_checkpointing": "train.gradient_checkpointing",
    "use_vllm": "train.use_vllm", "vllm_mode": "train.vllm_mode",
    "vllm_gpu_memory_utilization": "train.vllm_gpu_memory_utilization",
    "vllm_max_model_length": "train.max_prompt_length + max_completion_length",
    "vllm_importance_sampling_correction": "train.vllm_importance_sampling_correction",
    "report_to": "train.report_to", "run_name": "the run (model/condition/seedN)",
}
# Set by grpo_kwargs but only for presentation or speed: `train.trl` may override these.
TRL_OVERRIDABLE = frozenset({"log_completions", "dataloader_num_workers", "project"})


def _report_to(value, where: str) -> list[str]:
    names = list(value or []) or ["none"]
    if "none" in names and len(names) > 1:
        raise ParamsError(f"{where}: 'none' cannot be combined with {[n for n in names if n != 'none']}")
    return names


def check_trl_fields(extra: dict, where: str) -> None:
    """Refuse a `train.trl` name that is not a GRPOConfig field of the installed TRL, or one the pipeline
    sets itself (those have their own key in `train`, or are fixed by the batch/checkpoint design)."""
    import dataclasses
    import difflib

    import trl
    from trl import GRPOConfig

    known = {f.name for f in dataclasses.fields(GRPOConfig) if f.init}
    fixed = (set(PIPELINE_FIELDS) | _FIXED_HERE) - TRL_OVERRIDABLE
    for name in extra:
        if name not in known:
            near = difflib.get_close_matches(name, sorted(known), n=3)
            hint = f" (did you mean {', '.join(near)}?)" if near else ""
            raise ParamsError(f"{where}.{name}: not a field of TRL {trl.__version__}'s GRPOConfig{hint}")
        if name in fixed:
            instead = PIPELINE_FIELDS.get(name)
            how = f"set {instead} instead" if instead else "fixed by the pipeline (training/grpo_config.py)"
            raise ParamsError(f"{where}.{name}: GRPOConfig.{name} is set by the pipeline; {how}")


# Fields grpo_kwargs fixes without a params key (their values are part of the design, see the docstring).
_FIXED_HERE = frozenset({"num_iterations", "shuffle_dataset", "optim", "entropy_coef",
                         "mask_truncated_completions", "top_k", "generation_kwargs", "logging_steps",
                         "logging_nan_inf_filter", "disable_tqdm", "save_total_limit", "save_only_model",
                         "remove_unused_columns"})


def make_config(kwargs: dict[str, Any]):
    """The real GRPOConfig (validates against the installed TRL and the local hardware)."""
    from trl import GRPOConfig

    return GRPOConfig(**kwargs)
