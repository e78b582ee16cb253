"""Numbers the paper publishes (arXiv 2506.10947 v1), transcribed from its tables and figures.

Only what the text states is here; curves read off figures are not. Values are percentages.
"""

from __future__ import annotations

import re

PAPER_MODEL = "Qwen2.5-Math-7B"

# §5.1: MATH-500 change after 300 steps (smoothed, 10-step window) for Qwen2.5-Math-7B; base 49.4.
MATH500_BASE = {"Qwen2.5-Math-7B": 49.4, "Qwen2.5-Math-1.5B": 36.2, "Qwen2.5-7B": 41.6,
                "OLMo2-7B": 9.0, "Llama3.1-8B-Instruct": 36.8}
MATH500_DELTA_300 = {
    "Qwen2.5-Math-7B": {"ground_truth": 29.1, "majority_vote": 27.1, "one_shot": 26.0,
                        "incorrect": 24.1, "random": 21.4, "format": 13.8},
}
# Fig. 7 (decoded): step 150, unsmoothed.
MATH500_STEP150 = {
    "Qwen2.5-Math-7B": {"ground_truth": 78.2, "majority_vote": 76.4, "incorrect": 73.6, "format": 71.4,
                        "random": 65.0},
}

# Table 1: pre-RL MATH-500 code frequency, accuracy with code, language-only accuracy.
# Qwen2.5-Math-7B language-only: Table 1 prints 35.0, the Fig. 7 counts give 28.0 (the paper, Table 1 and Fig. 7).
TABLE1 = {
    "Qwen2.5-Math-7B": {"code_frequency": 65.0, "acc_code": 60.9, "acc_language": 28.0},
    "Qwen2.5-Math-1.5B": {"code_frequency": 53.6, "acc_code": 52.6, "acc_language": 17.2},
    "Qwen2.5-7B": {"code_frequency": 92.2, "acc_code": 39.9, "acc_language": 61.5},
    "OLMo2-7B-SFT": {"code_frequency": 98.0, "acc_code": 21.0, "acc_language": 40.0},
}

# Table 2: partial contribution C_d (% of the net gain), averaged over the strategy-changing rewards,
# MATH-500 step 0 -> 150; avg_gain in points.
TABLE2 = {
    "Qwen2.5-Math-7B": {"avg_gain": 23.5, "code->code": 11.6, "code->language": 8.6,
                        "language->code": 58.3, "language->language": 21.4},
    "Qwen2.5-Math-1.5B": {"avg_gain": 28.5, "code->code": 2.8, "code->language": 2.0,
                          "language->code": 78.7, "language->language": 16.5},
    "Qwen2.5-7B": {"avg_gain": 30.6, "code->code": 0.2, "code->language": 93.9,
                   "language->code": 0.0, "language->language": 5.9},
}

# Table 3: MATH-500, original prompt -> response forced to start with "Let's solve this using Python."
TABLE3 = {
    "Qwen2.5-Math-1.5B": (36.2, 60.4), "Qwen2.5-Math-7B": (49.4, 64.4), "Qwen2.5-1.5B": (3.0, 13.0),
    "Qwen2.5-7B": (41.6, 22.2), "Llama3.2-3B-Instruct": (36.8, 8.2), "Llama3.1-8B-Instruct": (36.8, 15.2),
    "OLMo2-7B": (9.0, 7.8), "OLMo2-7B-SFT": (21.4, 18.6),
}

PAPER_MODELS = sorted(set(MATH500_BASE) | set(TABLE1) | set(TABLE2) | set(TABLE3))


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def paper_model_for(*names: str | None) -> str | None:
    """The paper model a run's model name (or HF path) refers to, e.g. 'qwen2.5-math-7b' or
    'Qwen/Qwen2.5-Math-7B' -> 'Qwen2.5-Math-7B'; None if it is not one of the paper's models."""
    for name in names:
        if not name:
            continue
        tail = _norm(str(name).rsplit("/", 1)[-1])
        for paper in PAPER_MODELS:
            if tail == _norm(paper):
                return paper
    return None


def is_math500(benchmark: str) -> bool:
    n = _norm(benchmark)
    return n in {"math500", "mathttt", "math"} or ("math" in n and "500" in n)
