"""TrainerCallbacks of the train stage: the NaN guard, checkpoint bookkeeping and preemption.

All behaviour is added through TRL/transformers' callback events; the training loop is TRL's own.
"""

from __future__ import annotations

import logging
import signal
from pathlib import Path

from transformers import TrainerCallback

from spurious_rewards.training import checkpoints
from spurious_rewards.training.grpo_config import Plan
from spurious_rewards.training.metrics import non_finite

log = logging.getLogger(__name__)


class NonFiniteError(RuntimeError):
    """Training produced a non-finite loss or gradient norm; nothing was stepped or saved with it."""


class NonFiniteGuard(TrainerCallback):
    """Stop before a non-finite gradient reaches the optimizer, and on any non-finite logged loss.

    on_pre_optimizer_step runs after gradient clipping: a non-finite pre-clip norm leaves NaN in the
    clipped gradients (clip coefficient NaN or 0 * inf), so one norm over them decides. Under DeepSpeed
    the gradients are partitioned inside the engine (p.grad is None); there the logged loss/grad_norm
    check in on_log catches it, still before the step's checkpoint is written (TRL logs, then saves).
    """

    def __init__(self, plan: Plan):
        self.plan = plan

    def _fail(self, what: str, value, step: int) -> None:
        raise NonFiniteError(
            f"non-finite {what} ({value}) at optimizer update {step} (rollout step "
            f"{self.plan.rollout_step(step)}); stopping before it is applied. Typical causes: bf16 with "
            "SDPA attention on small heads (use attn_implementation: eager or precision: fp32), or a too "
            "large learning_rate")

    def on_pre_optimizer_step(self, args, state, control, model=None, **kwargs):
        import torch

        grads = [p.grad for p in model.parameters() if p.grad is not None] if model is not None else []
        if grads:
            norm = torch.nn.utils.get_total_norm(grads)
            if not bool(torch.isfinite(norm)):
                self._fail("gradient norm", norm.item(), state.global_step + 1)

    def on_log(self, args, state, control, logs=None, **kwargs):
        for key in ("loss", "grad_norm"):
            if logs and key in logs and non_finite(logs[key]):
                self._fail(key, logs[key], state.global_step)  # already counted here


class CheckpointBookkeeping(TrainerCallback):
    """After each TRL save: mark it complete, export the model at the plan's export steps, prune.

    TRL saves every save_steps updates; inside the final window (save_final_window) this callback also
    asks for a save at every rollout boundary, so each of those steps gets an exported model.
    """

    def __init__(self, plan: Plan, state_dir: Path):
        self.plan = plan
        self.state_dir = Path(state_dir)

    def on_step_end(self, args, state, control, **kwargs):
        step = state.global_step
        if self.plan.is_rollout_boundary(step) and self.plan.in_final_window(self.plan.rollout_step(step)):
            control.should_save = True
        return control

    def on_save(self, args, state, control, **kwargs):
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            dist.barrier()  # every rank's shard is on disk before the mark says so
        if not state.is_world_process_zero:
            return
        ckpt = checkpoints.trl_dir(self.state_dir) / f"checkpoint-{state.global_step}"
        rollout = self.plan.rollout_step(state.global_step)
        boundary = self.plan.is_rollout_boundary(state.global_step)
        checkpoints.mark_complete(ckpt, global_step=state.global_step, rollout_step=rollout,
                                  rollout_boundary=boundary)
        if boundary and rollout in self.plan.export_steps():
            checkpoints.export(ckpt, self.state_dir, rollout, state.global_step)
            log.info("checkpoint: rollout step %d (update %d) exported", rollout, state.global_step)
        checkpoints.prune(self.state_dir, keep=ckpt)


class Preemption(TrainerCallback):
    """SIGTERM (SLURM preemption, scancel) -> stop at the end of the current optimizer update.

    If that update closes a rollout step, a resume checkpoint is saved first (resuming inside a
    rollout would lose the buffered generations, so only boundaries are resumable); otherwise the
    run just stops and the rerun resumes from the last complete checkpoint. The stage then exits 143.
    """

    def __init__(self, plan: Plan):
        self.plan = plan
        self.requested = False
        self._previous = None

    def _handler(self, signum, frame):
        log.warning("SIGTERM received: stopping at the end of this optimizer update")
        self.requested = True

    def on_train_begin(self, args, state, control, **kwargs):
        try:
            self._previous = signal.signal(signal.SIGTERM, self._handler)
        except ValueError:  # not the main thread (e.g. an embedding application): leave signals alone
            self._previous = None

    def on_train_end(self, args, state, control, **kwargs):
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)
            self._previous = None

    def on_step_end(self, args, state, control, **kwargs):
        if self.requested:
            control.should_training_stop = True
            control.should_save = self.plan.is_rollout_boundary(state.global_step)
        return control
