# Cheap and network-bound (hf datasets): run it on the submitting host.
localrules:
    data,


rule data:
    input:
        unpack(stage_inputs("data")),
    output:
        **stage_outputs("data"),
    log:
        stage_log("data"),
    benchmark:
        stage_benchmark("data")
    params:
        fingerprint=stage_fingerprint("data"),
    resources:
        **stage_resources("data"),
    threads: stage_threads("data")
    conda:
        stage_env("data")
    message:
        "Building the training prompts and benchmarks"
    shell:
        stage_shell("data")
