"""The commands of `python -m spurious_rewards <command>`, one module each, named as the command.

The pipeline's stages (the stage table, the Snakemake rules, dvc.yaml) call these same commands under
the same names (`evaluate_base` and `grade_base` are the `--base` forms of `evaluate` and `grade`).
A command parses its arguments, loads the parameters and calls the library packages beside this one
(data, model, training, generation, grading, analysis, report); no library module imports a command.
"""
