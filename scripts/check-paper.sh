#!/usr/bin/env bash
# Fails when the built report has text or floats running into the margin: any LaTeX
# "Overfull \hbox" wider than LIMIT points (default 15), or any float taller than the page, in
# paper/build/report.log (issue 19: nothing overflows). Prints each offender with the source line range LaTeX names.
set -euo pipefail
log=${1:-paper/build/report.log}
limit=${LIMIT:-15}
[ -f "$log" ] || { echo "check-paper: $log not found (run make paper)" >&2; exit 2; }
bad=$(grep -a 'Overfull \\hbox (' "$log" | awk -v l="$limit" '{ w=$3; sub(/\(/,"",w); sub(/pt/,"",w); if (w+0 > l) print }' || true)
# A float taller than the page runs off it and loses its caption.
tall=$( (grep -a 'Float too large for page' "$log"; grep -a 'Overfull \\vbox' "$log" | awk '{ w=$3; sub(/\(/,"",w); sub(/pt/,"",w); if (w+0 > 15) print }') || true)
if [ -n "$tall" ]; then
  echo "check-paper: floats taller than the page:" >&2
  echo "$tall" >&2
  exit 1
fi
if [ -n "$bad" ]; then
  echo "check-paper: content wider than the text block by more than ${limit} pt:" >&2
  echo "$bad" >&2
  exit 1
fi
echo "check-paper: no overfull box above ${limit} pt ($(grep -a -c 'Overfull \\hbox' "$log" || true) small ones)"
