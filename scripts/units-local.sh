#!/usr/bin/env bash
# Runs one experiment's work units as separate processes on this machine, JOBS at a time, then
# merges: the same units and commands a Slurm array runs (scripts/slurm-submit.sh), without
# Slurm. A group planned from an earlier group's results is listed once that group is done, so
# this repeats until nothing is missing. Interrupt and rerun at any time: finished units are kept.
# Usage: scripts/units-local.sh BIN_DIR ID SCALE SEED JOBS [experiment options...]
set -euo pipefail
bin=$1 id=$2 scale=$3 seed=$4 jobs=$5
shift 5
args=(--scale "$scale" --seed "$seed" "$@")
while :; do
  listing=$("$bin/$id" "${args[@]}" --list-units)
  missing=$(grep -v '^#' <<<"$listing" | awk -F'\t' '$2 != "done" { print NR - 1 }')
  [ -n "$missing" ] || break
  echo "$id: $(wc -l <<<"$missing") unit(s) to run, $jobs at a time"
  # shellcheck disable=SC2016
  xargs -P "$jobs" -I{} "$bin/$id" "${args[@]}" --threads 1 --units {} <<<"$missing"
done
exec "$bin/$id" "${args[@]}" --merge-only
