#!/usr/bin/env bash
# The device session of issue 8, as one command (run from the repository root on the lent GPU machine,
# with the wheels carried in .whl/, BENCHMARKS.md §7): the pipeline's stages on CUDA, then the GPU
# check (bf16 GRPO, generation, paper-shape per-token costs and the GPU-hours estimate). Logs go to
# $OUT (or /tmp). Each part has its own time bound so that one hang cannot eat the lease.
set -uo pipefail
out=${OUT:-/tmp}
if compgen -G ".whl/*.whl" >/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site
fi
export HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch, transformers, trl, datasets, math_verify; print('torch', torch.__version__, 'transformers', transformers.__version__, 'trl', trl.__version__)"
timeout "${STAGES_TIMEOUT:-270}" python3 bench/gpu_stages.py --steps "${STAGES_STEPS:-20}" > "$out/gpu_stages.log" 2>&1
echo "gpu_stages rc=$?"; tail -n 45 "$out/gpu_stages.log"
timeout "${CHECK_TIMEOUT:-240}" python3 bench/gpu_check.py --shapes 1.5b,7b > "$out/gpu_check.log" 2>&1
echo "gpu_check rc=$?"; tail -n 80 "$out/gpu_check.log"
