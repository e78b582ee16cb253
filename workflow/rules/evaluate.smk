rule evaluate_base:
    input:
        unpack(stage_inputs("evaluate_base")),
    output:
        **stage_outputs("evaluate_base"),
    log:
        stage_log("evaluate_base"),
    benchmark:
        stage_benchmark("evaluate_base")
    params:
        fingerprint=stage_fingerprint("evaluate_base"),
    resources:
        **stage_resources("evaluate_base"),
    threads: stage_threads("evaluate_base")
    conda:
        stage_env("evaluate_base")
    message:
        "Evaluating the base model {wildcards.model} (step 0)"
    shell:
        stage_shell("evaluate_base")


rule evaluate:
    input:
        unpack(stage_inputs("evaluate")),
    output:
        **stage_outputs("evaluate"),
    log:
        stage_log("evaluate"),
    benchmark:
        stage_benchmark("evaluate")
    params:
        fingerprint=stage_fingerprint("evaluate"),
    resources:
        **stage_resources("evaluate"),
    threads: stage_threads("evaluate")
    conda:
        stage_env("evaluate")
    message:
        "Evaluating every checkpoint of {wildcards.model} / {wildcards.condition} / seed {wildcards.seed}"
    shell:
        stage_shell("evaluate")


rule grade_base:
    input:
        unpack(stage_inputs("grade_base")),
    output:
        **stage_outputs("grade_base"),
    log:
        stage_log("grade_base"),
    benchmark:
        stage_benchmark("grade_base")
    params:
        fingerprint=stage_fingerprint("grade_base"),
    resources:
        **stage_resources("grade_base"),
    threads: stage_threads("grade_base")
    conda:
        stage_env("grade_base")
    message:
        "Grading the base model's completions ({wildcards.model})"
    shell:
        stage_shell("grade_base")


rule grade:
    input:
        unpack(stage_inputs("grade")),
    output:
        **stage_outputs("grade"),
    log:
        stage_log("grade"),
    benchmark:
        stage_benchmark("grade")
    params:
        fingerprint=stage_fingerprint("grade"),
    resources:
        **stage_resources("grade"),
    threads: stage_threads("grade")
    conda:
        stage_env("grade")
    message:
        "Grading {wildcards.model} / {wildcards.condition} / seed {wildcards.seed}"
    shell:
        stage_shell("grade")
