#!/usr/bin/env bash
# Clean training-speed figures of the three reference taggers: two epochs each, one after the
# other, with nothing else running. Prints train/words_per_second and the padded share per epoch.
#   bash scripts/measure_tagger_speed.sh [data_dir] [out_dir]   (logs: <out_dir>/<experiment>.log)
set -euo pipefail
data_dir=${1:-../shared/data}
out_dir=${2:-runs/speed}
mkdir -p "$out_dir"
for experiment in pos_ud_ewt ner_conll2003 chunk_conll2000; do
  if [ -e "$out_dir/$experiment" ]; then  # training into it would resume that run: its old numbers
    echo "error: $out_dir/$experiment exists; give another out_dir for a fresh measurement" >&2
    exit 1
  fi
  python3 recipes/train.py experiment=$experiment paths.data_dir="$data_dir" trainer.epochs=2 \
    callbacks.tensorboard=false hydra.run.dir="$out_dir/$experiment" > "$out_dir/$experiment.log" 2>&1
  python3 -c "import json,sys; m=json.load(open(sys.argv[1])); print(sys.argv[2], round(m['train/words_per_second']), 'words/s,', round(100*m['train/padding_fraction'], 2), '% padded')" \
    "$out_dir/$experiment/metrics.json" $experiment
done
