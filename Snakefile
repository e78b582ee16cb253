# spurious-rewards: the study as one DAG.
#   data -> base -> labels -> train (model x condition x seed) -> evaluate (every checkpoint, step 0
#   included) -> grade -> analyze -> report
# Parameters: params.yaml (or `--config params=presets/paper.yaml`), validated against
# workflow/schemas/params.schema.yaml. Inputs, outputs, resources and commands come from the stage
# table in src/spurious_rewards/stages.py, which also generates dvc.yaml.

from snakemake.utils import min_version

min_version("9.0")


# load and validate the parameters, expose stage-table helpers
include: "workflow/rules/common.smk"
# per-stage extras (the report rule's `report()` outputs), then one rule per stage of the table
include: "workflow/rules/report.smk"
include: "workflow/rules/stages.smk"


# the parameters were validated while this file was read: record it as DVC's `validate` stage does
onstart:
    validation_stamp()


rule all:
    default_target: True
    input:
        rules.report.output,
