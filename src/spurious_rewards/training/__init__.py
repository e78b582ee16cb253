"""GRPO training of one (model, condition, seed) with TRL's GRPOTrainer, driven by commands/train.py.

Modules, one job each:
    grpo_config  params `train` section -> GRPOConfig kwargs; units; TRL vs paper deviations
    dataset      the run's prompts in their seeded, resume-exact order
    callbacks    NaN guard, checkpoint completeness/export/pruning, SIGTERM preemption
    checkpoints  state-dir layout, resume discovery, atomic materialisation of the outputs
    metrics      code-reasoning frequency of rollouts; the tidy per-step CSV
    launch       re-exec under `accelerate launch` for multi-GPU / DeepSpeed
    smoke        a tiny offline base model + params for tests and benchmarks
"""
