# One rule per stage of the table (src/spurious_rewards/stages.py), named after it: every directive
# comes from the table through common.smk, so a new stage needs a table entry and a message here.


# Cheap aggregate or network-bound (hf datasets) steps run on the submitting host, not as cluster jobs.
localrules:
    data,
    analyze,
    report,


STAGE_MESSAGES = {
    "data": "Building the training prompts and benchmarks",
    "base": "Building the base model {wildcards.model}",
    "labels": "Majority-vote labels for {wildcards.model}",
    "train": "GRPO: {wildcards.model} / {wildcards.condition} / seed {wildcards.seed}",
    "evaluate_base": "Evaluating the base model {wildcards.model} (step 0)",
    "evaluate": "Evaluating every checkpoint of {wildcards.model} / {wildcards.condition} / seed {wildcards.seed}",
    "grade_base": "Grading the base model's completions ({wildcards.model})",
    "grade": "Grading {wildcards.model} / {wildcards.condition} / seed {wildcards.seed}",
    "analyze": "Analysing every run",
    "report": "Writing the report",
}

for _stage in stages.STAGES:
    # A `benchmark:` directive only where Snakemake accepts one: not on a rule this invocation caches
    # between workflows (`--cache base labels`, README), whose output may come from the cache unrun.
    if _stage.name in CACHED_RULES:

        rule:
            name:
                _stage.name
            input:
                unpack(stage_inputs(_stage.name)),
            output:
                **stage_outputs(_stage.name),
            log:
                stage_log(_stage.name),
            conda:
                stage_env(_stage.name)
            threads: stage_threads(_stage.name)
            resources:
                **stage_resources(_stage.name),
            params:
                fingerprint=stage_fingerprint(_stage.name),
            message:
                STAGE_MESSAGES[_stage.name]
            shell:
                stage_shell(_stage.name)

    else:

        rule:
            name:
                _stage.name
            input:
                unpack(stage_inputs(_stage.name)),
            output:
                **stage_outputs(_stage.name),
            log:
                stage_log(_stage.name),
            benchmark:
                stage_benchmark(_stage.name)
            conda:
                stage_env(_stage.name)
            threads: stage_threads(_stage.name)
            resources:
                **stage_resources(_stage.name),
            params:
                fingerprint=stage_fingerprint(_stage.name),
            message:
                STAGE_MESSAGES[_stage.name]
            shell:
                stage_shell(_stage.name)
