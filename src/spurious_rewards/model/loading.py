"""Load models and tokenizers from a base folder, a checkpoint folder or a Hugging Face id.

A base folder holds either real weights (the tiny model, or any saved model) or `reference.json`
naming an HF id and revision (the real path: we do not copy 15 GB into the results folder).
`trust_remote_code` is off unless a model's parameters turn it on: model repos are code.
"""

from __future__ import annotations

import json
from pathlib import Path

from spurious_rewards.io import DataError

REFERENCE_FILE = "reference.json"
# transformers 5 writes this class name for a tokenizer built from a `tokenizers` object. Loading
# such a folder with AutoTokenizer silently swaps our digit-splitting pre-tokenizer for Qwen2's,
# because config.json says qwen2, so these folders are loaded with PreTrainedTokenizerFast.
GENERIC_TOKENIZER_CLASSES = {"TokenizersBackend", "PreTrainedTokenizerFast"}


def resolve(model_dir: str | Path) -> tuple[str, str | None]:
    """(path or HF id, revision) for a base folder, checkpoint folder or reference.

    A local path that does not exist is an error here, before transformers would take it for a Hub
    id and retry it against the Hub (about 45 s, or an OfflineModeIsEnabled error).
    """
    from spurious_rewards.model.hub import is_local

    model_dir = Path(model_dir)
    ref = model_dir / REFERENCE_FILE
    if ref.is_file():
        spec = json.loads(ref.read_text(encoding="utf-8"))
        path, revision = spec["path"], spec.get("revision")
        if is_local(path) and not Path(path).expanduser().is_dir():
            raise DataError(f"{ref}: model folder {path} not found")
        return path, revision
    if not model_dir.is_dir():
        raise DataError(f"{model_dir}: model folder not found")
    return str(model_dir), None


def check_loadable(model_dir: str | Path) -> None:
    """Fail with a clear error for a missing or half-written model folder."""
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise DataError(f"{model_dir}: model folder not found")
    if (model_dir / REFERENCE_FILE).is_file():
        return
    if not (model_dir / "config.json").is_file():
        raise DataError(f"{model_dir}: not a complete model folder (config.json missing)")
    if not any(model_dir.glob("*.safetensors")) and not any(model_dir.glob("*.bin")):
        raise DataError(f"{model_dir}: not a complete model folder (no weights)")
    for weights in sorted(model_dir.glob("*.safetensors")):
        problem = safetensors_problem(weights)
        if problem:
            raise DataError(f"{weights}: truncated or not a safetensors file ({problem})")


def safetensors_problem(path: Path) -> str | None:
    """Why a .safetensors file is not whole, from its header alone (no tensor is read), or None.

    The format is an 8-byte little-endian header length, a JSON header giving each tensor's byte range,
    then the tensor bytes; a whole file ends exactly where the last range ends.
    """
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(8)
        if len(head) < 8:
            return f"{size} bytes, shorter than the 8-byte header length"
        n = int.from_bytes(head, "little")
        if n > size - 8:
            return f"header of {n} bytes announced, {size - 8} present"
        try:
            header = json.loads(fh.read(n))
            end = max((int(t["data_offsets"][1]) for k, t in header.items() if k != "__metadata__"), default=0)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError):
            return "unreadable header"
    if 8 + n + end != size:
        return f"{size} bytes, the header describes {8 + n + end}"
    return None


def _tokenizer_class(path: Path) -> str | None:
    cfg = path / "tokenizer_config.json"
    if not cfg.is_file():
        return None
    return json.loads(cfg.read_text(encoding="utf-8")).get("tokenizer_class")


def load_tokenizer(model_dir: str | Path, trust_remote_code: bool = False):
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    path, revision = resolve(model_dir)
    local = Path(path)
    if local.is_dir() and _tokenizer_class(local) in GENERIC_TOKENIZER_CLASSES:
        tokenizer = PreTrainedTokenizerFast.from_pretrained(path)
    else:
        tokenizer = AutoTokenizer.from_pretrained(path, revision=revision,
                                                  trust_remote_code=trust_remote_code)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def torch_dtype(name: str):
    import torch

    return {"float32": torch.float32, "fp32": torch.float32, "bfloat16": torch.bfloat16,
            "bf16": torch.bfloat16, "float16": torch.float16, "auto": "auto"}[name]


def load_model(model_dir: str | Path, *, device: str = "cpu", dtype: str = "float32",
               attn_implementation: str | None = None, trust_remote_code: bool = False):
    from transformers import AutoModelForCausalLM

    check_loadable(model_dir)
    path, revision = resolve(model_dir)
    kwargs = {"revision": revision, "trust_remote_code": trust_remote_code, "dtype": torch_dtype(dtype)}
    if attn_implementation:
        kwargs["attn_implementation"] = attn_implementation
    model = AutoModelForCausalLM.from_pretrained(path, **kwargs)
    return model.to(device).eval()


def resolve_device(requested: str) -> str:
    import torch

    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        raise DataError("experiment.device is cuda but torch sees no GPU")
    return requested
