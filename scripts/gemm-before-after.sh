#!/usr/bin/env bash
# Issue 13's before/after: the same full-scale work units timed with every Float32 GEMM on
# OpenBLAS (`--gemm-backend openBLAS`, the path before oneDNN came in) and with the default
# (`automatic`: oneDNN for products of at least 2^15 multiply-adds), one after the other in one
# run, unit by unit, the order alternating from unit to unit. Protocol, seeds and code are the
# same in both arms; only the GEMM library differs (HO-E1 and HT-E3 are MLP experiments, so this
# is the whole of the speed work that reaches them). Each run computes one unit into a scratch
# folder, so nothing in results/ is touched. Prints one row per unit and the ratio of the sums.
# Usage: scripts/gemm-before-after.sh BIN_DIR SCRATCH_DIR [THREADS] [EXPERIMENT:UNIT ...]
#   (default units: the sample below; THREADS default 2, as `make` runs experiments)
# Run it on an otherwise idle machine: every unit's two arms should see the same load.
set -euo pipefail
bin=${1:?usage: scripts/gemm-before-after.sh BIN_DIR SCRATCH_DIR [THREADS] [EXPERIMENT:UNIT ...]}
scratch=${2:?usage: scripts/gemm-before-after.sh BIN_DIR SCRATCH_DIR [THREADS] [EXPERIMENT:UNIT ...]}
threads=${3:-2}
shift $(( $# < 3 ? $# : 3 ))
units=("$@")
if [ ${#units[@]} -eq 0 ]; then
  units=(
    ht-e3-score-error:train-evaluate/mixture-2_seed-0_beta-2.0
    ht-e3-score-error:train-evaluate/digits8x8_seed-0_beta-1.0
    ht-e3-score-error:train-evaluate/mixture-128_seed-0_beta-1.5
    ho-e1-hessian-accuracy:cells/random-10_sigma-0.3_seed-0
    ho-e1-hessian-accuracy:cells/digits-64_sigma-0.5_seed-0
  )
fi
mkdir -p "$scratch"
load=$(cut -d' ' -f1-3 /proc/loadavg)
seconds() { awk -F: '/"seconds"/ { gsub(/[ ,]/, "", $2); print $2 }' "$1"; }
printf '%-24s %-44s %12s %12s %8s\n' experiment unit "openBLAS (s)" "automatic (s)" ratio
total_blas=0 total_auto=0 i=0
for spec in "${units[@]}"; do
  id=${spec%%:*} unit=${spec#*:}
  [ -x "$bin/$id" ] || { echo "gemm-before-after.sh: $bin/$id is not an executable" >&2; exit 2; }
  order=(openBLAS automatic)
  (( i % 2 )) && order=(automatic openBLAS)
  declare -A took=()
  for backend in "${order[@]}"; do
    out="$scratch/$backend/$id"
    rm -rf "$out" "$(dirname "$out")/.$id.units"
    "$bin/$id" --scale full --seed 0 --threads "$threads" --gemm-backend "$backend" --out "$out" --units "$unit" >/dev/null 2>"$scratch/$backend-$id.log" \
      || { echo "gemm-before-after.sh: $id --units $unit --gemm-backend $backend failed; see $scratch/$backend-$id.log" >&2; exit 1; }
    timing=$(find "$(dirname "$out")/.$id.units" -path "*/${unit}.timing.json" | head -1)
    [ -n "$timing" ] || { echo "gemm-before-after.sh: no timing file for $unit under $(dirname "$out")/.$id.units" >&2; exit 1; }
    took[$backend]=$(seconds "$timing")
  done
  printf '%-24s %-44s %12.1f %12.1f %8.2f\n' "$id" "$unit" "${took[openBLAS]}" "${took[automatic]}" \
    "$(awk -v a="${took[automatic]}" -v b="${took[openBLAS]}" 'BEGIN { print a / b }')"
  total_blas=$(awk -v s="$total_blas" -v x="${took[openBLAS]}" 'BEGIN { print s + x }')
  total_auto=$(awk -v s="$total_auto" -v x="${took[automatic]}" 'BEGIN { print s + x }')
  unset took
  i=$((i + 1))
done
printf '%-69s %12.1f %12.1f %8.2f\n' "all units ($threads thread(s) each, $(nproc) cores, load at start: $load)" \
  "$total_blas" "$total_auto" "$(awk -v a="$total_auto" -v b="$total_blas" 'BEGIN { print a / b }')"
