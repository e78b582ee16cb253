# Cheap aggregate steps run on the submitting host, not as cluster jobs.
localrules:
    analyze,
    report,


rule analyze:
    input:
        unpack(stage_inputs("analyze")),
    output:
        # the analysis tables go into `snakemake --report` too, each with its own caption
        **(
            stage_outputs("analyze")
            | {
                "analysis": report(
                    stage_outputs("analyze")["analysis"],
                    patterns=["{name}.csv"],
                    caption="../report/tables.rst",
                    category="Tables",
                )
            }
        ),
    log:
        stage_log("analyze"),
    benchmark:
        stage_benchmark("analyze")
    params:
        fingerprint=stage_fingerprint("analyze"),
    resources:
        **stage_resources("analyze"),
    threads: stage_threads("analyze")
    conda:
        stage_env("analyze")
    message:
        "Analysing every run"
    shell:
        stage_shell("analyze")


rule report:
    input:
        unpack(stage_inputs("report")),
    output:
        report(
            stage_outputs("report")["report"],
            patterns=["figures/{name}.png"],
            caption="../report/figures.rst",
            category="Figures",
        ),
    log:
        stage_log("report"),
    benchmark:
        stage_benchmark("report")
    params:
        fingerprint=stage_fingerprint("report"),
    resources:
        **stage_resources("report"),
    threads: stage_threads("report")
    conda:
        stage_env("report")
    message:
        "Writing the report"
    shell:
        stage_shell("report")
