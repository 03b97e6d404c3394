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

# Issue 31: no text in a figure or table below MIN_FONT points (default 7) at the size it is
# printed. report.tex's \reportfigure and the tables (Reporting's Table.latex) write their
# printed sizes to build/report.sizes, with the text block LaTeX laid out. A figure's text is
# its gnuplot pdfcairo font (from the figure's .gp beside the PDF: `font 'DejaVu Sans,F' size
# Win,Hin`) times its printed scale (printed width / W); gnuplot's enhanced-text sub- and
# superscripts are 0.8 of that. A table's is its LaTeX font times min(1, fitted / natural width).
# The layout's limits Reporting assumed (PrintLayout, in each .gp's "# print layout" line) must
# match LaTeX's \textwidth and 0.75\textheight. SHOW_SIZES=1 prints every figure and table.
# Image grids (raster labels, 5x7 bitmap font) are reported with an estimate and do not fail it.
min_font=${MIN_FONT:-7}
sizes=${log%.log}.sizes
paper_dir=$(dirname "$(dirname "$log")")
[ -f "$sizes" ] || { echo "check-paper: $sizes not found (report.tex writes it; rebuild with make paper)" >&2; exit 1; }
awk -v min="$min_font" -v dir="$paper_dir" -v show="${SHOW_SIZES:-0}" '
  function pt(v) { sub(/pt$/, "", v); return v + 0 }
  function field(line, key,   m) { if (match(line, key "=[^ ]*")) return substr(line, RSTART + length(key) + 1, RLENGTH - length(key) - 1); return "" }
  function abs(x) { return x < 0 ? -x : x }
  $1 == "layout" { tw = pt(field($0, "textwidth")); th = pt(field($0, "textheight")); next }
  $1 == "figure" {
    path = $2; width = pt(field($0, "width"))
    if (path !~ /\.pdf$/) {
      # Image grids: raster labels in a 5x7 bitmap font at text_scale pixels per dot (sidecar);
      # its 7-dot capitals stand for a font of about 10 dots. Reported, not failed: half-scale
      # labels (long column labels) print at half this size.
      rasters++
      js = dir "/" path; sub(/\.png$/, ".json", js); ts = 0
      while ((getline line < js) > 0) if (line ~ /"text_scale"/) { t = line; sub(/.*: */, "", t); ts = t + 0 }
      close(js)
      cmd = "od -An -tu1 -j16 -N4 \"" dir "/" path "\""; cmd | getline bytes; close(cmd)
      split(bytes, b, " "); pw = b[1] * 16777216 + b[2] * 65536 + b[3] * 256 + b[4]
      if (ts > 0 && pw > 0) {
        gsize = 10 * ts * width / pw
        if (gsize < min) { printf "check-paper: warning: image grid %s labels print at about %.1f pt (text_scale %d, %d px printed %.0f pt wide; half-scale labels %.1f pt) < %s pt\n", path, gsize, ts, pw, width, gsize / 2, min; gridsmall++ }
        else if (show) printf "  grid %s: labels about %.1f pt (half-scale labels %.1f pt)\n", path, gsize, gsize / 2
      }
      next
    }
    gp = dir "/" path; sub(/\.pdf$/, ".gp", gp)
    font = ""; win = ""; limits = ""
    while ((getline line < gp) > 0) {
      if (line ~ /^set terminal pdfcairo/) {
        f = line; sub(/.*font .[^,]*,/, "", f); sub(/[^0-9.].*/, "", f); font = f + 0
        z = line; sub(/.* size /, "", z); sub(/in,.*/, "", z); win = z + 0
      }
      if (line ~ /^# print layout:/) limits = line
    }
    close(gp)
    if (font == "" || win == 0) { printf "check-paper: %s: no pdfcairo terminal line in %s\n", path, gp; bad++; next }
    if (limits != "") {
      lw = limits; sub(/.*printed within /, "", lw); lh = lw; sub(/pt x.*/, "", lw); sub(/.*pt x /, "", lh); sub(/pt.*/, "", lh)
      if (abs(lw - tw) > 0.5 || abs(lh - 0.75 * th) > 0.5) {
        printf "check-paper: %s was laid out for %.1f x %.1f pt, but the report prints figures within \\textwidth x 0.75\\textheight = %.1f x %.1f pt: update PrintLayout in Sources/Reporting/Gnuplot.swift\n", path, lw, lh, tw, 0.75 * th
        drift++
      }
    }
    printed = font * width / (win * 72.27)
    figures++
    if (figures == 1 || printed < smallest) { smallest = printed; smallest_name = path }
    if (printed < min - 1e-6) { printf "check-paper: figure %s prints its %.4g pt font at %.2f pt (scale %.3f) < %s pt\n", path, font, printed, width / (win * 72.27), min; small++ }
    else if (show) printf "  figure %s: %.2f pt (font %.4g pt, scale %.3f)\n", path, printed, font, width / (win * 72.27)
    next
  }
  $1 == "table" {
    name = $2; part = field($0, "part"); nat = field($0, "natural"); fit = pt(field($0, "fitted")); font = pt(field($0, "font"))
    scale = (nat == "long" || pt(nat) <= fit) ? 1 : fit / pt(nat)
    printed = font * scale
    tables++
    if (printed < min - 1e-6) { printf "check-paper: table %s (part %s) prints its %.4g pt font at %.2f pt (scale %.3f) < %s pt\n", name, part, font, printed, scale, min; small++ }
    else if (show) printf "  table %s part %s: %.2f pt (font %.4g pt, scale %.3f)\n", name, part, printed, font, scale
    next
  }
  END {
    if (tw == 0) { print "check-paper: no text block (layout line) in the sizes file"; exit 1 }
    printf "check-paper: %d figure(s) and %d table part(s) checked against %s pt (text block %.2f x %.2f pt; %d raster image grid(s) reported, %d with labels below it, not failed)", figures, tables, min, tw, th, rasters, gridsmall
    if (figures > 0) printf "; smallest figure text %.2f pt (%s)", smallest, smallest_name
    printf "\n"
    if (small + drift + bad > 0) { printf "check-paper: %d text(s) below %s pt, %d figure(s) laid out for another text block\n", small, min, drift; exit 1 }
  }' "$sizes" || exit 1
