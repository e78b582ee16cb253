rule labels:
    input:
        unpack(stage_inputs("labels")),
    output:
        **stage_outputs("labels"),
    log:
        stage_log("labels"),
    benchmark:
        stage_benchmark("labels")
    params:
        fingerprint=stage_fingerprint("labels"),
    resources:
        **stage_resources("labels"),
    threads: stage_threads("labels")
    conda:
        stage_env("labels")
    message:
        "Majority-vote labels for {wildcards.model}"
    shell:
        stage_shell("labels")


# deterministic and expensive: shareable through `--cache labels` (README)
cacheable(rules.labels)
