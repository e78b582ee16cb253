"""The report: figures (figures.py), Markdown (markdown.py), the paper's published numbers
(paper_numbers.py) and the organism's verdicts (organism.py); the `report` command renders them."""
