"""Hostile values for every field that reaches a path or a command, and ways to plant them."""

from __future__ import annotations

import copy

MARKER = "PWNED"

# Each would create ./PWNED if a shell ever parsed it (cwd: the checkout, where every job runs).
PAYLOADS = {
    "semicolon": f"r;touch {MARKER};#",
    "subshell": f"r$(touch {MARKER})",
    "backticks": f"r`touch {MARKER}`",
    "single_quote": f"r';touch {MARKER};'",
    "double_quote": f'r";touch {MARKER};"',
    "newline": f"r\ntouch {MARKER}",
    "space": "r x",
}


def plant(raw: dict, field: str, value: str) -> tuple[dict, str]:
    """A copy of `raw` with `value` in `field`; returns it and the key path validation must name."""
    raw = copy.deepcopy(raw)
    exp = raw["experiment"]
    if field == "results_dir":
        exp["results_dir"] = value
        return raw, "experiment.results_dir"
    if field == "model":
        old = exp["models"][0]
        raw["models"][value] = raw["models"].pop(old)
        exp["models"][0] = value
        return raw, "experiment.models[0]"
    if field == "condition":
        old = exp["conditions"][0]
        raw["conditions"][value] = raw["conditions"].pop(old)
        exp["conditions"][0] = value
        return raw, "experiment.conditions[0]"
    if field == "benchmark":
        old = next(iter(raw["data"]["benchmarks"]))
        raw["data"]["benchmarks"][value] = raw["data"]["benchmarks"].pop(old)
        return raw, "data.benchmarks"
    if field == "seed":
        exp["seeds"][0] = value
        return raw, "experiment.seeds[0]"
    raise ValueError(field)


FIELDS = ("results_dir", "model", "condition", "benchmark", "seed")
