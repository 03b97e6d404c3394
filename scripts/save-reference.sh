#!/usr/bin/env bash
# Copies complete full-scale results into reference/full/<id>/ (CSVs, config.json, claims.json,
# complete.json, COLUMNS.md and the Markdown tables; no figures, no units), so that a reviewer has the numbers
# a rerun should reproduce, with the revision that produced them (config.json, complete.json).
# Usage: scripts/save-reference.sh ID [ID ...]   (from results/full/)
set -euo pipefail
for id in "$@"; do
  src="results/full/$id"
  [ -f "$src/complete.json" ] || { echo "save-reference: $src has no complete.json (not a complete run)" >&2; exit 1; }
  dst="reference/full/$id"
  rm -rf "$dst"; mkdir -p "$dst/tables"
  cp "$src"/*.csv "$src"/config.json "$src"/claims.json "$src"/complete.json "$dst"/
  if [ -f "$src/COLUMNS.md" ]; then cp "$src/COLUMNS.md" "$dst"/; fi
  if ls "$src"/tables/*.md >/dev/null 2>&1; then cp "$src"/tables/*.md "$dst/tables/"; fi
  # The run's own revision is the one in config.json's provenance block (a data file's or a
  # classifier's recorded revision may come first).
  echo "save-reference: $dst ($(awk '/"provenance"/ { p = 1 } p && /"gitRevision"/ { print $0; exit }' "$src/config.json" | grep -o '"gitRevision" : "[0-9a-f]*"'))"
done
