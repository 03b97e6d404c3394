#!/usr/bin/env bash
# Re-draws the committed full-scale reference results without computing anything: copies
# reference/full/<id>/ into results/reference-render/full/<id>/ and runs each experiment with
# --render-only there (which first checks the copy against its completion record), so that
# `make paper-reference` can build the report from them. reference/ itself is never written.
# Fails when a re-rendered claims.json differs from the committed one (issue 30).
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
  # Issue 30: verdicts are a pure function of the committed results, so re-rendering must give
  # the committed claims.json byte for byte; otherwise the verdict code changed since the
  # reference was saved, and the reference's verdicts are no longer what the code decides.
  if ! cmp -s "$dir/claims.json" "$root/full/$id/claims.json"; then
    echo "render-reference: $id: re-rendering changed claims.json (the verdict code moved on since the reference was saved):" >&2
    diff <(tr ',' '\n' <"$dir/claims.json") <(tr ',' '\n' <"$root/full/$id/claims.json") | head -20 >&2 || true
    echo "  re-save it (scripts/save-reference.sh $id after --render-only on results/full/$id) or revert the change" >&2
    exit 1
  fi
  echo "render-reference: $root/full/$id (claims.json as committed)"
done
[ -z "$stale" ] || echo "render-reference: WARNING: not re-rendered (stale reference, figures marked missing in the report):$stale" >&2
