"""Analysis of graded completions: metrics (metrics.py), code reasoning (code_reasoning.py) and the
analysis plugins (registry.py, plugins/); the `analyze` command writes what is registered."""
