#!/usr/bin/env bash
# Decoding speed and scores of trained translator runs on their test split: greedy, then beam 5.
# evaluate.py stores each under the name it logs ("test" for the search the run was trained to
# report, else "test-greedy" / "test-beam5"); each line reads that name's scores back. Run it with
# nothing else on the machine. Prints one line per run and strategy.
#   bash scripts/measure_translation_speed.sh runs/bench/mt_attention runs/bench/mt_plain
set -euo pipefail
for run_dir in "$@"; do
  for strategy in "decode.strategy=greedy" "decode.strategy=beam decode.beam_size=5"; do
    # shellcheck disable=SC2086
    python3 recipes/evaluate.py run_dir="$run_dir" split=test $strategy > "$run_dir/evaluate.log" 2>&1 \
      || { echo "error: $run_dir: evaluate.py failed ($strategy); see $run_dir/evaluate.log" >&2; exit 1; }
    name=$(sed -n 's/.*decoding [0-9]* \([^ ]*\) pairs: .*/\1/p' "$run_dir/evaluate.log" | tail -n 1)
    if [ -z "$name" ]; then
      echo "error: $run_dir/evaluate.log: no 'decoding N <name> pairs' line; see that log" >&2
      exit 1
    fi
    python3 -c "import json,sys; m={k[len(sys.argv[4])+1:]: v for k, v in json.load(open(sys.argv[1])).items() if k.startswith(sys.argv[4] + '/')}; print(sys.argv[2], sys.argv[3], '[%s]' % sys.argv[4], 'BLEU %.2f chrF %.2f TER %.2f | %d sentences in %.1f s: %.1f sentences/s, %.0f words/s' % (m['bleu'], m['chrf'], m['ter'], m['sentences'], m['decode_seconds'], m['sentences_per_second'], m['words_per_second']))" \
      "$run_dir/metrics.json" "$run_dir" "$strategy" "$name"
  done
done
