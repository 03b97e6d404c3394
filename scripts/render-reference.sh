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
stale=""
for dir in reference/full/*/; do
  id=$(basename "$dir")
  [ -f "$dir/complete.json" ] || { echo "render-reference: $dir has no complete.json" >&2; exit 1; }
  cp -r "$dir" "$root/full/$id"
  # A reference saved under an older config of its experiment (the code's full-scale config has
  # moved on and the reference was not re-run yet) cannot be re-rendered: it stays as committed
  # (its claims count in the ledger), and the report marks its figures and tables missing.
  if ! err=$("$bin/$id" --render-only --scale full --out "$root/full/$id" 2>&1 >/dev/null); then
    case "$err" in
      *"holds a complete run of"*)
        echo "render-reference: WARNING: $id not re-rendered, its reference is from another config than the code's:" >&2
        echo "  $err" >&2
        stale="$stale $id"
        continue ;;
      *) echo "$err" >&2; exit 1 ;;
    esac
  fi
  echo "render-reference: $root/full/$id"
done
[ -z "$stale" ] || echo "render-reference: WARNING: not re-rendered (stale reference, figures marked missing in the report):$stale" >&2
