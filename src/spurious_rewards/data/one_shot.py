"""The one-shot example (π1): one problem and its label, read from the paper's data or One-Shot-RLVR's.

Kept apart from voting (which needs the graders) so that the data stage depends on no grader code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from spurious_rewards.io import answer_text


def _prompt_text(prompt: Any, path: Path) -> str:
    if isinstance(prompt, str):
        return prompt
    # verl / chat format: a list (or numpy array) of {"role", "content"} dicts.
    try:
        messages = list(prompt)
    except TypeError:
        messages = []
    users = [m.get("content") for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    if users and isinstance(users[-1], str):
        return users[-1]
    raise ValueError(f"{path}: 'prompt' must be a string or a list of chat messages with a "
                     f"'user' message, got {type(prompt).__name__}")


def _answer_text(row: dict, path: Path) -> str:
    # answer_text refuses NaN, floats, lists ... (a DataError, which is a ValueError) instead of "nan"
    if "answer" in row and row["answer"] is not None:
        return answer_text(row["answer"], f"{path}: row 0")
    reward_model = row.get("reward_model")
    if isinstance(reward_model, dict) and reward_model.get("ground_truth") is not None:
        return answer_text(reward_model["ground_truth"], f"{path}: row 0 (reward_model.ground_truth)")
    raise ValueError(f"{path}: row has neither 'answer' nor 'reward_model.ground_truth'")


def _rows(path: Path, row_id: str | None) -> list[dict]:
    """The rows of ``path``: just the first one unless ``row_id`` asks for a search."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
        except Exception as err:  # ArrowInvalid & co. on a corrupt file
            raise ValueError(f"{path}: cannot read parquet ({err})") from err
        if table.num_rows == 0:
            raise ValueError(f"{path}: parquet file has no rows")
        return (table if row_id is not None else table.slice(0, 1)).to_pylist()
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        if suffix == ".jsonl":
            lines = [ln for ln in text.splitlines() if ln.strip()]
            if not lines:
                raise ValueError(f"{path}: JSONL file has no rows")
            data: Any = [json.loads(ln) for ln in (lines if row_id is not None else lines[:1])]
        else:
            data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from err
    if not isinstance(data, list):
        data = [data]
    if not data:
        raise ValueError(f"{path}: JSON array is empty")
    if not all(isinstance(row, dict) for row in data):
        raise ValueError(f"{path}: expected a JSON object with 'prompt' and 'answer' in each row")
    return data


def _pick(rows: list[dict], row_id: str | None, path: Path) -> dict:
    if row_id is None:
        return rows[0]
    # ids are strings in the paper's DeepScaleR chunks and ints elsewhere: compare as text.
    matches = [row for row in rows if str(row.get("id")) == row_id]
    if not matches:
        raise ValueError(f"{path}: no row with id {row_id!r}")
    return matches[0]


def load_one_shot(path: str | Path, row_id: str | int | None = None) -> dict[str, str]:
    """Read the one-shot example: ``{"prompt": <user text>, "answer": <label>}``.

    Accepts the One-Shot-RLVR verl parquet (``prompt`` = chat messages, label
    in ``reward_model.ground_truth``; its rows are copies of one problem, so
    the first row is used) or a JSON/JSONL file with ``prompt``/``answer``.
    ``row_id`` picks the row with that ``id`` instead of the first: the paper's
    π1 is row 7395 of ``DeepScaleR_Difficulty_Level_4/train.json``, the bare
    problem without One-Shot-RLVR's "Let's think step by step ..." suffix.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    wanted = None if row_id is None else str(row_id)
    row = _pick(_rows(path, wanted), wanted, path)
    if "prompt" not in row:
        raise ValueError(f"{path}: row has no 'prompt' field (fields: {', '.join(map(str, row))})")
    return {"prompt": _prompt_text(row["prompt"], path), "answer": _answer_text(row, path)}
