rule base:
    input:
        unpack(stage_inputs("base")),
    output:
        **stage_outputs("base"),
    log:
        stage_log("base"),
    benchmark:
        stage_benchmark("base")
    params:
        fingerprint=stage_fingerprint("base"),
    resources:
        **stage_resources("base"),
    threads: stage_threads("base")
    conda:
        stage_env("base")
    message:
        "Building the base model {wildcards.model}"
    shell:
        stage_shell("base")


# deterministic and expensive: shareable through `--cache base` (README)
cacheable(rules.base)
