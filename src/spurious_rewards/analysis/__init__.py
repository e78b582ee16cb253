"""Analysis of graded completions: metrics (metrics.py), code reasoning (code_reasoning.py) and the
`analyze` stage that writes the analysis folder (stage.py)."""
