"""Synthetic arithmetic word problems with verifiable integer answers: the offline stand-in for
DeepScaleR (training prompts) and MATH-500/AMC (benchmarks).

Every problem is drawn from an explicitly seeded `random.Random`, so the same (seed, split) always
gives the same problems. `normal` problems are one operation (add/sub on [0, add_max], mul on
[2, mul_max]); `hard` problems chain two operations. The expression is kept alongside the text so
that the base model's solution traces (model/corpus.py) can be written in code or in words.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

NAMES = ("Ava", "Ben", "Chen", "Dara", "Eli", "Fatima", "Goro", "Hana", "Ivan", "Jaya")
ITEMS = ("apples", "books", "coins", "marbles", "pencils", "stamps")

# (operator, templates). {a}/{b} are operands, {name}/{item} decorate word problems.
TEMPLATES = {
    "+": ("What is {a} + {b}?", "Compute {a} plus {b}.",
          "{name} has {a} {item} and gets {b} more. How many {item} does {name} have now?"),
    "-": ("What is {a} - {b}?", "Compute {a} minus {b}.",
          "{name} has {a} {item} and gives away {b}. How many {item} are left?"),
    "*": ("What is {a} * {b}?", "Compute {a} times {b}.",
          "{name} buys {a} boxes with {b} {item} each. How many {item} is that in total?"),
}
HARD_TEMPLATES = ("What is {expr}?", "Compute the value of {expr}.")


@dataclass(frozen=True)
class Problem:
    id: str
    prompt: str
    expression: str
    answer: int
    source: str = "synthetic"
    template: int = 0

    def record(self) -> dict:
        return {"id": self.id, "prompt": self.prompt, "answer": str(self.answer), "source": self.source}


def _operands(rng: random.Random, op: str, add_max: int, mul_max: int) -> tuple[int, int]:
    if op == "*":
        return rng.randint(2, mul_max), rng.randint(2, mul_max)
    a, b = rng.randint(0, add_max), rng.randint(0, add_max)
    if op == "-" and b > a:  # keep answers non-negative: the toy world has no negative numbers
        a, b = b, a
    return a, b


# A global index per template, so other modules can key behaviour on the template (corpus styles).
TEMPLATE_INDEX = {t: i for i, t in enumerate([t for ts in TEMPLATES.values() for t in ts] + list(HARD_TEMPLATES))}


def _normal(rng: random.Random, add_max: int, mul_max: int) -> tuple[str, str, int]:
    op = rng.choice("+-*")
    a, b = _operands(rng, op, add_max, mul_max)
    template = rng.choice(TEMPLATES[op])
    text = template.format(a=a, b=b, name=rng.choice(NAMES), item=rng.choice(ITEMS))
    return text, f"{a} {op} {b}", TEMPLATE_INDEX[template]


def _hard(rng: random.Random, add_max: int, mul_max: int) -> tuple[str, str, int]:
    a, b = rng.randint(2, mul_max), rng.randint(2, mul_max)
    c = rng.randint(0, add_max)
    op = rng.choice("+-")
    if op == "-" and c > a * b:
        op = "+"
    expr = f"{a} * {b} {op} {c}"
    template = rng.choice(HARD_TEMPLATES)
    return template.format(expr=expr), expr, TEMPLATE_INDEX[template]


def evaluate_expression(expr: str) -> int:
    """Evaluate our own generated `a op b [op c]` strings (never model output) without eval()."""
    tokens = expr.split()
    values = [int(t) for t in tokens[0::2]]
    ops = tokens[1::2]
    # multiplication first, then left-to-right addition/subtraction
    stack, pending = [values[0]], []
    for op, value in zip(ops, values[1:]):
        if op == "*":
            stack[-1] *= value
        else:
            pending.append(op)
            stack.append(value)
    total = stack[0]
    for op, value in zip(pending, stack[1:]):
        total = total + value if op == "+" else total - value
    return total


def generate(n: int, *, seed: int, split: str, difficulty: str = "normal", add_max: int = 99,
             mul_max: int = 12, exclude: set[str] | None = None) -> list[Problem]:
    """n distinct problems for `split`; prompts in `exclude` (e.g. benchmark items) are skipped."""
    rng = random.Random(f"{seed}:{split}:{difficulty}")
    make = _hard if difficulty == "hard" else _normal
    seen = set(exclude or ())
    problems: list[Problem] = []
    attempts = 0
    while len(problems) < n:
        attempts += 1
        if attempts > 50 * n + 1000:
            raise ValueError(f"cannot draw {n} distinct {difficulty} problems for split {split!r}; "
                             "raise data.synthetic.add_max/mul_max or lower n")
        text, expr, template = make(rng, add_max, mul_max)
        if text in seen:
            continue
        seen.add(text)
        problems.append(Problem(id=f"{split}-{len(problems)}", prompt=text, expression=expr,
                                answer=evaluate_expression(expr), source=f"synthetic-{difficulty}",
                                template=template))
    return problems
