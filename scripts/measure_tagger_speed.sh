#!/usr/bin/env bash
# Clean training-speed figures of the three reference taggers: two epochs each, one after the
# other, with nothing else running. Prints train/words_per_second and the padded share per epoch.
set -euo pipefail
data_dir=${1:-../shared/data}
out_dir=${2:-runs/speed}
for experiment in pos_ud_ewt ner_conll2003 chunk_conll2000; do
  python recipes/train.py experiment=$experiment paths.data_dir=$data_dir trainer.epochs=2 \
    callbacks.tensorboard=false hydra.run.dir=$out_dir/$experiment > $out_dir.$experiment.log 2>&1
  python -c "import json,sys; m=json.load(open(sys.argv[1])); print(sys.argv[2], round(m['train/words_per_second']), 'words/s,', round(100*m['train/padding_fraction'], 2), '% padded')" \
    $out_dir/$experiment/metrics.json $experiment
done
