"""Agreement between the math-verify grader and our paper-grader rewrite.

For every MATH-500 item we build realistic responses whose intended verdict
we know:

* ``boxed``      the gold inside ``\\boxed{}`` at the end of some prose  (correct)
* ``answer_is``  "The answer is $gold$." with no box                    (correct)
* ``variant``    an equal answer spelled differently: ``\\dfrac`` for
  ``\\frac``, a terminating decimal for a simple fraction (0.5 vs
  \\frac12), "1,000" / "n.0" for integers, "10080" for "10,\\!080", spaces
  in tuples, bare text for ``\\text{…}``, "x = …", ``\\displaystyle``  (correct)
* ``wrong``      a perturbed answer, boxed                              (wrong)

and two harder kinds where the graders are known to part ways:

* ``answer_then_prose``  "The answer is $gold$. Substituting back …"   (correct)
* ``unreduced``  ``\\frac{2n}{2}`` / ``\\frac{2p}{2q}`` for integer and
  simple-fraction golds                                                 (correct)

Both graders grade the same responses (through the process pool, per-answer
bound on); we report the agreement rate, a confusion table, each grader's
accuracy against the intended verdicts, and sample disagreements.

    PYTHONPATH=src python bench/grader_agreement.py [--workers 2] [--show 12]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections import Counter, defaultdict
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from spurious_rewards.grading.pool import grade_many  # noqa: E402

MATH500 = ROOT.parent / "shared" / "data" / "rethink_rlvr" / "MATH-TTT" / "test.json"
PROSE = "We set up the equation, simplify, and check the edge cases carefully.\n\n"
_SIMPLE_FRAC = re.compile(r"(-?)\\frac\{(\d+)\}\{(\d+)\}")


def _terminating(q: int) -> bool:
    while q % 2 == 0:
        q //= 2
    while q % 5 == 0:
        q //= 5
    return q == 1


def equal_variant(gold: str) -> str:
    """An answer equal to ``gold`` but written the way a model might."""
    g = gold.strip()
    if re.fullmatch(r"-?\d+", g):
        n = int(g)
        return f"{n:,}" if abs(n) >= 1000 else f"{n}.0"
    if re.fullmatch(r"-?\d{1,3}(,\\! ?\d{3})+", g):  # "10,\!080" -> "10080"
        return re.sub(r",\\! ?", "", g)
    m = _SIMPLE_FRAC.fullmatch(g)
    if m:
        sign, p, q = m.group(1), int(m.group(2)), int(m.group(3))
        if q and _terminating(Fraction(p, q).denominator):
            return sign + str(float(Fraction(p, q)))
        return g.replace("\\frac", "\\dfrac")
    if "\\frac" in g:
        return g.replace("\\frac", "\\dfrac")
    if re.fullmatch(r"[(\[].*,.*[)\]]", g):
        return re.sub(r",\s*", ", ", g)
    if re.fullmatch(r"-?\d+\.\d+", g):
        return g + "0"
    m = re.fullmatch(r"\\text\{([^{}]*)\}", g)
    if m:  # \text{Evelyn} -> Evelyn
        return m.group(1)
    if not re.search(r"=|\\in|\\text|,", g):
        return f"x = {g}"
    return f"\\displaystyle {g}"


def wrong_answer(gold: str) -> str:
    g = gold.strip()
    if re.fullmatch(r"-?\d+", g):
        return str(int(g) + 1)
    m = _SIMPLE_FRAC.fullmatch(g)
    if m:
        return f"{m.group(1)}\\frac{{{int(m.group(2)) + 1}}}{{{m.group(3)}}}"
    return f"{g}+1"


def unreduced_variant(gold: str) -> str | None:
    """Equal but unreduced (``\\frac{2p}{2q}``); None where that makes no sense."""
    g = gold.strip()
    if re.fullmatch(r"-?\d+", g):
        return f"\\frac{{{2 * int(g)}}}{{2}}"
    m = _SIMPLE_FRAC.fullmatch(g)
    if m:
        return f"{m.group(1)}\\frac{{{2 * int(m.group(2))}}}{{{2 * int(m.group(3))}}}"
    return None


def build(golds: list[str]) -> list[tuple[str, str, str, bool]]:
    """(kind, completion, gold, intended verdict) for every gold."""
    cases = []
    for gold in golds:
        cases.append(("boxed", f"{PROSE}So the final answer is $\\boxed{{{gold}}}$.", gold, True))
        cases.append(("answer_is", f"{PROSE}The answer is ${gold}$.", gold, True))
        cases.append(("variant", f"{PROSE}Hence $\\boxed{{{equal_variant(gold)}}}$.", gold, True))
        cases.append(("wrong", f"{PROSE}Thus $\\boxed{{{wrong_answer(gold)}}}$.", gold, False))
        # Harder, still realistic: prose after an unboxed answer, unreduced forms.
        cases.append(("answer_then_prose",
                      f"{PROSE}The answer is ${gold}$. Substituting back confirms it.", gold, True))
        unreduced = unreduced_variant(gold)
        if unreduced is not None:
            cases.append(("unreduced", f"{PROSE}So $\\boxed{{{unreduced}}}$.", gold, True))
    return cases


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--show", type=int, default=12, help="disagreements to print")
    args = parser.parse_args()
    if not MATH500.is_file():
        print(f"MATH-500 not found at {MATH500}", file=sys.stderr)
        return 1
    golds = [row["answer"] for row in json.loads(MATH500.read_text(encoding="utf-8"))]
    cases = build(golds)
    completions = [c for _, c, _, _ in cases]
    labels = [g for _, _, g, _ in cases]
    mv = grade_many(completions, labels, grader="math_verify", workers=args.workers)
    paper = grade_many(completions, labels, grader="paper", workers=args.workers)

    confusion = Counter(zip(mv, paper))
    per_kind: dict[str, Counter] = defaultdict(Counter)
    for (kind, _, _, intended), a, b in zip(cases, mv, paper):
        per_kind[kind]["n"] += 1
        per_kind[kind]["agree"] += a == b
        per_kind[kind]["mv_ok"] += a == intended
        per_kind[kind]["paper_ok"] += b == intended

    print("\nDisagreements (kind | gold | response tail | math_verify | paper):")
    shown = 0
    for (kind, completion, gold, _), a, b in zip(cases, mv, paper):
        if a != b and shown < args.show:
            tail = completion.rsplit("\n", 1)[-1]
            print(f"  {kind:<17} | {gold!r:<28} | {tail[:48]!r:<52} | {a!s:<5} | {b}")
            shown += 1

    n = len(cases)
    agree = sum(a == b for a, b in zip(mv, paper))
    print(f"\n{n} responses from {len(golds)} MATH-500 items")
    print(f"{'kind':<18} {'n':>5} {'agree':>7} {'math_verify ok':>15} {'paper ok':>9}")
    for kind in ("boxed", "answer_is", "variant", "wrong", "answer_then_prose", "unreduced"):
        c = per_kind[kind]
        print(f"{kind:<18} {c['n']:>5} {c['agree'] / c['n']:>7.1%} {c['mv_ok'] / c['n']:>15.1%} "
              f"{c['paper_ok'] / c['n']:>9.1%}")
    print("\nconfusion (rows: math_verify, columns: paper)")
    print(f"{'':<18} {'paper=True':>11} {'paper=False':>12}")
    for mv_value in (True, False):
        print(f"{'math_verify=' + str(mv_value):<18} {confusion[(mv_value, True)]:>11} "
              f"{confusion[(mv_value, False)]:>12}")
    core = [i for i, case in enumerate(cases) if case[0] in ("boxed", "answer_is", "variant", "wrong")]
    core_agree = sum(mv[i] == paper[i] for i in core)
    print(f"\nAGREEMENT (core 4 kinds): {core_agree}/{len(core)} = {core_agree / len(core):.1%}")
    print(f"AGREEMENT (all 6 kinds):  {agree}/{n} = {agree / n:.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
