#!/usr/bin/env bash
# A distillation of docs/distill-results.md, end to end, on a 2-core machine: two teacher
# processes (training-row samples of seeds 0 and 1, one thread each, a failed row retried once),
# their trajectories merged, then the box distilled and scored on 100 held-out training rows.
# Resumable: rerun it and every stage goes on from its files.
#
#   scripts/distill_suite.sh SUITE [OUT_DIR] [ROWS_PER_PROCESS] [HELD_OUT_ROWS]
#   SUITE: game24 or molar-mass; defaults: distill-SUITE 120 100
set -euo pipefail
suite=${1:?usage: scripts/distill_suite.sh SUITE [OUT_DIR] [ROWS_PER_PROCESS] [HELD_OUT_ROWS]}
out=${2:-distill-$suite}
rows=${3:-120}
held_out=${4:-100}
teacher=qwen2.5-coder-1.5b
mkdir -p "$out"
for seed in 0 1; do
  RUNTIME_MAX_STEPS=3 RUNTIME_MAX_TOKENS_PER_STEP=400 RUNTIME_THREADS=1 \
    runtime teach "$suite" --split train --limit "$rows" --seed "$seed" --retries 1 \
    --teacher "$teacher" -o "$out/traj-s$seed.jsonl" 2> "$out/teach-s$seed.log" &
done
wait
cat "$out/traj-s0.jsonl" "$out/traj-s1.jsonl" > "$out/trajectories.jsonl"
runtime box distill "$out/trajectories.jsonl" -o "$out/distill" --teacher "$teacher" --held-out "$suite" --held-out-limit "$held_out"
echo "import with: runtime box import $out/distill/box"
