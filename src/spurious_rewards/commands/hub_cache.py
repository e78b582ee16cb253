"""`hub-cache`: put a local model folder into the Hugging Face cache as a Hub repository (org/name).

For a run that loads a model by Hub id and revision with no network: `make paper-mini` puts the tiny
model here as `spurious-rewards/tiny-qwen2.5-math` and then runs presets/paper-mini.yaml with
HF_HUB_OFFLINE=1, so the model goes through the same resolution as a model of presets/paper.yaml
(base records the commit its `main` resolves to). The cache is huggingface_hub's (HF_HOME/hub, or
HF_HUB_CACHE); `--chat-template FILE` gives the repository that tokenizer chat template instead of the
folder's (paper-mini: Qwen2.5-Math's, whose default system prompt the paper's prompts rely on).
Prints `<repo id> @ <commit>`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from spurious_rewards.io import DataError

# Not part of a Hub model repository: the pipeline's own record of how the folder was built.
SKIP = ("provenance.json",)


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="folder", required=True, help="a loadable model folder")
    parser.add_argument("--repo-id", required=True, help="the Hub id to store it as (org/name)")
    parser.add_argument("--ref", action="append", default=None,
                        help="branch or tag to point at the commit (repeatable; default: main)")
    parser.add_argument("--chat-template", type=Path, default=None,
                        help="a Jinja chat template file to use as the tokenizer's")


def _chat_template_files(folder: Path, template: Path) -> dict[str, bytes]:
    """chat_template.jinja, and tokenizer_config.json without an inline template that would compete."""
    if not template.is_file():
        raise DataError(f"hub-cache: --chat-template {template}: no such file")
    files = {"chat_template.jinja": template.read_bytes()}
    config_path = folder / "tokenizer_config.json"
    if config_path.is_file():
        config = json.loads(config_path.read_text(encoding="utf-8"))
        if config.pop("chat_template", None) is not None:
            files["tokenizer_config.json"] = (json.dumps(config, indent=2, ensure_ascii=False) + "\n").encode()
    return files


def main(args: argparse.Namespace) -> int:
    from huggingface_hub import constants

    from spurious_rewards.model import hub_cache
    from spurious_rewards.model.loading import check_loadable

    folder = Path(args.folder)
    check_loadable(folder)
    replace = _chat_template_files(folder, args.chat_template) if args.chat_template else None
    refs = tuple(args.ref or ["main"])
    commit, snapshot = hub_cache.add_model(Path(constants.HF_HUB_CACHE), args.repo_id, folder,
                                           refs=refs, replace=replace, skip=SKIP)
    # Read back through huggingface_hub's own cache lookup (no network): what the pipeline will resolve
    # with HF_HUB_OFFLINE=1.
    from huggingface_hub import snapshot_download

    for ref in refs:
        found = Path(snapshot_download(args.repo_id, revision=ref, local_files_only=True)).name
        if found != commit:
            raise DataError(f"hub-cache: {args.repo_id}@{ref} resolves to {found}, not {commit}")
    print(f"{args.repo_id} @ {commit} ({', '.join(refs)})  {snapshot}")
    return 0
