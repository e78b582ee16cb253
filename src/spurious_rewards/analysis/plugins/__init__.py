"""The built-in analyses, one module each (analysis/registry.py lists them)."""
