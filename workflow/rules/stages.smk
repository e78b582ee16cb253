# Each stage of the table (src/spurious_rewards/stages.py) becomes the rule of the same name, every
# directive taken from the table through common.smk; a new stage needs a table entry and a message here.


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
# Rules in a function, not in the loop's body: Snakemake evaluates the `shell:` expression again when the
# job runs, when a loop variable holds the last stage (every job would run `report`); a closure keeps each
# rule's own stage. snakefmt cannot parse rules inside a function, hence the fmt: off region.
# fmt: off
def stage_rule(stage_name):
    # A `benchmark:` directive only where Snakemake accepts one: not on a rule this invocation caches
    # between workflows (`--cache base labels`, README), whose output may come from the cache unrun.
    if stage_name in CACHED_RULES:
        rule:
            name:
                stage_name
            input:
                unpack(stage_inputs(stage_name)),
            output:
                **stage_outputs(stage_name),
            log:
                stage_log(stage_name),
            conda:
                stage_env(stage_name)
            threads: stage_threads(stage_name)
            resources:
                **stage_resources(stage_name),
            params:
                fingerprint=stage_fingerprint(stage_name),
            message:
                STAGE_MESSAGES[stage_name]
            shell:
                stage_shell(stage_name)
    else:
        rule:
            name:
                stage_name
            input:
                unpack(stage_inputs(stage_name)),
            output:
                **stage_outputs(stage_name),
            log:
                stage_log(stage_name),
            benchmark:
                stage_benchmark(stage_name)
            conda:
                stage_env(stage_name)
            threads: stage_threads(stage_name)
            resources:
                **stage_resources(stage_name),
            params:
                fingerprint=stage_fingerprint(stage_name),
            message:
                STAGE_MESSAGES[stage_name]
            shell:
                stage_shell(stage_name)
# fmt: on
for _stage in stages.STAGES:
    stage_rule(_stage.name)
