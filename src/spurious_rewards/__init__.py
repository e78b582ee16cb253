"""spurious-rewards: a reproducible re-run of "Spurious Rewards: Rethinking Training Signals in RLVR".

The logic of every pipeline stage lives in this package; Snakemake and DVC only wire files together
and call `python -m spurious_rewards <stage>`.
"""

__version__ = "0.1.0"
