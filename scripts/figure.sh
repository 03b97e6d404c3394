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
# The record's run identity, read with a JSON parser (complete.json is pretty-printed across
# lines). Success means: the complete result there is this experiment at this scale and seed.
complete_run_matches() {
  python3 - "$record" "$id" "$scale" "$seed" <<'PY'
import json, sys
path, experiment, scale, seed = sys.argv[1:]
try:
    identity = json.load(open(path))["identity"]
    same = (identity["experiment"], identity["scale"], identity["seed"]) == (experiment, scale, int(seed))
except (OSError, ValueError, KeyError, TypeError):
    same = False  # unreadable or damaged: the plain run names the problem
sys.exit(0 if same else 1)
PY
}
if [ -f "$record" ]; then
  if ! command -v python3 >/dev/null; then
    echo "$id: python3 is needed to read the run identity in $record (make setup installs it)" >&2
    exit 1
  fi
  if complete_run_matches; then
    echo "$id: complete $scale result (seed $seed) exists; re-drawing from its CSVs (FORCE=1 recomputes)"
    exec "$bin/$id" --render-only --scale "$scale" --seed "$seed" --threads "$threads"
  fi
fi
exec "$bin/$id" --scale "$scale" --seed "$seed" --threads "$threads"
