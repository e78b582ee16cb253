"""Accuracy metrics and their uncertainty.

- accuracy / avg@k: the mean correctness over problems and samples (the paper's pass@1 for greedy
  MATH-500 and avg@8 for AMC/AIME at temperature 0.6).
- pass@k: the unbiased estimator of Chen et al. (2021), 1 - C(n-c, k) / C(n, k), per problem, averaged.
- bootstrap confidence intervals resample problems (and seeds, when there are several) with an explicit
  numpy Generator seed, so a rerun reproduces the interval.
"""

from __future__ import annotations

import math

import numpy as np


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k for one problem with n samples of which c are correct."""
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n, got n={n}, c={c}")
    if not 1 <= k <= n:
        raise ValueError(f"need 1 <= k <= n, got k={k}, n={n}")
    if n - c < k:
        return 1.0
    # Product form of C(n-c, k) / C(n, k): no huge binomials.
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def mean_pass_at_k(n: np.ndarray, c: np.ndarray, k: int) -> float:
    return float(np.mean([pass_at_k(int(ni), int(ci), k) for ni, ci in zip(n, c)]))


def avg_at_k(correct: np.ndarray) -> float:
    """Mean correctness of a problems x samples matrix (avg@k; pass@1 when k = 1)."""
    correct = np.asarray(correct, dtype=float)
    if correct.size == 0:
        return float("nan")
    return float(correct.mean())


def pass_k_values(samples: int) -> list[int]:
    """k values to report: powers of two up to the samples per problem, and the count itself."""
    ks = [k for k in (2 ** i for i in range(1, 12)) if k < samples]
    return ks + [samples] if samples > 1 else []


def seed_spread(values) -> dict[str, float]:
    v = np.asarray(list(values), dtype=float)
    if v.size == 0:
        return {"mean": math.nan, "std": math.nan, "min": math.nan, "max": math.nan, "n_seeds": 0}
    return {"mean": float(v.mean()), "std": float(v.std(ddof=1)) if v.size > 1 else 0.0,
            "min": float(v.min()), "max": float(v.max()), "n_seeds": int(v.size)}


def bootstrap_ci(values, *, n_boot: int = 1000, confidence: float = 0.95,
                 rng: np.random.Generator | int = 0) -> tuple[float, float]:
    """Percentile CI of the mean of a (seeds x problems) matrix, or of a vector of problems.

    Both axes are resampled with replacement (seeds first, then problems), so with several seeds the
    interval covers training-seed and benchmark-sampling variance; with one seed only the latter.
    """
    m = np.asarray(values, dtype=float)
    if m.ndim == 1:
        m = m[None, :]
    if m.ndim != 2 or m.size == 0:
        return math.nan, math.nan
    rng = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
    n_seeds, n_probs = m.shape
    seeds = rng.integers(0, n_seeds, size=(n_boot, n_seeds)) if n_seeds > 1 else np.zeros((n_boot, 1), int)
    probs = rng.integers(0, n_probs, size=(n_boot, n_probs))
    # Mean over the resampled seeds of each seed row's mean over the resampled problems.
    stats = m[:, probs].mean(axis=2)  # seeds x n_boot
    means = np.take_along_axis(stats.T, seeds, axis=1).mean(axis=1)
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(means, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


def smoothed_final(steps, values, window: int) -> float:
    """Mean of the values whose step lies in (last - window, last]; window 1 = the last value.

    The paper reports the smoothed value at the final step (10-step window, App. A.5) over per-step
    evaluations, and step 0 unsmoothed. Our checkpoints are every save_every steps, so the window holds
    one point unless train.save_final_window adds a checkpoint at every step of the window (the paper
    preset: 10 points, steps 291-300 of 300).
    """
    steps = np.asarray(steps, dtype=float)
    values = np.asarray(values, dtype=float)
    if steps.size == 0:
        return math.nan
    last = steps.max()
    keep = steps > last - max(int(window), 1)
    return float(values[keep].mean())
