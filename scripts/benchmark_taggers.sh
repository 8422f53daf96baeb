#!/usr/bin/env bash
# Train the three reference taggers on the full corpora, one after another (never two at once:
# the words/s figures must not share the CPU). Each run dir's metrics.json holds the numbers
# quoted in the README. Usage: bash scripts/benchmark_taggers.sh [data_dir] [out_dir]
set -euo pipefail
data_dir=${1:-../shared/data}
out_dir=${2:-runs/benchmarks}
for experiment in pos_ud_ewt ner_conll2003 chunk_conll2000; do
  if [ -e "$out_dir/$experiment" ]; then  # training into it would resume that run: its old numbers
    echo "error: $out_dir/$experiment exists; give another out_dir for a fresh measurement" >&2
    exit 1
  fi
  python3 recipes/train.py experiment=$experiment paths.data_dir="$data_dir" \
    callbacks.tensorboard=false hydra.run.dir="$out_dir/$experiment"
  python3 - "$out_dir/$experiment/metrics.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
keys = ["test/accuracy", "test/f1", "epochs", "train/seconds", "train/words_per_second", "train/padding_fraction"]
print(sys.argv[1], {k: round(m[k], 4) for k in keys if k in m})
PY
done
