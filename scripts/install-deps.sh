#!/usr/bin/env bash
# Installs the Debian packages the artifact needs (build, data, figures). Idempotent: packages
# already installed are skipped by apt. Runs apt-get through sudo when not root.
set -euo pipefail

PACKAGES=(
  # build: C libraries behind the system-library targets
  pkg-config libopenblas-dev liblapacke-dev libdnnl-dev libhdf5-dev libpng-dev zlib1g-dev libssl-dev
  # tools: h5dump for inspecting data files, gnuplot for figures
  hdf5-tools gnuplot-nox
  # data sources: Fashion-MNIST (IDX files) and scikit-learn's 8x8 digits (digits.csv.gz)
  dataset-fashion-mnist python3-sklearn
  # the report: latexmk and a small TeX Live (booktabs, graphicx, hyperref)
  latexmk texlive-latex-base texlive-latex-recommended texlive-fonts-recommended
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} Debian packages already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
