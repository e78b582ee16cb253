"""`python -m spurious_rewards train`: GRPO (TRL GRPOTrainer) for one (model, condition, seed).

Flow: params -> GRPOConfig kwargs (grpo_config.py) -> [--dry-run: print them as JSON and stop] ->
[several processes or an accelerate config: re-exec under accelerate launch (launch.py)] ->
resume from the newest complete checkpoint in the state dir, if any -> TRL trains, our callbacks mark,
export and prune checkpoints and guard against NaNs -> the declared outputs (checkpoints folder,
metrics CSV, provenance) are materialised atomically from the state dir.

Exit codes: 0 done; 2 bad params/data (cli.py); 3 non-finite loss/gradient; 143 stopped by SIGTERM
(rerun to resume).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from spurious_rewards import cliargs, paths, progress, prompts, provenance
from spurious_rewards.config import Params, load_params
from spurious_rewards.training import checkpoints, launch
from spurious_rewards.training.grpo_config import Plan, grpo_kwargs, plan

# The parameter keys this module reads (codegraph: the stage table derives fingerprints and DVC params).
PARAMS = ("train", "models.{model}", "conditions.{condition}", "grader", "experiment.device",
          "experiment.torch_threads")
# read but not tracked: experiment.seeds only for a warning (a new seed must not rerun every other one);
# labels and data.one_shot only for --dry-run's display (the label files they make are inputs already)
UNTRACKED_PARAMS = ("experiment.seeds", "labels", "data.one_shot")

log = logging.getLogger(__name__)

EXIT_NON_FINITE = 3
EXIT_PREEMPTED = 143


class Preempted(RuntimeError):
    """The run stopped on SIGTERM; its state dir holds what a rerun resumes from."""


def configure_parser(parser: argparse.ArgumentParser) -> None:
    cliargs.add_params(parser)
    cliargs.add_run(parser)
    parser.add_argument("--dry-run", action="store_true",
                        help="print the GRPOConfig and batch plan as one JSON object on stdout; train nothing")


def _device(params: Params, dry_run: bool) -> str:
    requested = params.experiment["device"]
    if requested == "auto" or not dry_run:
        from spurious_rewards.model.loading import resolve_device

        return resolve_device(requested)
    return requested  # a dry run never checks that the GPU it names exists


def _expected_revision(params: Params, model: str) -> str | None:
    """The revision the real run will load: from the base folder if built, else from the params."""
    from spurious_rewards.model.loading import REFERENCE_FILE, resolve
    from spurious_rewards.model.spec import resolve_spec

    base = paths.base_model(params.results_dir, model)
    if (base / REFERENCE_FILE).is_file():
        return resolve(base)[1]
    return resolve_spec(params, model).revision


def describe(params: Params, model: str, condition: str, seed: int, device: str) -> dict[str, Any]:
    """Everything the real run would use, as JSON (the dry-run contract)."""
    from spurious_rewards.model.spec import resolve_spec

    spec = resolve_spec(params, model)
    cond = params.condition(condition)
    r = params.results_dir
    train = params.train(model, condition)
    state = paths.train_state_dir(r, model, condition, seed)
    kwargs = grpo_kwargs(params, model, condition, seed, output_dir=checkpoints.trl_dir(state), device=device,
                         revision=_expected_revision(params, model))
    p = plan(train)
    world = train["world_size"]
    cmd = None
    if launch.needs_launch(world, train["accelerate_config"], env={}):
        argv = launch.stage_argv(argparse.Namespace(params=params.path, model=model, condition=condition,
                                                    seed=seed))
        cmd = launch.command(argv, world, train["accelerate_config"])
    return {
        "grpo_config": kwargs,
        "world_size": world,
        "device": device,
        "accelerate_launch": cmd,
        "plan": p.as_dict(),
        "checkpoint_steps": p.export_steps(),
        "advantage": {"group": train["scale_rewards"],
                      "whitening": train["advantage_whitening"]},
        "reward": {"name": cond["reward"], "grader": params.section("grader"), "seed": seed,
                   "answer_region": spec.answer_region,
                   "text": train["reward_text"],
                   "options": cond["reward_options"]},
        "dataset": str(paths.training_set(r, model, cond["labels"])),
        "labels": _label_choices(params, cond["labels"]),
        "base_model": str(paths.base_model(r, model)),
        "state_dir": str(state),
        "outputs": {"checkpoints": str(paths.checkpoints_dir(r, model, condition, seed)),
                    "final": str(paths.final_model(r, model, condition, seed)),
                    "metrics": str(paths.train_metrics(r, model, condition, seed))},
    }


def _label_choices(params: Params, kind: str) -> dict:
    """How the training labels were made, where the paper preset and our defaults differ."""
    if kind in ("majority_vote", "incorrect"):
        labels = params.section("labels")
        return {"kind": kind, "vote": labels["vote"], "keep_empty": labels["keep_empty"]}
    if kind == "one_shot":
        one_shot = params.section("data")["one_shot"]
        return {"kind": kind, **{k: one_shot[k] for k in ("source", "path", "id") if k in one_shot}}
    return {"kind": kind}


def main(args: argparse.Namespace) -> int:
    cliargs.check_run(args)
    params = load_params(args.params)
    if args.seed not in params.seeds:
        log.warning("seed %d is not in experiment.seeds %s", args.seed, params.seeds)
    device = _device(params, args.dry_run)
    if args.dry_run:
        print(json.dumps(describe(params, args.model, args.condition, args.seed, device), sort_keys=True))
        return 0
    train = params.train(args.model, args.condition)
    if launch.needs_launch(train["world_size"], train["accelerate_config"]):
        cmd = launch.command(launch.stage_argv(args), train["world_size"], train["accelerate_config"])
        print("+ " + " ".join(cmd), file=sys.stderr, flush=True)
        launch.exec_launch(cmd)
    from spurious_rewards.training.callbacks import NonFiniteError

    try:
        run(params, args.model, args.condition, args.seed, device=device)
    except NonFiniteError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_NON_FINITE
    except Preempted as exc:
        print(f"stopped: {exc}", file=sys.stderr)
        return EXIT_PREEMPTED
    return 0


def _set_threads(params: Params, device: str) -> None:
    import torch

    if device == "cpu":
        torch.set_num_threads(params.experiment["torch_threads"])


def build_trainer(params: Params, model: str, condition: str, seed: int, *, device: str,
                  callbacks: Sequence = ()):
    """(trainer, plan, kwargs, state_dir): the GRPOTrainer of one run, ready to train()."""
    from spurious_rewards.model.loading import check_loadable, load_tokenizer, resolve
    from spurious_rewards.model.spec import resolve_spec
    from spurious_rewards.rewards import build_reward
    from spurious_rewards.training import dataset, vllm_cpu
    from spurious_rewards.training.advantage import trainer_class
    from spurious_rewards.training.callbacks import CheckpointBookkeeping, NonFiniteGuard, Preemption
    from spurious_rewards.training.decoding import reward_text
    from spurious_rewards.training.grpo_config import make_config
    from spurious_rewards.training.metrics import with_code_frequency

    r = params.results_dir
    spec, cond = resolve_spec(params, model), params.condition(condition)
    train = params.train(model, condition)
    p = plan(train, where=f"{params.path}: key train")
    state = paths.train_state_dir(r, model, condition, seed)
    base = paths.base_model(r, model)
    check_loadable(base)
    path, revision = resolve(base)
    kwargs = grpo_kwargs(params, model, condition, seed, output_dir=checkpoints.trl_dir(state),
                         device=device, revision=revision)
    template = spec.prompt_template
    if prompts.is_r1(template) and not kwargs["use_vllm"]:
        log.warning("R1 template without vLLM: the stop string </answer> is not applied to rollouts")
    tokenizer = load_tokenizer(base, trust_remote_code=spec.trust_remote_code)
    rows = dataset.load_rows(paths.training_set(r, model, cond["labels"]), template, spec.system_prompt,
                             tokenizer, train["max_prompt_length"])
    train_set = dataset.ordered_dataset(rows, train["prompts_per_step"], train["steps"], seed)
    reward = with_code_frequency(reward_text(
        build_reward(cond["reward"], grader=params.section("grader"), seed=seed,
                     answer_region=spec.answer_region, **cond["reward_options"]),
        train["reward_text"], tokenizer))
    # TensorBoard and W&B write into the state dir: it survives reruns, the declared outputs do not.
    os.environ["TENSORBOARD_LOGGING_DIR"] = str(checkpoints.tensorboard_dir(state))
    os.environ.setdefault("WANDB_DIR", str(state))
    guard = NonFiniteGuard(p)
    shown = progress.trainer_callback(f"train {model}/{condition}/seed{seed}: rollout step", p.rollout_steps,
                                      step_of=lambda update: update // p.updates_per_rollout)
    cbs = [guard, CheckpointBookkeeping(p, state), Preemption(p), shown, *callbacks]
    trainer_cls = trainer_class(train["advantage_whitening"], train["log_token_probability"])
    vllm_cpu.prepare(kwargs, device)
    trainer = trainer_cls(model=path, reward_funcs=[reward], args=make_config(kwargs),
                          train_dataset=train_set, processing_class=tokenizer, callbacks=cbs)
    return trainer, p, kwargs, state


def run_settings(params: Params, model: str, condition: str, seed: int) -> dict[str, str]:
    """What a resumable state depends on: the train job's parameters and the training set's content."""
    # The stage table is the DAG's description, not training code; a resumable state records the
    # fingerprint the engines compute from it.
    from spurious_rewards import stages  # codegraph: not a dependency (the DAG, not training code)

    data = paths.training_set(params.results_dir, model, params.condition(condition)["labels"])
    return {"params": stages.fingerprint(params, stages.stage("train"), model=model, condition=condition,
                                         seed=seed),
            "training_set": provenance.file_hash(data) if Path(data).is_file() else "missing"}


def run(params: Params, model: str, condition: str, seed: int, *, device: str = "cpu",
        callbacks: Sequence = ()) -> dict[str, Any]:
    """Train (or resume) one run and materialise its declared outputs. Returns a summary."""
    from spurious_rewards.training.callbacks import Preemption

    _set_threads(params, device)
    trainer, p, kwargs, state = build_trainer(params, model, condition, seed, device=device, callbacks=callbacks)
    main_process = trainer.accelerator.is_main_process
    if main_process:
        checkpoints.reset_if_changed(state, run_settings(params, model, condition, seed))
    # The main process verifies and sets bad checkpoints aside; the others then take the newest marked one.
    resume = checkpoints.latest_complete(state, clean=True) if main_process else None
    trainer.accelerator.wait_for_everyone()
    if not main_process:
        resume = checkpoints.latest_complete(state, clean=False, check=False)
    if resume is not None:
        log.info("resuming from %s (optimizer update %d)", resume, checkpoints.global_step_of(resume))
    preempt = next(cb for cb in trainer.callback_handler.callbacks if isinstance(cb, Preemption))
    started = time.time()
    try:
        trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    finally:
        preempt.on_train_end(None, None, None)  # restore the SIGTERM handler even after an error
    if preempt.requested:
        raise Preempted(f"SIGTERM at optimizer update {trainer.state.global_step}; state in {state}")
    if trainer.state.global_step < p.max_steps:
        raise RuntimeError(f"training stopped at update {trainer.state.global_step} of {p.max_steps}")
    summary = {"resumed_from": str(resume) if resume else None, "train_seconds": round(time.time() - started, 3),
               "global_step": trainer.state.global_step}
    if main_process:
        summary.update(finalise(params, model, condition, seed, trainer.state.log_history, p, kwargs, state,
                                resumed_from=summary["resumed_from"]))
    trainer.accelerator.wait_for_everyone()
    return summary


def saved_steps(p: Plan) -> list[int]:
    return p.export_steps()


def finalise(params: Params, model: str, condition: str, seed: int, log_history: list[dict], p: Plan,
             kwargs: dict, state: Path, resumed_from: str | None = None) -> dict[str, Any]:
    """Write the declared outputs: metrics CSV (+ provenance), then the checkpoints folder."""
    from spurious_rewards.io import write_csv
    from spurious_rewards.training import metrics

    r = params.results_dir
    cond = params.condition(condition)
    spec = params.model(model)
    data_file = paths.training_set(r, model, cond["labels"])
    rec = provenance.record(
        params, "train", sections=("train", "grader"), model=model, condition=condition, seed=seed,
        model_spec=spec, condition_spec=cond, train=params.train(model, condition), grpo_config=kwargs,
        plan=p.as_dict(), dataset={"path": str(data_file), "sha256": provenance.file_hash(data_file)},
        base_model=str(paths.base_model(r, model)), resumed_from=resumed_from)
    frame = metrics.frame(log_history, p.updates_per_rollout)
    metrics_path = paths.train_metrics(r, model, condition, seed)
    write_csv(metrics_path, frame)
    provenance.write(metrics_path, rec)
    steps = saved_steps(p)
    ckpt_dir = paths.checkpoints_dir(r, model, condition, seed)
    checkpoints.materialise(state, ckpt_dir, steps, provenance=dict(rec, steps=steps))
    final = paths.final_model(r, model, condition, seed)
    checkpoints.materialise_final(state, final, steps[-1], provenance=dict(rec, step=steps[-1]))
    log.info("wrote %s (%d rows) and %s (steps %s)", metrics_path, len(frame), ckpt_dir, steps)
    return {"metrics": str(metrics_path), "checkpoints": str(ckpt_dir), "final": str(final), "steps": steps,
            "rows": len(frame)}


if __name__ == "__main__":  # pragma: no cover
    from spurious_rewards.cli import main as cli_main

    raise SystemExit(cli_main(["train", *sys.argv[1:]]))
