rule train:
    input:
        unpack(stage_inputs("train")),
    output:
        **stage_outputs("train"),
    log:
        stage_log("train"),
    benchmark:
        stage_benchmark("train")
    params:
        fingerprint=stage_fingerprint("train"),
    resources:
        **stage_resources("train"),
    threads: stage_threads("train")
    conda:
        stage_env("train")
    message:
        "GRPO: {wildcards.model} / {wildcards.condition} / seed {wildcards.seed}"
    shell:
        stage_shell("train")
