"""A Hugging Face Hub cache written by hand (spurious_rewards.model.hub_cache), in huggingface_hub's layout:

    <HF_HOME>/hub/models--<org>--<name>/blobs/<sha256 of the file>
                                        /snapshots/<commit sha>/<file> -> ../../blobs/<sha256>
                                        /refs/<branch or tag>            (holds the commit sha)

so that `org/name` at a branch, a tag or the SHA resolves with HF_HUB_OFFLINE=1 and no network.
`recording_endpoint` is a stand-in Hub that records every request, to show that none is made.
"""

from __future__ import annotations

import contextlib
import http.server
import threading
from pathlib import Path

from spurious_rewards.model import hub_cache


def add_model(hf_home: Path, repo_id: str, folder: Path, commit: str, refs: tuple[str, ...] = ("main",)) -> Path:
    """Put the files of `folder` into the cache as `repo_id` at `commit`; return the snapshot folder."""
    return hub_cache.add_model(Path(hf_home) / "hub", repo_id, folder, commit, refs)[1]


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Answers every request with 500 and records it: a stand-in Hub endpoint (HF_ENDPOINT)."""

    seen: list[str]

    def _any(self):
        self.seen.append(f"{self.command} {self.path}")
        self.send_response(500)
        self.end_headers()

    do_GET = do_HEAD = do_POST = _any

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def recording_endpoint():
    """(url, requests seen): point HF_ENDPOINT at url to see every request a process makes to the Hub."""
    seen: list[str] = []
    handler = type("Recorder", (_Recorder,), {"seen": seen})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", seen
    finally:
        server.shutdown()
        server.server_close()
