#!/usr/bin/env bash
# CI test of the Slurm scale-out on a real one-node Slurm cluster on localhost (Debian 12, root,
# no systemd needed). It
#   1. installs slurmctld, slurmd, slurm-client and munge (apt, --no-install-recommends);
#   2. starts munged, slurmctld and slurmd with a configuration in a scratch folder;
#   3. runs a reduced grid (quick scale, 2 experiments, >= 4 units each) locally in one process
#      per experiment, as the reference;
#   4. submits the same grid with scripts/slurm-submit.sh (held) and cancels one array task: its merge
#      job and the final job must be cancelled (afterok + --kill-on-invalid-dep), the other
#      experiment must complete;
#   5. resubmits: only the missing unit may be submitted and computed;
#   6. checks that every CSV and claims.json is byte-identical to the local run, and that the
#      final ledger job ran;
#   7. stops the daemons by their pid files (also on failure).
# Usage: scripts/ci-slurm-test.sh [BIN_DIR]   (default .build/release, built beforehand)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-.build/release}
E1=ht-e4-convergence E1_ARGS=${E1_ARGS:-"--seeds 1 --train-steps 300 --chains 100 --langevin-steps 200"}
E2=ho-e3-variance-reduction E2_ARGS=${E2_ARGS:-"--train-steps 20 --samples 2000"}
TIMEOUT=${TIMEOUT:-600}

say() { echo "== ci-slurm: $*"; }
fail() { echo "ci-slurm: FAIL: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "run as root: it installs packages and starts munged, slurmctld and slurmd"
for id in $E1 $E2 report; do [ -x "$BIN/$id" ] || fail "$BIN/$id not found: build first (swift build -c release)"; done

# 1. Packages (about 3.5 MB; apt starts no daemon without systemd).
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
  say "installing slurmctld slurmd slurm-client munge"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null \
    || { apt-get update >/dev/null && apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null; }
fi

# 2. A one-node cluster, configured and logging in a scratch folder.
scratch=$(mktemp -d /tmp/ci-slurm.XXXXXX)
export SLURM_CONF=$scratch/slurm.conf
started_munge=0
stop_daemons() {
  for f in "$scratch/slurmd.pid" "$scratch/slurmctld.pid"; do
    [ -s "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
  done
  if [ $started_munge = 1 ] && [ -s /run/munge/munged.pid ]; then kill "$(cat /run/munge/munged.pid)" 2>/dev/null || true; fi
  for f in "$scratch/slurmd.pid" "$scratch/slurmctld.pid"; do  # wait until they are gone (or zombies)
    [ -s "$f" ] || continue
    p=$(cat "$f")
    for _ in $(seq 50); do
      st=$(ps -o stat= -p "$p" 2>/dev/null || true)
      { [ -z "$st" ] || [[ $st == Z* ]]; } && break
      sleep 0.1
    done
  done
}
on_exit() {
  rc=$?
  stop_daemons
  if [ $rc != 0 ]; then
    echo "ci-slurm: logs kept in $scratch (slurmctld.log, slurmd.log, results/quick/slurm/)" >&2
    tail -n 20 "$scratch"/results/quick/slurm/*/*.out 2>/dev/null >&2 || true
  else
    rm -rf "$scratch"
  fi
}
trap on_exit EXIT

if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  say "starting munged"
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  chmod 0755 /run/munge
  [ -f /etc/munge/munge.key ] || runuser -u munge -- mungekey --create
  runuser -u munge -- /usr/sbin/munged
  started_munge=1
  munge -n | unmunge >/dev/null || fail "munged does not answer"
fi

node=$(slurmd -C | head -n 1)
mkdir -p "$scratch/state" "$scratch/spool"
cat >"$SLURM_CONF" <<EOF
ClusterName=ci
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
SlurmctldPort=${SLURMCTLD_PORT:-6817}
SlurmdPort=${SLURMD_PORT:-6818}
StateSaveLocation=$scratch/state
SlurmdSpoolDir=$scratch/spool
SlurmctldPidFile=$scratch/slurmctld.pid
SlurmdPidFile=$scratch/slurmd.pid
SlurmctldLogFile=$scratch/slurmctld.log
SlurmdLogFile=$scratch/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$scratch/jobcomp.txt
ReturnToService=2
DependencyParameters=kill_invalid_depend
MpiDefault=none
MailProg=/bin/true
$node NodeAddr=127.0.0.1
PartitionName=ci Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
say "starting slurmctld and slurmd ($node)"
slurmctld -c
slurmd
for _ in $(seq 100); do
  [ "$(sinfo -h -o %t 2>/dev/null)" = idle ] && break
  sleep 0.2
done
[ "$(sinfo -h -o %t)" = idle ] || fail "the node is not idle: $(sinfo -h -o '%t %E')"

wait_jobs() {  # job ids... : wait until none of them is in the queue
  local t0=$SECONDS
  while [ -n "$(squeue -h -j "$(IFS=,; echo "$*")" 2>/dev/null)" ]; do
    [ $((SECONDS - t0)) -lt "$TIMEOUT" ] || fail "jobs $* still queued after $TIMEOUT s: $(squeue -j "$(IFS=,; echo "$*")")"
    sleep 1
  done
}
job_state() {  # job id -> its final state, from the jobcomp file
  local s=""
  for _ in $(seq 20); do
    s=$(grep "JobId=$1 " "$scratch/jobcomp.txt" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | tail -n 1)
    [ -n "$s" ] && break
    sleep 0.5
  done
  echo "${s:-UNKNOWN}"
}
field() { sed -n "s/^  $1 *array \([0-9-]*\) .*merge \([0-9]*\)$/\\$2/p" "$3"; }

# 3. The local reference: the same units, one process per experiment.
say "local single-process runs (reference)"
t0=$SECONDS
# shellcheck disable=SC2086
"$BIN/$E1" --scale quick --seed 0 --threads 2 --out "$scratch/local/$E1" $E1_ARGS >"$scratch/local-$E1.log" 2>&1 \
  || { cat "$scratch/local-$E1.log"; fail "local run of $E1"; }
# shellcheck disable=SC2086
"$BIN/$E2" --scale quick --seed 0 --threads 2 --out "$scratch/local/$E2" $E2_ARGS >"$scratch/local-$E2.log" 2>&1 \
  || { cat "$scratch/local-$E2.log"; fail "local run of $E2"; }
say "local runs took $((SECONDS - t0)) s"

# 4. Submit everything held, cancel the last array task of E1, then release the rest.
export RESULTS=$scratch/results PAPER=0
t0=$SECONDS
HOLD=1 scripts/slurm-submit.sh --scale quick "$E1=$E1_ARGS" "$E2=$E2_ARGS" | tee "$scratch/submit1.txt"
a1=$(field "$E1" 1 "$scratch/submit1.txt") m1=$(field "$E1" 2 "$scratch/submit1.txt")
a2=$(field "$E2" 1 "$scratch/submit1.txt") m2=$(field "$E2" 2 "$scratch/submit1.txt")
final1=$(sed -n 's/^  final ledger.*: \([0-9]*\)$/\1/p' "$scratch/submit1.txt")
[ -n "$a1" ] && [ -n "$a2" ] && [ -n "$final1" ] || fail "could not read the job ids from the submission"
# shellcheck disable=SC2086
n1=$("$BIN/$E1" --scale quick --out "$RESULTS/quick/$E1" $E1_ARGS --list-units | grep -vc '^#')
# shellcheck disable=SC2086
n2=$("$BIN/$E2" --scale quick --out "$RESULTS/quick/$E2" $E2_ARGS --list-units | grep -vc '^#')
[ "$n1" -ge 4 ] && [ "$n2" -ge 4 ] || fail "$E1 lists $n1 units, $E2 $n2; the test needs at least 4 each"
last=$((n1 - 1))
scancel "${a1}_$last"
# shellcheck disable=SC2086
say "cancelled array task ${a1}_$last ($("$BIN/$E1" --scale quick --out "$RESULTS/quick/$E1" $E1_ARGS --list-units | sed -n "$n1 p" | cut -f1))"
scontrol release "$a1,$m1,$a2,$m2,$final1"
wait_jobs "$a1" "$m1" "$a2" "$m2" "$final1"
say "first submission finished in $((SECONDS - t0)) s"
[ "$(job_state "$m2")" = COMPLETED ] || fail "$E2 merge job $m2 ended $(job_state "$m2")"
[ "$(job_state "$m1")" != COMPLETED ] || fail "$E1 merge job $m1 completed although a unit was cancelled"
[ "$(job_state "$final1")" != COMPLETED ] || fail "final job $final1 completed although a merge was cancelled"
[ ! -e "$RESULTS/quick/$E1/complete.json" ] || fail "$E1 was committed with a unit missing"
missing=$("$BIN/$E1" --scale quick --out "$RESULTS/quick/$E1" $E1_ARGS --list-units | grep -v '^#' | awk -F'\t' '$2 != "done"' | wc -l)
[ "$missing" = 1 ] || fail "expected exactly 1 missing unit of $E1 after the cancel, found $missing"

# 5. Resubmit: only the missing unit is submitted and computed.
t0=$SECONDS
scripts/slurm-submit.sh --scale quick "$E1=$E1_ARGS" | tee "$scratch/submit2.txt"
grep -q "(1 of $n1 units to run)" "$scratch/submit2.txt" || fail "the resubmission does not submit exactly the 1 missing unit"
a1b=$(field "$E1" 1 "$scratch/submit2.txt") m1b=$(field "$E1" 2 "$scratch/submit2.txt")
final2=$(sed -n 's/^  final ledger.*: \([0-9]*\)$/\1/p' "$scratch/submit2.txt")
wait_jobs "$a1b" "$m1b" "$final2"
say "resubmission finished in $((SECONDS - t0)) s"
[ "$(job_state "$m1b")" = COMPLETED ] || fail "$E1 merge job $m1b ended $(job_state "$m1b")"
[ "$(job_state "$final2")" = COMPLETED ] || fail "final job $final2 ended $(job_state "$final2")"
grep -q "computed 1 unit(s)" "$RESULTS/quick/slurm/$E1/unit-${a1b}_$last.out" || fail "the resubmitted task did not compute exactly one unit"
[ -s "$RESULTS/quick/claims-ledger.json" ] || fail "the final job wrote no ledger"

# 6. Byte-identical to the local run.
for id in $E1 $E2; do
  [ -s "$RESULTS/quick/$id/complete.json" ] || fail "$id has no completion record"
  (cd "$scratch/local/$id" && ls ./*.csv claims.json) >"$scratch/files-$id"
  (cd "$RESULTS/quick/$id" && ls ./*.csv claims.json) | cmp -s - "$scratch/files-$id" || fail "$id: the Slurm run wrote other files than the local run"
  while read -r f; do
    cmp "$scratch/local/$id/$f" "$RESULTS/quick/$id/$f" || fail "$id/$f differs from the local single-process run"
  done <"$scratch/files-$id"
  say "$id: $(wc -l <"$scratch/files-$id") files (CSVs, claims.json) byte-identical to the local run"
done
say "PASS"
