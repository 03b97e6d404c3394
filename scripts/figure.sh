#!/usr/bin/env bash
# Brings one experiment's figures up to date at one scale. The experiment binary does the work:
# it computes the work units that results/<scale>/<id> lacks (resuming an interrupted run),
# merges and renders into a staging folder and swaps it in whole. When the complete result of
# the same run is already there, only --render-only runs (cheap; it first checks that the folder
# is the requested run and unchanged since). FORCE=1 recomputes and keeps the old result aside.
# Usage: scripts/figure.sh BIN_DIR ID SCALE SEED THREADS
set -euo pipefail
bin=$1 id=$2 scale=$3 seed=$4 threads=$5
record="results/$scale/$id/complete.json"
if [ "${FORCE:-0}" = "1" ]; then
  exec "$bin/$id" --scale "$scale" --seed "$seed" --threads "$threads" --force
fi
if [ -f "$record" ] && grep -q "\"seed\" *: *$seed *[,}]" "$record"; then
  echo "$id: complete $scale result (seed $seed) exists; re-drawing from its CSVs (FORCE=1 recomputes)"
  exec "$bin/$id" --render-only --scale "$scale" --seed "$seed" --threads "$threads"
fi
exec "$bin/$id" --scale "$scale" --seed "$seed" --threads "$threads"
