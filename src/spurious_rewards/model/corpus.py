"""Pre-training traces for the tiny base model: each problem solved in one of two styles.

`code` traces reason in Python without running it: a ```python block whose printed output the model
must itself predict, then the boxed answer (the style the paper finds in Qwen2.5-Math, §4).
`language` traces reason in words. The share of each style and how often each style's trace is correct
are parameters (models.<m>.pretrain), so a base model can be made to favour code, as Qwen2.5-Math does,
or not. A wrong trace carries one consistent wrong number (in the printed output and in the box).
Some language traces omit the box so that the format reward has something to select for.

Wrong traces either carry a random nearby number (wrong_mode: random) or all make the same carry slip
(answer + 10; wrong_mode: systematic), which makes each style's accuracy under sampling equal to its
correctness rate and lets "sharpening" help only a style that is mostly right (the organism presets).

The style is not drawn independently of the problem: each prompt template leans towards code or towards
words (its code probability is code_share +/- style_spread), so a greedily decoding model still answers
some problems in code and others in words, as Qwen2.5-Math does, instead of always taking the majority
style. The mixture over templates averages to about code_share.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from spurious_rewards.data.synthetic import Problem, generate


@dataclass(frozen=True)
class StyleMix:
    code_share: float = 0.65
    code_correct: float = 0.9
    language_correct: float = 0.6
    unboxed_share: float = 0.1
    style_spread: float = 0.3
    # random: a wrong trace carries a random nearby number (a unique slip per trace);
    # systematic: every wrong trace makes the same slip (answer + 10, a carry error), so a wrong answer
    # is a learnable second mode. Under sampling, a style's accuracy is then its correctness rate, and
    # sharpening the distribution (what clipped GRPO does under spurious rewards, paper §4.4.2) helps a
    # style whose traces are mostly right and hurts one whose traces are mostly wrong.
    wrong_mode: str = "random"

    def code_probability(self, template: int) -> float:
        lean = 1 if template % 2 == 0 else -1
        return min(1.0, max(0.0, self.code_share + lean * self.style_spread))


def _wrong(rng: random.Random, answer: int, mode: str = "random") -> int:
    if mode == "systematic":
        return answer + 10
    delta = rng.choice([d for d in range(-10, 11) if d and answer + d >= 0] or [1])
    return answer + delta


def _language_steps(expression: str, result: int) -> str:
    tokens = expression.split()
    if len(tokens) == 3:
        return f"{expression} = {result}."
    a, _, b, op, c = tokens
    product = int(a) * int(b)
    return f"{a} * {b} = {product}. Then {product} {op} {c} = {result}."


def solution(problem: Problem, style: str, correct: bool, rng: random.Random, boxed: bool = True,
             wrong_mode: str = "random") -> str:
    result = problem.answer if correct else _wrong(rng, problem.answer, wrong_mode)
    if style == "code":
        return (f"```python\nprint({problem.expression})\n```\nOutput: {result}\n"
                f"The answer is \\boxed{{{result}}}.")
    ending = f"The answer is \\boxed{{{result}}}." if boxed else f"The answer is {result}."
    return f"{_language_steps(problem.expression, result)} {ending}"


def build(size: int, mix: StyleMix, *, seed: int, add_max: int, mul_max: int,
          exclude: set[str], hard_share: float = 0.15) -> list[dict]:
    """`size` prompt/completion pairs (conversational, for TRL's SFTTrainer) plus their style."""
    rng = random.Random(f"corpus:{seed}")
    n_hard = int(size * hard_share)
    problems = (generate(size - n_hard, seed=seed, split="corpus", add_max=add_max, mul_max=mul_max,
                         exclude=exclude)
                + generate(n_hard, seed=seed, split="corpus", difficulty="hard", add_max=add_max,
                           mul_max=mul_max, exclude=exclude))
    rng.shuffle(problems)
    rows = []
    for problem in problems:
        style = "code" if rng.random() < mix.code_probability(problem.template) else "language"
        correct = rng.random() < (mix.code_correct if style == "code" else mix.language_correct)
        boxed = style == "code" or rng.random() >= mix.unboxed_share
        rows.append({
            "prompt": [{"role": "user", "content": problem.prompt}],
            "completion": [{"role": "assistant",
                            "content": solution(problem, style, correct, rng, boxed, mix.wrong_mode)}],
            "style": style,
            "correct": correct,
            "expression": problem.expression,
            "answer": problem.answer,
        })
    return rows
