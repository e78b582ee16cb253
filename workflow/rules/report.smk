# The report rule's outputs, as `snakemake --report` shows them: the figures folder, with its caption.
# (The rule itself is generated with the others in stages.smk; the caption path is relative to this
# folder, where that rule is defined.)
STAGE_OUTPUT_EXTRAS["report"] = {
    "report": lambda path: report(
        path,
        patterns=["figures/{name}.png"],
        caption="../report/figures.rst",
        category="Figures",
    ),
}
