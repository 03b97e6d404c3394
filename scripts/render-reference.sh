#!/usr/bin/env bash
# Re-draws the committed full-scale reference results without computing anything: copies
# reference/full/<id>/ into results/reference-render/full/<id>/ and runs each experiment with
# --render-only there (which first checks the copy against its completion record), so that
# `make paper-reference` can build the report from them. reference/ itself is never written.
# Usage: scripts/render-reference.sh BIN_DIR
set -euo pipefail
bin=$1
root=results/reference-render
rm -rf "$root"
mkdir -p "$root/full"
for dir in reference/full/*/; do
  id=$(basename "$dir")
  [ -f "$dir/complete.json" ] || { echo "render-reference: $dir has no complete.json" >&2; exit 1; }
  cp -r "$dir" "$root/full/$id"
  "$bin/$id" --render-only --scale full --out "$root/full/$id" >/dev/null
  echo "render-reference: $root/full/$id"
done
