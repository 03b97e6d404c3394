#!/usr/bin/env bash
# One experiment on Slurm (called by scripts/slurm-submit.sh; see there for the environment).
#
#   slurm-stage.sh submit ID [experiment options...]
#     Lists the run's units (`ID --list-units`), submits one job array with a task per unit that
#     is not finished (`ID --units $SLURM_ARRAY_TASK_ID`), and a merge job after it
#     (--dependency=afterok, --kill-on-invalid-dep=yes) that runs `slurm-stage.sh merge`.
#     Prints "ARRAY MERGE TODO TOTAL" (ARRAY is - when every unit is finished).
#   slurm-stage.sh merge ID [experiment options...]   (inside the merge job)
#     If units are still missing, they belong to a group planned from an earlier group's
#     results, listable only now: submits them the same way and waits for that merge job
#     (sbatch --wait; this job then holds one CPU). Otherwise `ID --merge-only`.
#
# A unit runs on one thread and one CPU; the experiment without units (ho-e2, timings) is one task of
# two threads, as on the 2-core machine. Time limits are about twice the measured 1-core time of
# the slowest unit at each scale, rounded up (README, "Running on a cluster"); TASK_TIME and
# MERGE_TIME override them.
set -euo pipefail
mode=$1 id=$2
shift 2
SCALE=${SCALE:-quick} SEED=${SEED:-0} BIN=${BIN:-.build/release} RESULTS=${RESULTS:-results}
args=(--scale "$SCALE" --seed "$SEED" --out "$RESULTS/$SCALE/$id" "$@")
logs="$RESULTS/$SCALE/slurm/$id"
mkdir -p "$logs"

case $id in  # CPUs, quick time, full time of one task
  ho-e2-cost)                     res="2 0:20:00 1:00:00" ;;
  ho-e1-hessian-accuracy)         res="1 0:20:00 1:30:00" ;;
  ht-e2-noise-scaling|ho-e3-variance-reduction) res="1 0:20:00 1:00:00" ;;
  *)                              res="1 0:20:00 0:40:00" ;;
esac
read -r cpus tquick tfull <<<"$res"
time=${TASK_TIME:-$([ "$SCALE" = full ] && echo "$tfull" || echo "$tquick")}
mtime=${MERGE_TIME:-$([ "$SCALE" = full ] && echo 0:30:00 || echo 0:10:00)}

quoted() { printf '%q ' "$@"; }
missing_units() {  # indices (listing order) of the units that are not finished, comma-separated
  grep -v '^#' | awk -F'\t' '$2 != "done" { printf "%s%d", (n++ ? "," : ""), NR - 1 }'
}

wait=()
hold=()
[ "${HOLD:-0}" = 1 ] && hold=(--hold)
submit_stage() {  # experiment options -> "ARRAY MERGE TODO TOTAL"
  local listing missing total todo array=- dep=() merge
  listing=$("$BIN/$id" "${args[@]}" --list-units)
  total=$(grep -vc '^#' <<<"$listing" || true)
  missing=$(missing_units <<<"$listing")
  todo=0
  if [ -n "$missing" ]; then
    todo=$(awk -F, '{ print NF }' <<<"$missing")
    array=$(sbatch --parsable "${hold[@]}" --job-name="$id" --array="$missing${ARRAY_LIMIT:+%$ARRAY_LIMIT}" --cpus-per-task="$cpus" \
      --time="$time" --output="$logs/unit-%A_%a.out" \
      --wrap="exec $(quoted "$BIN/$id" "${args[@]}") --threads $cpus --units \$SLURM_ARRAY_TASK_ID" | cut -d';' -f1)
    dep=(--dependency="afterok:$array" --kill-on-invalid-dep=yes)
  fi
  merge=$(sbatch --parsable "${hold[@]}" "${wait[@]}" --job-name="$id-merge" "${dep[@]}" --cpus-per-task=1 --time="$mtime" \
    --output="$logs/merge-%j.out" --wrap="exec $(quoted scripts/slurm-stage.sh merge "$id" "$@")" | cut -d';' -f1)
  echo "$array $merge $todo $total"
}

case $mode in
  submit)
    submit_stage "$@" ;;
  merge)
    if [ -n "$("$BIN/$id" "${args[@]}" --list-units | missing_units)" ]; then
      echo "$id: units planned from the finished ones are missing; submitting them and waiting for their merge job"
      hold=()  # (HOLD=1 in the environment of a held submission must not hold these jobs)
      wait=(--wait)
      submit_stage "$@"
    else
      force=()
      [ "${FORCE:-0}" = 1 ] && force=(--force)
      exec "$BIN/$id" "${args[@]}" --threads 1 --merge-only "${force[@]}"
    fi ;;
  *) echo "slurm-stage.sh: unknown mode '$mode': expected submit or merge" >&2; exit 2 ;;
esac
