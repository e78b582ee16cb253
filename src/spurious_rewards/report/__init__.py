"""The report: figures (figures.py), Markdown (markdown.py), the paper's published numbers
(paper_numbers.py) and the `report` stage (stage.py)."""
