"""Grading throughput on the MATH-500 gold answers, 1 worker vs N workers.

Each gold is graded twice: against a realistic completion that boxes the gold
(correct) and against one that boxes a perturbed answer (wrong).  Every run
uses the process pool with the per-answer time bound ON (timeout_s), so the
figures include IPC and the safety machinery.  Each configuration runs
``--repeats`` times in fresh pools, 1-worker and N-worker runs interleaved;
the best run of each is reported, with cold and with warm caches (see main).

    PYTHONPATH=src python bench/bench_grading.py [--workers 2] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from spurious_rewards.grading import GRADERS  # noqa: E402
from spurious_rewards.grading.pool import GradingPool  # noqa: E402

MATH500 = ROOT.parent / "shared" / "data" / "rethink_rlvr" / "MATH-TTT" / "test.json"

PROSE = (
    "Let's think step by step. First we rewrite the expression so that the "
    "unknown appears only once, then we simplify both sides. Checking the "
    "boundary cases confirms the computation.\n\n"
)


def perturb(gold: str) -> str:
    """A plausible wrong answer: integers +1, otherwise the gold plus one."""
    m = re.fullmatch(r"-?\d+", gold.strip())
    if m:
        return str(int(gold) + 1)
    return f"{gold}+1"


def build_cases(golds: list[str]) -> tuple[list[str], list[str]]:
    completions, labels = [], []
    for gold in golds:
        for answer in (gold, perturb(gold)):
            completions.append(f"{PROSE * 3}Therefore the answer is $\\boxed{{{answer}}}$.")
            labels.append(gold)
    return completions, labels


def _cpu_s() -> float:
    """CPU seconds of this process plus its reaped children (the workers)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def run_once(grader: str, workers: int, completions: list[str], golds: list[str],
             timeout_s: float) -> tuple[float, float, list[bool]]:
    """(answers per wall second, answers per CPU second, results)."""
    start, cpu = time.perf_counter(), _cpu_s()
    with GradingPool(grader, workers=workers, timeout_s=timeout_s) as pool:
        results = pool.grade(completions, golds)
    wall, cpu = time.perf_counter() - start, _cpu_s() - cpu
    return len(completions) / wall, len(completions) / cpu, results


def compare(grader: str, workers: int, completions: list[str], golds: list[str], repeats: int,
            timeout_s: float) -> tuple[float, float, float, float, list[bool]]:
    """Best answers/s (wall and CPU) for 1 worker and for ``workers``, runs
    interleaved so a change in background load hits both alike."""
    best = [0.0, 0.0, 0.0, 0.0]  # wall 1, wall N, cpu 1, cpu N
    results: list[bool] = []
    for _ in range(repeats):
        one, cpu_one, results = run_once(grader, 1, completions, golds, timeout_s)
        many, cpu_many, results_many = run_once(grader, workers, completions, golds, timeout_s)
        assert results == results_many, "worker count changed grading results"
        best = [max(b, v) for b, v in zip(best, (one, many, cpu_one, cpu_many))]
    return (*best, results)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--timeout-s", type=float, default=5.0)
    args = parser.parse_args()
    if not MATH500.is_file():
        print(f"MATH-500 not found at {MATH500}", file=sys.stderr)
        return 1
    golds = [row["answer"] for row in json.loads(MATH500.read_text(encoding="utf-8"))]
    completions, labels = build_cases(golds)

    load_before = os.getloadavg()[0]
    table = []
    for grader in GRADERS:
        # cold: workers forked from a parent that only ran the pool's small
        # warm-up set (per-call pools, as in training).  warm: the parent graded
        # everything once first, so workers inherit parsed-gold and sympy caches.
        *cold, results = compare(grader, args.workers, completions, labels, args.repeats,
                                 args.timeout_s)
        correct = sum(results[0::2]) / len(golds)
        wrong_rejected = 1 - sum(results[1::2]) / len(golds)
        table.append((grader, "cold", *cold, correct, wrong_rejected))
        GradingPool(grader, workers=0).grade(completions, labels)
        *warm, _ = compare(grader, args.workers, completions, labels, args.repeats, args.timeout_s)
        table.append((grader, "warm", *warm, correct, wrong_rejected))

    print(f"\n{len(completions)} answers ({len(golds)} MATH-500 golds x [gold, perturbed]), "
          f"cpu_count={os.cpu_count()}, per-answer bound {args.timeout_s:g} s, best of {args.repeats}, "
          f"1-min load before/after {load_before:.2f}/{os.getloadavg()[0]:.2f} "
          f"(other processes on the machine skew the N-worker figure)")
    print("answers/s = wall clock; per-CPU-s = answers per CPU second of parent + workers, "
          "which background load does not inflate")
    print(f"{'grader':<12} {'caches':<6} {'1 worker/s':>11} {f'{args.workers} workers/s':>12} "
          f"{'speed-up':>9} {'1w per-CPU-s':>13} {f'{args.workers}w per-CPU-s':>13} "
          f"{'gold ok':>8} {'wrong rej':>10}")
    for grader, caches, one, many, cpu_one, cpu_many, correct, rejected in table:
        print(f"{grader:<12} {caches:<6} {one:>11.0f} {many:>12.0f} {many / one:>8.2f}x "
              f"{cpu_one:>13.0f} {cpu_many:>13.0f} {correct:>8.1%} {rejected:>10.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
