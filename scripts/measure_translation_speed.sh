#!/usr/bin/env bash
# Decoding speed and scores of trained translator runs on their test split: greedy, then beam 5
# (so the run's metrics.json ends with the beam-5 scores it was trained to report). Run it with
# nothing else on the machine. Prints one line per run and strategy.
#   bash scripts/measure_translation_speed.sh runs/bench/mt_attention runs/bench/mt_plain
set -euo pipefail
for run_dir in "$@"; do
  for strategy in "decode.strategy=greedy" "decode.strategy=beam decode.beam_size=5"; do
    # shellcheck disable=SC2086
    python3 recipes/evaluate.py run_dir="$run_dir" split=test $strategy > "$run_dir/evaluate.log" 2>&1
    python3 -c "import json,sys; m=json.load(open(sys.argv[1])); print(sys.argv[2], sys.argv[3], 'BLEU %.2f chrF %.2f TER %.2f | %d sentences in %.1f s: %.1f sentences/s, %.0f words/s' % (m['test/bleu'], m['test/chrf'], m['test/ter'], m['test/sentences'], m['test/decode_seconds'], m['test/sentences_per_second'], m['test/words_per_second']))" \
      "$run_dir/metrics.json" "$run_dir" "$strategy"
  done
done
