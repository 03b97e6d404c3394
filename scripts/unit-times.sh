#!/usr/bin/env bash
# What a cluster would gain: per experiment of one results scale, the number of work units, the
# sum of their wall times (one process doing them one after another), the longest unit (a
# cluster with a node per unit) and the wall time config.json records for the run that committed
# the folder (a whole run, or only the merge after --merge-only). Unit times come from
# units/<group>/<key>.timing.json, written when a unit finishes; an experiment without units
# (ht-e1, ho-e2) counts as one unit of its whole run.
# Usage: scripts/unit-times.sh [RESULTS_DIR/SCALE]   (default results/quick)
set -euo pipefail
dir=${1:-results/quick}
[ -d "$dir" ] || { echo "unit-times.sh: $dir not found: expected a results folder such as results/quick" >&2; exit 2; }
printf '%-26s %6s %12s %12s %14s\n' experiment units "sum (s)" "longest (s)" "last run (s)"
for record in "$dir"/*/complete.json; do
  [ -e "$record" ] || continue
  exp=$(dirname "$record")
  run=$(awk -F: '/"wallTimeSeconds"/ { gsub(/[ ,]/, "", $2); print $2 }' "$exp/config.json")
  if compgen -G "$exp/units/*/*.timing.json" >/dev/null; then
    stats=$(awk -F: '/"seconds"/ { gsub(/[ ,]/, "", $2); n++; s += $2; if ($2 + 0 > m) m = $2 + 0 }
                     END { printf "%6d %12.1f %12.1f", n, s, m }' "$exp"/units/*/*.timing.json)
  else
    stats=$(printf '%6d %12.1f %12.1f' 1 "$run" "$run")
  fi
  printf '%-26s %s %14.1f\n' "$(basename "$exp")" "$stats" "$run"
done
