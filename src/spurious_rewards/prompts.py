"""How a problem becomes a prompt: the model's chat template (the paper's default) or the R1 template.

The paper feeds the bare problem as the only user turn, with no added instruction; the chat template
inserts the model's own default system prompt where it has one (Qwen2.5-Math: "Please reason step by
step, and put your final answer within \\boxed{}."). Base models without a chat template (base Llama in
the paper) use the R1-Zero template and stop at "</answer>"; their rewards and grades then look only
at the text after the last "<answer>" (`answer_region`, the paper's `_r1_style`). Training and
evaluation both call `render`, so step 0 and every checkpoint see byte-identical prompts;
`template_hash` goes into the provenance of every number.
"""

from __future__ import annotations

import hashlib

R1_INSTRUCTION = (
    "A conversation between User and Assistant. The user asks a question, and the Assistant solves it. "
    "The assistant first thinks about the reasoning process in the mind and then provides the user with "
    "the answer. The reasoning process and answer are enclosed within <think> </think> and <answer> "
    "</answer> tags, respectively, i.e., <think> reasoning process here </think> <answer> answer here "
    "</answer>."
)
# `r1`: the paper's evaluation template (scripts/eval_checkpoint.py BASE_MODEL_PROMPT), real newlines.
R1_TEMPLATE = R1_INSTRUCTION + "\n\n<|user|>\n{problem}\n<|assistant|>\n<think>"
# `r1_literal`: the paper's training script passes the same text in bash double quotes, so its
# rollouts saw the two characters backslash-n instead of each newline (OpenRLHF warns about it).
R1_LITERAL_TEMPLATE = R1_TEMPLATE.replace("\n", "\\n")
R1_TEMPLATES = {"r1": R1_TEMPLATE, "r1_literal": R1_LITERAL_TEMPLATE}
R1_STOP = ["</answer>"]

# Which part of a completion the label/format rewards and the evaluation grade (models.<m>.answer_region).
ANSWER_REGIONS = ("full", "after_answer_tag")
ANSWER_TAG, ANSWER_CLOSE = "<answer>", "</answer>"


def is_r1(template: str) -> bool:
    return template in R1_TEMPLATES


def answer_text(text: str, region: str = "full") -> str:
    """The graded part of a completion.

    after_answer_tag follows the paper's `_r1_style` (qwen_math_parser.py): the text after the LAST
    "<answer>" (the whole text when there is none), then `rstrip("</answer>")`, which strips trailing
    CHARACTERS of that set, not the suffix: "12 inches</answer>" -> "12 inch". Kept as the paper has it.

    >>> answer_text("<think> 3+4 </think> <answer> 7 </answer>", "after_answer_tag")
    ' 7 '
    >>> answer_text("no tags at all", "after_answer_tag"), answer_text("x <answer> 7", "full")
    ('no tags at all', 'x <answer> 7')
    """
    if region == "full":
        return text
    if region != "after_answer_tag":
        raise ValueError(f"unknown answer_region {region!r} ({' | '.join(ANSWER_REGIONS)})")
    return text.split(ANSWER_TAG)[-1].rstrip(ANSWER_CLOSE)


def messages(problem: str, system_prompt: str | None = None) -> list[dict[str, str]]:
    turns = [{"role": "system", "content": system_prompt}] if system_prompt else []
    return turns + [{"role": "user", "content": problem}]


def render(tokenizer, problem: str, template: str = "chat", system_prompt: str | None = None) -> str:
    """The exact prompt text the model sees."""
    if is_r1(template):
        return R1_TEMPLATES[template].format(problem=problem)
    if template != "chat":
        raise ValueError(f"unknown prompt template {template!r} (chat | r1 | r1_literal)")
    if not getattr(tokenizer, "chat_template", None):
        raise ValueError("the tokenizer has no chat template; set prompt_template: r1 for this model")
    return tokenizer.apply_chat_template(messages(problem, system_prompt), tokenize=False,
                                         add_generation_prompt=True)


def adds_special_tokens(template: str) -> bool:
    """Whether a prompt of this template is tokenised with the tokenizer's special tokens.

    As TRL's GRPOTrainer tokenises the prompts it trains on: a conversation through the chat template
    (whose text holds any BOS itself; nothing is added), plain text (the R1 templates, raw problems)
    with the tokenizer's defaults, so a Llama or OLMo tokenizer prepends its BOS. Evaluation and
    labelling tokenise the same way, so a checkpoint is evaluated on the token ids it was trained on;
    it is also what vLLM's text path (the paper's evaluation) does for plain-text prompts.
    """
    return template != "chat"


def trl_prompt(problem: str, template: str = "chat", system_prompt: str | None = None):
    """The dataset `prompt` value for TRL: conversational for chat (TRL applies the template)."""
    if is_r1(template):
        return R1_TEMPLATES[template].format(problem=problem)
    return messages(problem, system_prompt)


def stop_strings(template: str) -> list[str] | None:
    return R1_STOP if is_r1(template) else None


def template_hash(tokenizer, template: str = "chat", system_prompt: str | None = None) -> str:
    """Hash of everything that shapes a prompt: template kind, chat template text, system prompt."""
    chat = getattr(tokenizer, "chat_template", None) or ""
    body = "\x1f".join([template, R1_TEMPLATES.get(template, chat), system_prompt or ""])
    return hashlib.sha256(body.encode("utf-8")).hexdigest()
