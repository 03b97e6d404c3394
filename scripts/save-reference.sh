#!/usr/bin/env bash
# Copies complete full-scale results into reference/full/<id>/ (CSVs, config.json, claims.json,
# complete.json, COLUMNS.md, the Markdown tables, the units' timing records and the image grids
# with their JSON sidecars; no figures, no unit results, no models), so that a reviewer has the numbers a rerun should reproduce and
# can see the samples without retraining, with the revision that produced them (config.json,
# complete.json). Grids are copied only while an experiment's images/ stay under
# MAX_GRID_KB (default 4096 KiB; issue 27: the reference must stay small enough for git).
# Trained image models are shipped as EMA weights only (`resample --export-only`, a quarter of a
# training checkpoint) under models/: all of them when they fit in MAX_MODEL_KB (default 8192
# KiB), else those of seed 0; `make resample ID=<id>` draws new samples from them.
# Usage: scripts/save-reference.sh ID [ID ...]   (from results/full/)
set -euo pipefail
for id in "$@"; do
  src="results/full/$id"
  [ -f "$src/complete.json" ] || { echo "save-reference: $src has no complete.json (not a complete run)" >&2; exit 1; }
  dst="reference/full/$id"
  rm -rf "$dst"; mkdir -p "$dst/tables"
  cp "$src"/*.csv "$src"/config.json "$src"/claims.json "$src"/complete.json "$dst"/
  if [ -f "$src/COLUMNS.md" ]; then cp "$src/COLUMNS.md" "$dst"/; fi
  # The units' own times (a few hundred bytes each; issue 31: the report sums them, as
  # scripts/unit-times.sh does, since config.json times only the run that committed).
  for t in "$src"/units/*/*.timing.json; do
    [ -e "$t" ] || continue
    group=$(basename "$(dirname "$t")")
    mkdir -p "$dst/units/$group"
    cp "$t" "$dst/units/$group/"
  done
  if ls "$src"/tables/*.md >/dev/null 2>&1; then cp "$src"/tables/*.md "$dst/tables/"; fi
  if ls "$src"/images/*.png >/dev/null 2>&1; then
    kb=$(du -ck "$src"/images/*.png "$src"/images/*.json 2>/dev/null | tail -n 1 | cut -f1)
    if [ "$kb" -le "${MAX_GRID_KB:-4096}" ]; then
      mkdir -p "$dst/images"
      cp "$src"/images/*.png "$dst/images/"
      if ls "$src"/images/*.json >/dev/null 2>&1; then cp "$src"/images/*.json "$dst/images/"; fi
    else
      echo "save-reference: $src/images is $kb KiB > MAX_GRID_KB=${MAX_GRID_KB:-4096}: grids not copied" >&2
    fi
  fi
  if ls "$src"/models/*.h5 >/dev/null 2>&1; then
    bin=${BIN:-.build/release}
    [ -x "$bin/resample" ] || { echo "save-reference: $bin/resample not found (swift build -c release)" >&2; exit 1; }
    tmp=$(mktemp -d)
    "$bin/resample" --export-from "$src/models" --models "$tmp/all" --export-only >/dev/null
    kb=$(du -sk "$tmp/all" | cut -f1)
    mkdir -p "$dst/models"
    if [ "$kb" -le "${MAX_MODEL_KB:-8192}" ]; then
      cp "$tmp"/all/*.h5 "$dst/models/"
    else
      cp "$tmp"/all/*seed-0*.h5 "$dst/models/" 2>/dev/null || true
      echo "save-reference: the models of $id take $kb KiB > MAX_MODEL_KB=${MAX_MODEL_KB:-8192}: only seed 0's are shipped" >&2
    fi
    rm -rf "$tmp"
  fi
  # The run's own revision is the one in config.json's provenance block (a data file's or a
  # classifier's recorded revision may come first).
  echo "save-reference: $dst ($(awk '/"provenance"/ { p = 1 } p && /"gitRevision"/ { print $0; exit }' "$src/config.json" | grep -o '"gitRevision" : "[0-9a-f]*"'))"
done
