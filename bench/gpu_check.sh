#!/usr/bin/env bash
# The GPU check, one command (bench/gpu_check.py says what it measures):
#   bench/gpu_check.sh [--out DIR]     on the lent GPU machine: < 8 min on one H100, 9 min hard limit
#   bench/gpu_check.sh --dry           anywhere: tiny sizes on the CPU, seconds (tests/test_gpu_check.py)
# On the GPU machine (no network) the wheels of bench/gpu_wheels.py travel beside the code in
# gpu_wheels/ (made with `python bench/gpu_wheels.py --download gpu_wheels`); they are installed
# into a directory of their own, never into the machine's Python.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ -d gpu_wheels ] && ls gpu_wheels/*.whl >/dev/null 2>&1; then
  "$PY" -m pip install -q --no-index --no-deps --target .gpu_deps gpu_wheels/*.whl
  export PYTHONPATH=".gpu_deps${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH=".${PYTHONPATH:+:$PYTHONPATH}"
exec timeout 540 "$PY" bench/gpu_check.py "$@"
