"""Agreement of our graders with the paper's own grading code, run as a reference oracle.

The paper's reward is ``qwen_reward_fn`` (Rethink_RLVR ``code/ttrl/verifier/qwen/qwen_eval.py``):
``grade_answer(extract_answer(response, "math"), label)``. This script builds three corpora of
(response, label) pairs, grades them with the paper's code in a separate interpreter (its deps:
pylatexenc, sympy, word2number, regex; ``latex2sympy2``, imported but unused on this path, is
stubbed) and with our graders here, and prints the agreement per corpus and grader.

Corpora (golds from ../shared/data/rethink_rlvr):
* ``synthetic``: every MATH-500/AMC/AIME gold in ~25-50 forms, the disagreement categories of
  the README's deviations table (``\\fbox``, ``+12``, ``2{,}220``, bmatrix, sign placement of fractions,
  sets, degrees, unit words, word numbers, ``\\text{}``, wrong answers, extraction markers ...);
  ``--synthetic-sample`` draws a random subset.
* ``fuzz``: random strings built from answer pieces, unit and number words and LaTeX commands,
  in random answer markers, against real or mutated golds.
* ``real``: each majority-vote label of the released ``DeepScaleR_mv_labeled_*`` test splits,
  boxed, against the ground truth of the same problem, and the reverse.

    python bench/paper_grader_parity.py --paper-code /path/to/Rethink_RLVR/code \\
        --paper-python /path/to/venv/bin/python [--graders paper,paper_fixed,math_verify]
"""

from __future__ import annotations

import argparse
import glob
import json
import random
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
DATA = ROOT.parent / "shared" / "data" / "rethink_rlvr"
BENCHES = ("MATH-TTT", "AMC-TTT", "AIME-TTT", "AIME2025-TTT")

ORACLE = r'''
import json, sys, types
sys.path.insert(0, sys.argv[1])
sys.modules.setdefault("latex2sympy2", types.SimpleNamespace(latex2sympy=None))
from ttrl.verifier.qwen.qwen_eval import qwen_reward_fn
for line in sys.stdin:
    row = json.loads(line)
    print(qwen_reward_fn(row["completion"], row["answer"]), flush=True)
'''


def _golds() -> list[str]:
    return [str(r["answer"]) for b in BENCHES for r in json.loads((DATA / b / "test.json").read_text())]


def _fraction_forms(g: str) -> list[str]:
    m = re.fullmatch(r"(-?)\\[dt]?frac\{(\d+)\}\{(\d+)\}", g)
    if not m:
        return []
    sign, a, b = m.groups()
    if sign:
        return [rf"\frac{{-{a}}}{{{b}}}", f"-{a}/{b}", rf"-\dfrac{{{a}}}{{{b}}}", rf"\frac{{{a}}}{{-{b}}}"]
    return [f"{a}/{b}", rf"\frac{{{2 * int(a)}}}{{{2 * int(b)}}}", rf"-\frac{{{a}}}{{{b}}}",
            f"{int(a) / int(b):.6f}", rf"\tfrac{{{a}}}{{{b}}}"]


def _forms(g: str) -> list[str]:
    f = [g, rf"\boxed{{{g}}}", rf"$\boxed{{{g}}}$.", f"The answer is {g}.", f"The answer is ${g}$.",
         f"So the final answer is ${g}$. I hope it is correct.", rf"\fbox{{{g}}}", rf"\boxed{{+{g}}}",
         rf"\boxed{{x = {g}}}", rf"\boxed{{{g}\text{{ units}}}}", rf"\boxed{{{g} \text{{cm}}}}",
         rf"\boxed{{\text{{{g}}}}}", rf"\boxed{{{g}}} and \boxed{{7}}", rf"\boxed{{{g}", rf"\boxed{{ {g} }}",
         rf"\boxed{{{g}^\circ}}", rf"\boxed{{{g}°}}", rf"\boxed{{{g}\%}}", rf"\boxed{{\${g}}}",
         f"answer: {g}", rf"\boxed{{{g}}}.<|im_end|>", f"The answer is {g} apples."]
    if re.fullmatch(r"\d{4,}", g):
        h = f"{int(g):,}"
        f += [rf"\boxed{{{h}}}", rf"\boxed{{{h.replace(',', '{,}')}}}", rf"\boxed{{{h.replace(',', chr(92) + ',')}}}",
              rf"\boxed{{{g}.0}}", rf"\boxed{{{g[:-1]}}}"]
    if re.fullmatch(r"-?\d+", g):
        n = int(g)
        f += [rf"\boxed{{{n + 1}}}", rf"\boxed{{{n}.00}}", rf"\boxed{{0{g}}}", rf"\boxed{{{n}/1}}",
              rf"\boxed{{\frac{{{2 * n}}}{{2}}}}", rf"\boxed{{{n}.5}}", rf"\boxed{{{g}_{{10}}}}", f"I get {g}, not {n + 2}."]
    f += [rf"\boxed{{{x}}}" for x in _fraction_forms(g)]
    if "matrix" in g:
        f += [rf"\boxed{{{g.replace('pmatrix', 'bmatrix')}}}", rf"\boxed{{{g.replace(' ', '')}}}",
              rf"\boxed{{{g.replace(chr(92) * 2, '&')}}}", rf"\boxed{{{g.replace(chr(92) * 2, '')}}}"]
    if "," in g:
        inner = g.strip("()[]\\{}")
        f += [rf"\boxed{{{inner}}}", rf"\boxed{{\{{{inner}\}}}}", rf"\boxed{{({inner})}}", rf"\boxed{{[{inner}]}}",
              rf"\boxed{{{', '.join(reversed(inner.split(',')))}}}", rf"\boxed{{{inner.replace(',', ' and ')}}}"]
    if "\\sqrt" in g:
        f += [rf"\boxed{{{g.replace('sqrt', 'sqrt ')}}}", rf"\boxed{{2{g}}}"]
    if "\\pi" in g:
        f += [rf"\boxed{{{g.replace(chr(92) + 'pi', 'π')}}}", rf"\boxed{{{g.replace(chr(92) + 'pi', '3.14')}}}"]
    if re.search(r"[a-z]", g):
        f += [rf"\boxed{{{g.upper()}}}", rf"\boxed{{\mathrm{{{g}}}}}"]
    words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
    if g.isdigit() and int(g) <= 10:
        f += [rf"\boxed{{\text{{{words[int(g)]}}}}}", f"The answer is {words[int(g)]}."]
    return f


def synthetic(rng: random.Random, sample: int | None) -> list[dict]:
    rows = [{"completion": c, "answer": g} for g in _golds() for c in _forms(g)]
    return rng.sample(rows, sample) if sample and sample < len(rows) else rows


PIECES = ["1", "2", "12", "0.5", "-3", "+", "-", "=", "x", "y", "a", "t", "m", "pm", "\\pm", "and", "or", " ",
          " ", ",", ".", "(", ")", "[", "]", "\\{", "\\}", "{", "}", "\\frac{1}{2}", "\\frac12", "\\dfrac{3}{4}",
          "\\sqrt{2}", "\\sqrt3", "^\\circ", "°", "\\%", "\\$", "$", "\\text{ cm}", "\\text{east}",
          "\\text{five}", "five", "one", "hundred", "point", "inches", "units", "degrees", "\\pi", "\\infty",
          "inf", "\\cdot", "\\times", "\\le", "\\ge", "\\neq", "\\,", "\\!", "\\\\", "&", "\\begin{pmatrix}",
          "\\end{pmatrix}", "\\mathbf{", "\\mbox{s}", "j", "i", "/", "3.000", "07", "1,000", "2{,}220",
          "million", "e"]


def fuzz(rng: random.Random, n: int) -> list[dict]:
    golds = _golds()

    def piece_string() -> str:
        return "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 7)))

    def mutate(s: str) -> str:
        ops = [lambda t: t.replace(" ", ""), lambda t: t + rng.choice(PIECES), lambda t: rng.choice(PIECES) + t,
               lambda t: t.replace("\\frac", "\\dfrac"), lambda t: t.replace("\\left", "").replace("\\right", ""),
               lambda t: re.sub(r"\d", lambda m: str((int(m.group()) + 1) % 10), t, count=1), lambda t: t,
               lambda t: t.replace(",", ", "), lambda t: "\\text{" + t + "}", lambda t: t.upper()]
        return rng.choice(ops)(s)

    wraps = [lambda a: f"\\boxed{{{a}}}", lambda a: f"The answer is {a}.", lambda a: f"The answer is ${a}$",
             lambda a: f"So the final answer is ${a}$. I hope it is correct.", lambda a: f"$\\boxed{{{a}}}$.",
             lambda a: f"we get {a}", lambda a: f"\\boxed {a}$ done", lambda a: a]
    rows = []
    for _ in range(n):
        gold = rng.choice(golds) if rng.random() < 0.8 else piece_string()
        answer = mutate(gold) if rng.random() < 0.7 else piece_string()
        rows.append({"completion": rng.choice(wraps)(answer),
                     "answer": gold if rng.random() < 0.9 else mutate(gold)})
    return rows


def real() -> list[dict]:
    truth = {}
    for level in range(1, 6):
        for split in ("train", "test"):
            for r in json.loads((DATA / f"DeepScaleR_Difficulty_Level_{level}" / f"{split}.json").read_text()):
                truth[(str(r["id"]), r["prompt"])] = str(r["answer"])
    rows = []
    for path in sorted(glob.glob(str(DATA / "DeepScaleR_mv_labeled_*" / "test.json"))):
        for r in json.loads(Path(path).read_text()):
            gold = truth.get((str(r["id"]), r["prompt"]))
            if gold is not None:
                mv = str(r["answer"])
                rows += [{"completion": rf"\boxed{{{mv}}}", "answer": gold},
                         {"completion": rf"\boxed{{{gold}}}", "answer": mv}]
    return rows


def paper_verdicts(rows: list[dict], code: Path, python: str) -> list[bool]:
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as script:
        script.write(ORACLE)
    out = subprocess.run([python, script.name, str(code)], input="".join(json.dumps(r) + "\n" for r in rows),
                         capture_output=True, text=True, check=True)
    return [float(line) == 1.0 for line in out.stdout.splitlines()]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--paper-code", type=Path, required=True, help="the paper repo's code/ folder")
    ap.add_argument("--paper-python", required=True, help="an interpreter with the paper grader's deps")
    ap.add_argument("--graders", default="paper,paper_fixed,math_verify")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--synthetic-sample", type=int, default=6000)
    ap.add_argument("--fuzz", type=int, default=4000)
    ap.add_argument("--show", type=int, default=5, help="disagreements to print per corpus and grader")
    args = ap.parse_args()

    from spurious_rewards.grading import get_grader

    rng = random.Random(args.seed)
    corpora = {"synthetic": synthetic(rng, args.synthetic_sample), "fuzz": fuzz(rng, args.fuzz), "real": real()}
    for corpus, rows in corpora.items():
        theirs = paper_verdicts(rows, args.paper_code, args.paper_python)
        for name in args.graders.split(","):
            grader = get_grader(name)
            ours = [grader.grade(r["completion"], r["answer"]) for r in rows]
            differ = [(r, t) for r, t, o in zip(rows, theirs, ours) if t != o]
            print(f"{corpus:9s} {name:12s} {len(rows) - len(differ)}/{len(rows)} = "
                  f"{100 * (len(rows) - len(differ)) / len(rows):.2f}% (paper's code pays {sum(theirs)})")
            for r, t in differ[: args.show]:
                print(f"    paper {int(t)}: {r['completion']!r} vs {r['answer']!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
