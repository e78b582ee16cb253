"""`fetch`: put every Hub model and dataset a parameter file names into the Hugging Face cache.

Run it once where the Hub is reachable (a login node), with `HF_HOME` on the file system the compute
nodes share and `HF_TOKEN` in the environment for gated models (Llama); the jobs then run with
`HF_HUB_OFFLINE=1`. Each branch or tag is printed with the commit SHA it resolves to, the value to pin
as `revision:` in the parameter file. With `HF_HUB_OFFLINE=1` the command downloads nothing and checks
that everything is already cached (exit 2, naming each missing model or dataset). The token is read by
huggingface_hub itself and never printed or written.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass

from spurious_rewards.cliargs import add_params
from spurious_rewards.config import Params, load_params
from spurious_rewards.io import DataError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HubItem:
    repo_type: str  # model | dataset
    where: str  # the parameter key that names it
    repo_id: str
    revision: str | None
    spec: dict


def configure_parser(parser: argparse.ArgumentParser) -> None:
    add_params(parser)
    parser.add_argument("--all-models", action="store_true",
                        help="every model defined under models:, not only those in experiment.models")


def hub_items(params: Params, all_models: bool = False) -> list[HubItem]:
    """The Hub models (by id, not local paths) and Hub datasets the parameter file names."""
    from spurious_rewards.model.hub import is_local

    items = []
    for name in (params.section("models") if all_models else params.models):
        spec = params.model(name)
        if spec["kind"] == "hf" and not is_local(spec["path"]):
            items.append(HubItem("model", f"models.{name}", spec["path"], spec["revision"], spec))
    data = params.section("data")
    sources = [("data.train", data["train"]), ("data.one_shot", data["one_shot"])]
    sources += [(f"data.benchmarks.{k}", v) for k, v in data["benchmarks"].items()]
    for where, spec in sources:
        if spec["source"] == "hf":
            items.append(HubItem("dataset", where, spec["dataset"], spec["revision"], spec))
    return items


def _prepare_dataset(item: HubItem) -> int:
    """Load the dataset as the data stage will: fills (online) or checks (offline) datasets' own cache."""
    from spurious_rewards.data import loaders

    spec = item.spec
    return len(loaders.load_hf(spec["dataset"], spec["split"], spec.get("config"), spec["revision"],
                               spec.get("fields"), spec.get("source_name")))


def main(args: argparse.Namespace) -> int:
    from huggingface_hub import constants

    from spurious_rewards.model import hub

    params = load_params(args.params, check_rewards=False)
    items = hub_items(params, args.all_models)
    mode = "checking (HF_HUB_OFFLINE=1)" if hub.offline() else "downloading"
    print(f"fetch: {len(items)} Hub item(s) named by {params.path}; {mode} in {constants.HF_HUB_CACHE}")
    errors = []
    for item in items:
        try:
            sha, snapshot = hub.fetch(item.repo_id, item.revision, item.repo_type)
            rows = f", {_prepare_dataset(item)} rows" if item.repo_type == "dataset" else ""
        except DataError as exc:
            errors.append(f"{params.path}: {item.where}: {exc}")
            print(f"MISSING {item.repo_type} {item.repo_id} ({item.where})")
            continue
        pinned = " (pinned)" if item.revision == sha else f" <- {item.revision or 'main'}"
        print(f"ok      {item.repo_type} {item.repo_id} @ {sha}{pinned}{rows}  {snapshot}")
    if errors:
        raise DataError(f"{len(errors)} of {len(items)} Hub item(s) unavailable:\n  " + "\n  ".join(errors))
    return 0
