#!/usr/bin/env bash
# Issue 6's GPU check, in one command, on a machine with an NVIDIA GPU and PyTorch but no TensorFlow:
# the benchmark (LSTM, then GRU) on KERAS_BACKEND=torch with the cuDNN-vs-generic and mixed-precision comparison,
# then the PyTorch-backend model tests (cuDNN against the generic loop, on the GPU). Wheels that
# scripts/fetch_gpu_wheels.sh put in .whl/ are installed first where Keras or Hydra is missing (no network needed).
#
#     bash scripts/gpu_check.sh [benchmark.key=value ...]
#
# Writes benchmark.json, benchmark_gru.json, benchmark.log and tests.log into $OUT (the device tool's output folder)
# or, without it, into runs/gpu_check/. Exits non-zero if the benchmark fails.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-runs/gpu_check}"
mkdir -p "$out"
# (only where Keras or Hydra is missing: a machine that has them may not take these wheels)
if compgen -G ".whl/*.whl" >/dev/null && ! KERAS_BACKEND=torch python3 -c "import keras, hydra" 2>/dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/rnnseq_site \
        .whl/*.whl || exit 1
    export PYTHONPATH="/tmp/rnnseq_site${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" KERAS_BACKEND=torch PYTHONUNBUFFERED=1
command -v nvidia-smi >/dev/null && nvidia-smi -L
status=0
# The benchmark at its shapes for each cell; Hydra's run dirs (and their .hydra/ files) stay out of
# $OUT, which returns few files: benchmark.json (LSTM) and benchmark_gru.json, one log for both.
for cell in lstm gru; do
    run_dir="$(mktemp -d)/benchmark"
    name="benchmark$([ "$cell" = lstm ] || echo "_$cell").json"
    python3 recipes/benchmark.py benchmark.compare_kernels=true "hydra.run.dir=$run_dir" "$@" "benchmark.cell=$cell" \
        2>&1 | tee -a "$out/benchmark.log"
    [ "${PIPESTATUS[0]}" = 0 ] || status=1
    cp "$run_dir/benchmark.json" "$out/$name" 2>/dev/null
done
# Tests that need no TensorFlow; their cuDNN tests run where a GPU is visible. One process per file,
# so that a CUDA error in one (which poisons its process) leaves the others' results standing.
# GPU_CHECK_PYTEST_ARGS adds pytest options (CI's test of this script passes --collect-only: it
# imports every file without TensorFlow; tests/test_torch_backend.py runs them on PyTorch anyway).
# GPU_CHECK_ONE_PROCESS=1 runs them all in one process instead: Keras' start-up on PyTorch (~7 s)
# once rather than per file, for that test on a CPU.
test_files=(tests/models/test_cudnn.py tests/models/test_kernel_observation.py tests/models/test_eager_build.py
    tests/models/test_tagger.py tests/models/test_seq2seq.py tests/models/test_language_model.py tests/inference)
if [ "${GPU_CHECK_ONE_PROCESS:-0}" = 1 ]; then
    batches=("${test_files[*]}")
else
    batches=("${test_files[@]}")
fi
for tests in "${batches[@]}"; do
    echo "== $tests" >>"$out/tests.log"
    # shellcheck disable=SC2086  # the options, and a batch's files, are words
    timeout 300 python3 -m pytest -q -p no:cacheprovider -rs ${GPU_CHECK_PYTEST_ARGS:-} $tests \
        >>"$out/tests.log" 2>&1
    echo "$tests: $(tail -1 "$out/tests.log")"
done
exit "$status"
