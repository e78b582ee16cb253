"""The configured benchmarks as the evaluate and grade stages read them, and their prompt variants."""

from __future__ import annotations

from pathlib import Path

from spurious_rewards import io, paths
from spurious_rewards.config import Params

# "default": the rendered prompt; "forced_prefix": the paper's prompting intervention (Table 3)
DEFAULT, FORCED = "default", "forced_prefix"


def load_benchmark(params: Params, name: str) -> tuple[dict, list[dict], Path]:
    """(settings, rows, file) of one configured benchmark; DataError for anything malformed."""
    if name not in params.benchmarks:
        raise io.DataError(f"benchmark {name!r} is not in {params.path} data.benchmarks "
                           f"(known: {', '.join(sorted(params.benchmarks))})")
    spec = params.benchmarks[name]
    path = paths.benchmark_data(params.results_dir, name)
    rows = io.read_jsonl(path, required=["id", "prompt", "answer"], answer_field="answer")
    if not rows:
        raise io.DataError(f"{path}: benchmark {name!r} has no rows")
    seen: set[str] = set()
    for lineno, row in enumerate(rows, start=1):
        if not isinstance(row["prompt"], str) or not row["prompt"].strip():
            raise io.DataError(f"{path}: row {lineno} (id {row['id']!r}): prompt must be a non-empty string")
        if row["answer"] is None or str(row["answer"]).strip() == "":
            raise io.DataError(f"{path}: row {lineno} (id {row['id']!r}): empty answer")
        pid = str(row["id"])
        if pid in seen:
            raise io.DataError(f"{path}: row {lineno}: duplicate id {pid!r}")
        seen.add(pid)
    settings = {"samples": int(spec["samples"]), "temperature": float(spec["temperature"]),
                "top_p": float(spec["top_p"]), "max_new_tokens": int(spec["max_new_tokens"])}
    return settings, rows, path
