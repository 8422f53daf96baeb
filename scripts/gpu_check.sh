#!/usr/bin/env bash
# Issue 6's GPU check, in one command, on a machine with an NVIDIA GPU and PyTorch but no TensorFlow:
# the benchmark on KERAS_BACKEND=torch with the cuDNN-vs-generic and mixed-precision comparison,
# then the PyTorch-backend model tests (cuDNN against the generic loop, on the GPU). Wheels that
# scripts/fetch_gpu_wheels.sh put in .whl/ are installed first, if there (no network needed).
#
#     bash scripts/gpu_check.sh [benchmark.key=value ...]
#
# Writes benchmark.json, benchmark.log and tests.log into $OUT (the device tool's output folder)
# or, without it, into runs/gpu_check/. Exits non-zero if the benchmark fails.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-runs/gpu_check}"
mkdir -p "$out"
if compgen -G ".whl/*.whl" >/dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/rnnseq_site \
        .whl/*.whl || exit 1
    export PYTHONPATH="/tmp/rnnseq_site${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" KERAS_BACKEND=torch PYTHONUNBUFFERED=1
command -v nvidia-smi >/dev/null && nvidia-smi -L
run_dir="$(mktemp -d)/benchmark"  # Hydra's run dir (its .hydra/ files stay out of $OUT, which returns few files)
python3 recipes/benchmark.py benchmark.compare_kernels=true "hydra.run.dir=$run_dir" "$@" 2>&1 \
    | tee "$out/benchmark.log"
status=${PIPESTATUS[0]}
cp "$run_dir/benchmark.json" "$out/" 2>/dev/null
# Tests that need no TensorFlow; their cuDNN tests run where a GPU is visible.
timeout 300 python3 -m pytest -q -p no:cacheprovider tests/models/test_cudnn.py tests/models/test_hoisted_rnn.py \
    tests/models/test_tagger.py tests/inference 2>&1 | tail -30 | tee "$out/tests.log"
exit "$status"
