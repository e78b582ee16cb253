# What `snakemake --report` shows: the analysis tables and the report's figures, each with its own
# caption. (The rules themselves are generated with the others in stages.smk; caption paths are
# relative to this folder.)
STAGE_OUTPUT_EXTRAS["analyze"] = {
    "analysis": lambda path: report(
        path,
        patterns=["{name}.csv"],
        caption="../report/tables.rst",
        category="Tables",
    ),
}
STAGE_OUTPUT_EXTRAS["report"] = {
    "report": lambda path: report(
        path,
        patterns=["figures/{name}.png"],
        caption="../report/figures.rst",
        category="Figures",
    ),
}
