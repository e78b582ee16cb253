"""How a problem becomes a prompt: the model's chat template (the paper's default) or the R1 template.

The paper feeds the bare problem as the only user turn, with no added instruction; the chat template
inserts the model's own default system prompt where it has one (Qwen2.5-Math: "Please reason step by
step, and put your final answer within \\boxed{}."). Base models without a chat template (base Llama in
the paper) use the R1-Zero template and stop at "</answer>". Training and evaluation both call
`render`, so step 0 and every checkpoint see byte-identical prompts; `template_hash` goes into the
provenance of every number.
"""

from __future__ import annotations

import hashlib

R1_TEMPLATE = (
    "A conversation between User and Assistant. The user asks a question, and the Assistant solves it. "
    "The assistant first thinks about the reasoning process in the mind and then provides the user with "
    "the answer. The reasoning process and answer are enclosed within <think> </think> and <answer> "
    "</answer> tags, respectively, i.e., <think> reasoning process here </think> <answer> answer here "
    "</answer>.<|user|>\n{problem}\n<|assistant|>\n<think>"
)
R1_STOP = ["</answer>"]


def messages(problem: str, system_prompt: str | None = None) -> list[dict[str, str]]:
    turns = [{"role": "system", "content": system_prompt}] if system_prompt else []
    return turns + [{"role": "user", "content": problem}]


def render(tokenizer, problem: str, template: str = "chat", system_prompt: str | None = None) -> str:
    """The exact prompt text the model sees."""
    if template == "r1":
        return R1_TEMPLATE.format(problem=problem)
    if template != "chat":
        raise ValueError(f"unknown prompt template {template!r} (chat | r1)")
    if not getattr(tokenizer, "chat_template", None):
        raise ValueError("the tokenizer has no chat template; set prompt_template: r1 for this model")
    return tokenizer.apply_chat_template(messages(problem, system_prompt), tokenize=False,
                                         add_generation_prompt=True)


def trl_prompt(problem: str, template: str = "chat", system_prompt: str | None = None):
    """The dataset `prompt` value for TRL: conversational for chat (TRL applies the template)."""
    if template == "r1":
        return R1_TEMPLATE.format(problem=problem)
    return messages(problem, system_prompt)


def stop_strings(template: str) -> list[str] | None:
    return R1_STOP if template == "r1" else None


def template_hash(tokenizer, template: str = "chat", system_prompt: str | None = None) -> str:
    """Hash of everything that shapes a prompt: template kind, chat template text, system prompt."""
    chat = getattr(tokenizer, "chat_template", None) or ""
    body = "\x1f".join([template, R1_TEMPLATE if template == "r1" else chat, system_prompt or ""])
    return hashlib.sha256(body.encode("utf-8")).hexdigest()
