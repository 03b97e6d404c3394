#!/usr/bin/env bash
# Runs our training steps and the peers' twins interleaved in one run (ours, JAX MLP, ours U-Net,
# PyTorch U-Net, then the U-Net sampling forward, ours and PyTorch's no_grad, at widths 16 and 32
# and batches 64 and 250; at 1 thread, then 2; ROUNDS times), then prints best and median step times and
# the ratios ours / theirs. One-thread runs are pinned to one core with taskset, every program alike.
#
#   tools/peers/bench-peers.sh [BIN] [VENV] [ROUNDS]     (make bench-peers)
#
# Needs the venv from tools/peers/requirements.txt (make bench-peers creates it).
#
# PEERS_ISA=avx2 caps every program at AVX2 (ONEDNN_MAX_CPU_ISA for ours and PyTorch's oneDNN,
# ATEN_CPU_CAPABILITY for PyTorch's own kernels, XLA_FLAGS=--xla_cpu_max_isa for JAX): on an
# AVX-512 host, the kernels an AVX2-only host would run, on this host's cores.
set -euo pipefail
case "${PEERS_ISA:-}" in
  "") ;;
  avx2) export ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2 XLA_FLAGS="${XLA_FLAGS:-} --xla_cpu_max_isa=AVX2" ;;
  *) echo "bench-peers: PEERS_ISA must be empty or avx2, got '$PEERS_ISA'" >&2; exit 2 ;;
esac
BIN=${1:-.build/release}
VENV=${2:-.build/peers-venv}
ROUNDS=${3:-2}
PY="$VENV/bin/python"
DIR="$(cd "$(dirname "$0")" && pwd)"
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
echo "bench-peers: $ROUNDS rounds; ISA cap: ${PEERS_ISA:-none} (CPU flags: $(grep -o 'avx512[a-z_]*' /proc/cpuinfo | sort -u | tr '\n' ' ')); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  ours: oneDNN $("$BIN/bench" --networks unet-forward --threads 1 --forward-widths 8 --forward-batches 1 --forward-steps 1 --unet-repeats 1 | grep -o 'JIT ISA [a-z0-9_]*' | head -1)"
echo "  PyTorch: CPU capability $("$PY" -c 'import torch; print(torch.backends.cpu.get_cpu_capability())' 2>/dev/null || echo unknown)"
for r in $(seq "$ROUNDS"); do
  for t in 1 2; do
    pin=()
    if [ "$t" = 1 ]; then pin=(taskset -c 0); fi
    "${pin[@]}" "$BIN/bench" --networks mlp --threads "$t" --steps 50 --warmup 20 --repeats 5 | grep '^RESULT' >>"$OUT"
    "${pin[@]}" "$PY" "$DIR/mlp_jax.py" --threads "$t" --steps 50 --warmup 20 --repeats 5 2>/dev/null | grep '^RESULT' >>"$OUT"
    "${pin[@]}" "$BIN/bench" --networks unet --threads "$t" | grep '^RESULT' >>"$OUT"
    "${pin[@]}" "$PY" "$DIR/unet_torch.py" --threads "$t" | grep '^RESULT' >>"$OUT"
    # The sampling forward (issue 32): widths 16 and 32, batches 64 and 250, ours then PyTorch's.
    "${pin[@]}" "$BIN/bench" --networks unet-forward --threads "$t" | grep '^RESULT' >>"$OUT"
    for c in 16 32; do for b in 64 250; do
      "${pin[@]}" "$PY" "$DIR/unet_torch.py" --mode forward --threads "$t" --channels "$c" --batch "$b" --steps 3 | grep '^RESULT' >>"$OUT"
    done; done
    echo "  round $r, $t thread(s) done; load $(cut -d' ' -f1-3 /proc/loadavg)"
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
# Best of bests and median of medians per program and thread count; ratio = ours / peer.
awk '
  { key = $2 " " $3; if (!(key in best) || $4 < best[key]) best[key] = $4; med[key] = med[key] " " $5 }
  function median(s,   a, n, i, j, t) { n = split(s, a, " ");
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
  END {
    printf "| step | threads | ours best / median (ms) | peer | peer best / median (ms) | ratio ours/peer (median) |\n"
    printf "| --- | --- | --- | --- | --- | --- |\n"
    n = split("mlp:mlp-jax:JAX unet:unet-torch:PyTorch unetfwd-c16-b64:unetfwd-c16-b64-torch:PyTorch unetfwd-c16-b250:unetfwd-c16-b250-torch:PyTorch unetfwd-c32-b64:unetfwd-c32-b64-torch:PyTorch unetfwd-c32-b250:unetfwd-c32-b250-torch:PyTorch", pairs, " ")
    for (p = 1; p <= n; p++) { split(pairs[p], q, ":");
      for (t = 1; t <= 2; t++) { o = q[1] "-ours " t; e = q[2] " " t;
        if ((o in best) && (e in best))
          printf "| %s | %d | %.2f / %.2f | %s | %.2f / %.2f | %.2f |\n", q[1], t, best[o], median(med[o]), q[3], best[e], median(med[e]), median(med[o]) / median(med[e]) } }
  }' "$OUT"
