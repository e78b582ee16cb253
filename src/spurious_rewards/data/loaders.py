"""Load real problem sets into the paper's record schema {id, prompt, answer, source}.

Sources: a local JSON array / JSONL / parquet file, several such files concatenated (the five
DeepScaleR difficulty chunks), a folder holding train.json/test.json, or a Hugging Face dataset id
(split + revision; needs network or a local HF cache). `fields` renames columns, e.g. MATH-500's
jsonl has `problem`/`unique_id`. A missing column or an empty answer is an error naming the file and
the row; ids are made unique when files are concatenated (the DeepScaleR chunks restart ids at 0).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from spurious_rewards.io import DataError, answer_text, read_parquet

SCHEMA = ("id", "prompt", "answer", "source")


def _read_file(path: Path) -> list[dict]:
    if not path.exists():
        raise DataError(f"{path}: file not found")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return read_parquet(path).to_dict(orient="records")
        text = path.read_text(encoding="utf-8")
        if suffix == ".jsonl":
            rows = []
            for lineno, line in enumerate(text.splitlines(), start=1):
                if line.strip():
                    try:
                        rows.append(json.loads(line))
                    except json.JSONDecodeError as exc:
                        raise DataError(f"{path}: line {lineno}: not valid JSON ({exc.msg})") from None
            return rows
        data = json.loads(text)
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if isinstance(data, dict):  # {"data": [...]} style containers
        lists = [v for v in data.values() if isinstance(v, list)]
        if len(lists) != 1:
            raise DataError(f"{path}: expected a JSON array of records")
        data = lists[0]
    if not isinstance(data, list):
        raise DataError(f"{path}: expected a JSON array of records")
    return data


def expand_source(path: Path) -> list[Path]:
    """A folder stands for its train.json + test.json (the paper repo's <TASK>/ convention)."""
    if path.is_dir():
        files = [p for p in (path / "train.json", path / "test.json") if p.exists()]
        if not files:
            raise DataError(f"{path}: folder holds neither train.json nor test.json")
        return files
    return [path]


def normalise(rows: Iterable[dict], origin: str, fields: dict | None = None,
              default_source: str = "unknown", id_prefix: str = "", allow_empty: bool = False) -> list[dict]:
    """Map raw rows onto {id, prompt, answer, source}; errors name `origin` and the row.

    ``allow_empty`` accepts an empty answer: the paper's majority-vote files label with '' the
    prompts whose samples held no answer.
    """
    fields = fields or {}
    col = {key: fields.get(key, key) for key in ("id", "prompt", "answer")}
    out = []
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            raise DataError(f"{origin}: row {index}: expected an object, got {type(row).__name__}")
        for key in ("prompt", "answer"):
            if col[key] not in row:
                raise DataError(f"{origin}: row {index}: missing column '{col[key]}'"
                                + (f" (mapped to {key})" if col[key] != key else ""))
        answer = answer_text(row[col["answer"]], f"{origin}: row {index} (id {row.get(col['id'], index)})",
                             allow_empty=allow_empty)
        prompt = row[col["prompt"]]
        if not isinstance(prompt, str) or not prompt.strip():
            raise DataError(f"{origin}: row {index}: empty or non-text prompt")
        raw_id = row.get(col["id"], index)
        out.append({"id": f"{id_prefix}{raw_id}", "prompt": prompt, "answer": answer,
                    "source": str(row.get("source") or default_source)})
    return out


def load_files(paths: list[str | Path], fields: dict | None = None, source_name: str | None = None,
               allow_empty: bool = False) -> list[dict]:
    files = [f for p in paths for f in expand_source(Path(p))]
    many = len(files) > 1
    records: list[dict] = []
    for file in files:
        prefix = f"{file.parent.name}/{file.stem}:" if many else ""
        records += normalise(_read_file(file), str(file), fields,
                             default_source=source_name or file.parent.name, id_prefix=prefix,
                             allow_empty=allow_empty)
    ids = [r["id"] for r in records]
    if len(set(ids)) != len(ids):
        dupes = sorted({i for i in ids if ids.count(i) > 1})[:5]
        raise DataError(f"{', '.join(map(str, files))}: duplicate ids {dupes}")
    return records


def load_hf(dataset: str, split: str = "train", config: str | None = None, revision: str | None = None,
            fields: dict | None = None, source_name: str | None = None) -> list[dict]:
    import datasets

    try:
        ds = datasets.load_dataset(dataset, config, split=split, revision=revision)
    except Exception as exc:  # noqa: BLE001 - datasets raises many types; name the dataset
        raise DataError(f"hf dataset {dataset} (split {split}, revision {revision}): {exc}") from None
    return normalise(ds, f"hf:{dataset}[{split}]", fields, default_source=source_name or dataset)


def load_source(spec: dict, where: str) -> list[dict]:
    """Records for a `path` or `hf` source spec from params.yaml; `where` names the params key."""
    kind = spec["source"]
    if kind == "path":
        files = spec.get("paths") or [spec["path"]]
        records = load_files(files, spec.get("fields"), spec.get("source_name"))
    elif kind == "hf":
        records = load_hf(spec["dataset"], spec["split"], spec["config"], spec["revision"],
                          spec.get("fields"), spec.get("source_name"))
    else:
        raise ValueError(f"{where}: load_source handles path/hf sources, not {kind!r}")
    if not records:
        raise DataError(f"{where}: the source holds no records")
    limit = spec["limit"]
    return records[:limit] if limit else records
