#!/usr/bin/env bash
# Submits the experiment grid to Slurm (make slurm SCALE=full):
#   - per experiment one job array, one task per work unit that is not finished yet
#     (`<id> --units $SLURM_ARRAY_TASK_ID`, indices as `<id> --list-units` prints them);
#   - per experiment a merge-and-render job (`<id> --merge-only`) after its array
#     (--dependency=afterok, --kill-on-invalid-dep=yes: a failed unit cancels it); a unit group
#     planned from an earlier group's results is submitted by that merge job, which waits for it
#     (scripts/slurm-stage.sh);
#   - a final job after every merge: the claims ledger and `make paper`.
# It prints the job ids and how to watch them. Resubmitting the same command after a failure or
# a cancelled task submits only the units that are still missing (finished ones are on disk).
#
# Usage: scripts/slurm-submit.sh [--scale quick|full] [--seed N] [ID[=ARGS] ...]
#   IDs default to every experiment; ID="--opt v ..." adds experiment options (a reduced grid).
# Environment:
#   SCALE (quick), SEED (0), BIN (.build/release: built binaries, shared with the nodes),
#   RESULTS (results: the results root, shared with the nodes), PAPER (1: the final job also runs
#   make paper; 0: ledger only), FORCE=1 (the merge replaces a complete result of another
#   configuration, keeping it under .superseded/), ARRAY_LIMIT (at most this many tasks of one
#   array at a time), TASK_TIME / MERGE_TIME (override the time limits of scripts/slurm-stage.sh,
#   Slurm syntax), HOLD=1 (submit every job held: start them with scontrol release).
#   sbatch itself reads SBATCH_PARTITION, SBATCH_ACCOUNT, SBATCH_QOS, SBATCH_RESERVATION, ...
#   (see `man sbatch`, INPUT ENVIRONMENT VARIABLES), so those pass through unchanged.
# Logs: $RESULTS/<scale>/slurm/<id>/ (unit-<array job>_<task>.out, merge-<job>.out) and
# $RESULTS/<scale>/slurm/final-<job>.out. They live beside, not inside, results/<scale>/<id>/,
# which is replaced whole when the merge commits.
set -euo pipefail
cd "$(dirname "$0")/.."

SCALE=${SCALE:-quick} SEED=${SEED:-0} BIN=${BIN:-.build/release} RESULTS=${RESULTS:-results} PAPER=${PAPER:-1}
specs=()
while [ $# -gt 0 ]; do
  case $1 in
    --scale) SCALE=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
    -*) echo "slurm-submit.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    *) specs+=("$1"); shift ;;
  esac
done
case $SCALE in quick|full) ;; *) echo "slurm-submit.sh: SCALE must be quick or full, got '$SCALE'" >&2; exit 2 ;; esac
if [ ${#specs[@]} -eq 0 ]; then
  # Every experiment, from the one list of ids (ExperimentKit's ExperimentRegistry).
  [ -x "$BIN/report" ] || { echo "slurm-submit.sh: $BIN/report not found: build first (swift build -c release)" >&2; exit 2; }
  read -r -a specs <<<"$("$BIN/report" experiments)"
fi
command -v sbatch >/dev/null || { echo "slurm-submit.sh: sbatch not found: run this on a Slurm login node" >&2; exit 2; }

export SCALE SEED BIN RESULTS
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1} OPENBLAS_THREAD_TIMEOUT=${OPENBLAS_THREAD_TIMEOUT:-4} OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
logroot="$RESULTS/$SCALE/slurm"
merges=()
summary=()
for spec in "${specs[@]}"; do
  id=${spec%%=*}
  extra=()
  # shellcheck disable=SC2206  # ID="--opt v ..." is split into options on purpose
  [ "$spec" = "$id" ] || extra=(${spec#*=})
  [ -x "$BIN/$id" ] || { echo "slurm-submit.sh: $BIN/$id not found: build first (swift build -c release)" >&2; exit 2; }
  read -r array merge todo total <<<"$(scripts/slurm-stage.sh submit "$id" "${extra[@]}")"
  merges+=("$merge")
  summary+=("$(printf '%-26s array %-8s (%s of %s units to run)  merge %s' "$id" "$array" "$todo" "$total" "$merge")")
done

final=""
if [ "${FINAL:-1}" = 1 ]; then
  cmd="$BIN/report ledger --results $RESULTS --scale $SCALE"
  [ "$PAPER" = 1 ] && cmd="$cmd && make paper SCALE=$SCALE SWIFT=true"
  final=$(sbatch --parsable $([ "${HOLD:-0}" = 1 ] && echo --hold) --job-name="ledger-$SCALE" --dependency="afterok:$(IFS=:; echo "${merges[*]}")" --kill-on-invalid-dep=yes \
    --cpus-per-task=1 --time=0:30:00 --output="$logroot/final-%j.out" --wrap="$cmd" | cut -d';' -f1)
fi

echo "submitted at scale $SCALE, seed $SEED (results in $RESULTS/$SCALE/, logs in $logroot/):"
printf '  %s\n' "${summary[@]}"
[ -z "$final" ] || echo "  final ledger$([ "$PAPER" = 1 ] && echo " + make paper"): $final"
all=$(IFS=,; echo "${merges[*]}${final:+,$final}")
cat <<EOF
watch:   squeue -u \$USER        (or: squeue -j $all)
logs:    tail -f $logroot/<id>/*.out
cancel:  scancel $all   (and the arrays above)
resume:  run the same command again: only units that are not finished are submitted
EOF
