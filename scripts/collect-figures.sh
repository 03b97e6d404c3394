#!/usr/bin/env bash
# Gathers every figure and image grid of one scale under figures/<scale>/<experiment-id>/ (hard
# links where possible, copies otherwise), from the complete result folders only, and writes
# figures/<scale>/INDEX.md: each with a thumbnail, its caption and the claims it supports (`report
# figure-index`; a plain list when the report tool is not built). Run by `make figures`.
# Usage: scripts/collect-figures.sh SCALE
set -euo pipefail
scale=${1:?usage: collect-figures.sh quick|full}
src="results/$scale"
dst="figures/$scale"
[ -d "$src" ] || { echo "collect-figures: $src does not exist (run make figures SCALE=$scale)" >&2; exit 2; }
mkdir -p "$dst"
index="$dst/INDEX.md.tmp"
{
  echo "# Figures at the $scale scale"
  echo
  echo "Collected by \`make figures\` from the complete result folders in \`$src/\` (the numbers behind"
  echo "each figure are in that folder's CSVs and in its \`figures/<name>.gp\`). Regenerate with \`make figures SCALE=$scale\`."
  echo
} > "$index"
count=0
for dir in "$src"/*/; do
  id=$(basename "$dir")
  [ -f "$dir/complete.json" ] || continue
  rm -rf "$dst/$id"
  files=$(cd "$dir" && ls figures/*.png figures/*.pdf images/*.png images/*.json 2>/dev/null || true)
  [ -n "$files" ] || continue
  mkdir -p "$dst/$id"
  echo "## $id" >> "$index"
  for f in $files; do
    name=$(basename "$f")
    case "$f" in images/*) name="grid-$name" ;; esac
    ln "$dir/$f" "$dst/$id/$name" 2>/dev/null || cp "$dir/$f" "$dst/$id/$name"
    case "$name" in *.png) echo "- [$id/$name]($id/$name) (from \`$src/$id/$f\`)" >> "$index"; count=$((count + 1)) ;; esac
  done
  echo >> "$index"
done
mv "$index" "$dst/INDEX.md"
# The index with thumbnails, captions and the claims each figure supports (issue 31), when the
# report tool is built; the plain list above otherwise.
bin=${BIN:-.build/release}
if [ -x "$bin/report" ]; then "$bin/report" figure-index --scale "$scale" --results "$(dirname "$src")" >/dev/null; fi
echo "collect-figures: $count PNG figures and grids under $dst/ (index: $dst/INDEX.md)"
