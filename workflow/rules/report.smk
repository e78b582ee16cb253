# The report rule's outputs, as `snakemake --report` shows them: the figures folder, with its caption.
# (The rule itself is generated with the others in stages.smk.)
STAGE_OUTPUT_EXTRAS["report"] = {
    "report": lambda path: report(
        path,
        patterns=["figures/{name}.png"],
        caption="../report/figures.rst",
        category="Figures",
    ),
}
