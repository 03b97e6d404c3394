#!/usr/bin/env bash
# Brings one experiment's figures up to date: computes it when results/<id> has no result at
# the requested scale (or FORCE=1), otherwise only re-draws figures, tables and verdicts from
# the CSVs already there (--render-only). Usage: scripts/figure.sh BIN_DIR ID SCALE SEED THREADS
set -euo pipefail
bin=$1 id=$2 scale=$3 seed=$4 threads=$5
config="results/$id/config.json"
if [ "${FORCE:-0}" != "1" ] && [ -f "$config" ] && grep -q "\"scale\" *: *\"$scale\"" "$config"; then
  echo "$id: results at scale $scale exist; re-drawing from CSVs (FORCE=1 or 'make $id' recomputes)"
  exec "$bin/$id" --render-only --scale "$scale" --seed "$seed" --threads "$threads"
fi
exec "$bin/$id" --scale "$scale" --seed "$seed" --threads "$threads"
