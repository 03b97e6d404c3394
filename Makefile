# Reproduction of heavy-tailed DSM (arXiv:2112.09788) and high-order DSM (arXiv:2111.04726).
#
#   make setup            install the Debian packages (apt; uses sudo when not root)
#   make figures          build, prepare data, run every experiment at $(SCALE), draw figures
#   make tables           re-render tables (and figures) from existing results; runs what is missing
#   make test             the test suite (swift test)
#   make bench            the training-step benchmarks (MLP and U-Net DSM steps)
#   make classifiers      the sample-quality classifiers (data/classifiers/*.h5, seeded)
#   make image-kit-demo   the image kit end to end on the 8x8 digits (< 2 min; CI runs it)
#   make image-budget     the image budget curve: baseline quality vs steps, width and T (issue 27)
#   make resample ID=id   new samples from an image experiment's shipped full-scale models
#   make bench-peers      ours against PyTorch and JAX twins (tools/peers; makes a venv)
#   make bench-gemm-units full-scale HO-E1/HT-E3 units timed with OpenBLAS and with oneDNN GEMMs
#   make <experiment-id>  one experiment, e.g. make ht-e1-concentration SCALE=full
#   make replot           re-draw every figure from its saved gnuplot script
#   make paper            the LaTeX report from whatever results exist (paper/build/report.pdf)
#   make paper-reference  the report from the committed full-scale reference results, computing nothing
#   make verify CLAIM=ID  re-run only what one claim needs and print its verdict
#   make compare [ID=id]  hold full-scale reruns (results/full) against reference/full
#   make ledger           the claims ledger of $(SCALE) (results/$(SCALE)/claims-ledger.*)
#   make readme           the README's ledger section, from the full-scale results
#   make format [FILES=…] apply .swift-format to FILES (default: the Swift files changed since main)
#   make format-lint      count the lines that break .swift-format's rules, per rule (reports, never fails)
#   make dist             the archive of the committed tree (dist/<name>-<rev>.tar.gz, git archive)
#   make slurm            submit the grid at $(SCALE) to Slurm: a job array per experiment (one task
#                         per work unit), a merge job after each, a ledger + paper job at the end
#   make units ID=<id> JOBS=N   one experiment's work units as N local processes, then the merge
#
# Variables: SCALE=quick|full (default quick), SEED=0, THREADS=2 (work units side by side; results do not depend on it),
# FORCE=1 (recompute every unit; a replaced result is kept under results/$(SCALE)/.superseded/).
# Results live in results/$(SCALE)/<id>/: quick runs never touch full results. Any run may be
# interrupted (Ctrl-C, kill): the last complete result stays as it was, and the next run resumes
# from the finished work units.

SCALE   ?= quick
SEED    ?= 0
THREADS ?= 2
SWIFT   ?= swift
BIN     := .build/release

# The harness pins BLAS threads with --threads; this only sets the default for other programs.
export OPENBLAS_NUM_THREADS ?= 1
# OpenBLAS's idle worker spins ~2^28 cycles after each GEMM, stealing the core our elementwise
# kernels need between GEMMs; 2^4 makes it sleep at once (measured: 2-thread DSM step median
# 5.3 -> 4.1 ms, see make bench). Recorded in every config.json.
export OPENBLAS_THREAD_TIMEOUT ?= 4
# oneDNN's OpenMP threads sleep when idle instead of spinning: with spinning, a 2-thread U-Net step
# (C = 8, batch 64, 28×28) took 650–940 ms on a machine with one other busy process, against
# 314–359 ms passive and 200–270 ms on one thread (bench, measured side by side, issue 13).
# Recorded in every config.json.
export OMP_WAIT_POLICY ?= passive

EXPERIMENTS := ht-e0-toy-balance ht-e1-concentration ht-e2-noise-scaling ht-e3-score-error ht-e4-convergence ht-e5-class-balance ht-e6-sample-quality ho-e1-hessian-accuracy ho-e2-cost ho-e3-variance-reduction ho-e4-denoising-uncertainty ho-e5-ozaki-synthetic ho-e6-ozaki-images
DATASETS    := data/fashion-mnist.h5 data/digits8x8.h5
# Only the experiments that classify images wait for the classifiers (issue 31: a full-scale
# `make ht-e4-convergence` trained the Fashion-MNIST classifier it never uses); a test checks
# this list against the sources.
CLASSIFIER_EXPERIMENTS := ht-e5-class-balance ht-e6-sample-quality ho-e6-ozaki-images

.PHONY: dist format format-lint all setup build data classifiers image-kit-demo image-budget resample figures tables ledger readme paper paper-reference verify compare test bench bench-peers bench-gemm-units clean clean-results replot slurm units $(EXPERIMENTS)

all: figures tables

setup:
	scripts/install-deps.sh

build:
	$(SWIFT) build -c release

data: $(DATASETS)

# Built once from the Debian packages' files; delete data/*.h5 to rebuild.
data/%.h5: | build
	$(BIN)/prepare-data --out data --only $*

FORCE_FLAG := $(if $(filter 1,$(FORCE)),--force,)

# The sample-quality classifiers (conv nets; test accuracy recorded in each file), trained once
# with seed 0; delete a file to retrain it. The quick scale needs only the digits one; the full
# scale's image experiments need the Fashion-MNIST one (≈ 4 min on 2 threads).
CLASSIFIERS := data/classifiers/fashion-mnist.h5 data/classifiers/digits8x8.h5
SCALE_CLASSIFIERS := data/classifiers/digits8x8.h5 $(if $(filter full,$(SCALE)),data/classifiers/fashion-mnist.h5,)
classifiers: $(CLASSIFIERS)

data/classifiers/%.h5: | build data/%.h5
	$(BIN)/train-classifier --dataset $* --seed 0 --threads $(THREADS) --out $@

# The image kit end to end (tiny score network on the 8x8 digits, samples, grid, metrics).
image-kit-demo: build | $(DATASETS) data/classifiers/digits8x8.h5
	$(BIN)/image-kit-demo --scale quick --seed $(SEED) --threads $(THREADS) $(FORCE_FLAG)

# The image budget curve (issue 27): the β = 2 baseline's sample quality against training steps,
# U-Net width and Langevin steps per level, which fixes the image experiments' full-scale budget
# before any claim is read. Quick: digits only (≈ 2 min); full: digits and Fashion-MNIST.
image-budget: build | $(DATASETS) $(SCALE_CLASSIFIERS)
	$(BIN)/image-budget --scale $(SCALE) --seed $(SEED) --threads $(THREADS) $(FORCE_FLAG)

# New samples from the shipped full-scale models of one image experiment, without training
# (issue 27): results/resample/<id>/samples.png, one row per model.
resample: build
	@[ -n "$(ID)" ] || { echo "make resample ID=<image experiment id> (one with reference/full/<id>/models)"; exit 1; }
	$(BIN)/resample --models reference/full/$(ID)/models --out results/resample/$(ID) --threads $(THREADS)

$(filter-out $(CLASSIFIER_EXPERIMENTS),$(EXPERIMENTS)): build | $(DATASETS)
	$(BIN)/$@ --scale $(SCALE) --seed $(SEED) --threads $(THREADS) $(FORCE_FLAG)

$(CLASSIFIER_EXPERIMENTS): build | $(DATASETS) $(SCALE_CLASSIFIERS)
	$(BIN)/$@ --scale $(SCALE) --seed $(SEED) --threads $(THREADS) $(FORCE_FLAG)

# Computes what has no result at $(SCALE) yet and re-draws the rest from its CSVs
# (FORCE=1 recomputes everything; `make <id>` always recomputes one experiment).
figures: build | $(DATASETS) $(SCALE_CLASSIFIERS)
	@for e in $(EXPERIMENTS); do scripts/figure.sh $(BIN) $$e $(SCALE) $(SEED) $(THREADS) || exit 1; done
	$(BIN)/report ledger --scale $(SCALE)
	BIN=$(BIN) scripts/collect-figures.sh $(SCALE)

# Tables are rendered with the figures; this re-renders both without recomputing what exists.
tables: figures

ledger: build
	$(BIN)/report ledger --scale $(SCALE)

# The README's ledger section is written only here, from the committed full-scale reference
# results (reference/full/<id>/, saved with scripts/save-reference.sh from results/full/).
readme: build
	$(BIN)/report ledger --results reference --scale full --readme README.md

# Builds from whatever results exist (missing ones are marked in the PDF).
PAPER_RESULTS ?= results
paper: build
	$(BIN)/report ledger --results $(PAPER_RESULTS) --scale $(SCALE)
	$(BIN)/report paper --results $(PAPER_RESULTS) --scale $(SCALE)
	@command -v latexmk >/dev/null || { echo "latexmk not found: run make setup"; exit 1; }
	cd paper && latexmk -pdf -interaction=nonstopmode -halt-on-error -output-directory=build report.tex >build.log 2>&1 \
	  || { tail -40 build.log; exit 1; }
	scripts/check-paper.sh paper/build/report.log
	@echo "paper: paper/build/report.pdf"

# The report from the committed full-scale reference results (reference/full), computing nothing:
# their figures are re-drawn from the CSVs in results/reference-render/full.
paper-reference: build
	scripts/render-reference.sh $(BIN)
	$(MAKE) --no-print-directory paper SCALE=full PAPER_RESULTS=results/reference-render

# Holds full-scale reruns against the committed reference results (identity, files, every claim
# check's verdict and estimate): make compare, or make compare ID=ht-e1-concentration.
compare: build
	$(BIN)/report compare --scale full $(if $(ID),--id $(ID),)

# Re-runs only the experiments one claim needs, then prints its verdict: make verify CLAIM=HT-C2
verify: build
	@test -n "$(CLAIM)" || { echo "usage: make verify CLAIM=HT-C2"; exit 2; }
	@for e in $$($(BIN)/report experiments --claim $(CLAIM)); do $(MAKE) --no-print-directory $$e || exit 1; done
	@$(BIN)/report ledger --scale $(SCALE) >/dev/null
	@$(BIN)/report verify --claim $(CLAIM) --scale $(SCALE)

# The grid on a Slurm cluster (README, "Running on a cluster"); rerun to resume. Partition,
# account etc. pass through as SBATCH_PARTITION, SBATCH_ACCOUNT, ... (read by sbatch).
slurm: build | $(DATASETS) $(SCALE_CLASSIFIERS)
	SCALE=$(SCALE) SEED=$(SEED) FORCE=$(FORCE) scripts/slurm-submit.sh

# The same units without Slurm: JOBS processes of one thread each, then the merge.
JOBS ?= 2
units: build | $(DATASETS) $(if $(filter $(ID),$(CLASSIFIER_EXPERIMENTS)),$(SCALE_CLASSIFIERS),)
	@test -n "$(ID)" || { echo "usage: make units ID=ho-e1-hessian-accuracy JOBS=4"; exit 2; }
	scripts/units-local.sh $(BIN) $(ID) $(SCALE) $(SEED) $(JOBS)

replot:
	@for f in results/*/*/figures/*.gp; do [ -e "$$f" ] || continue; (cd $$(dirname $$f) && gnuplot $$(basename $$f)) || exit 1; done

test:
	$(SWIFT) test

bench: build
	$(BIN)/bench
	@echo "== the MLP step with OpenBLAS's default idle spin (OPENBLAS_THREAD_TIMEOUT unset)"
	env -u OPENBLAS_THREAD_TIMEOUT $(BIN)/bench --networks mlp
	@echo "== both steps with oneDNN's OpenMP threads spinning when idle (OMP_WAIT_POLICY=active, libgomp's default spin)"
	OMP_WAIT_POLICY=active $(BIN)/bench
	@echo "== contention (issue 32): the MLP step, the U-Net step and the C = 16 sampling forward with one busy process beside them (compare with the idle 2-thread bests above)"
	$(BIN)/bench --networks mlp,unet,unet-forward --forward-widths 16 --forward-batches 64 --threads 2 --busy 1

# Ours against the PyTorch (U-Net) and JAX (MLP) twins in tools/peers, interleaved in one run.
# The venv comes from PyPI (plus the image's CPU torch wheel); CI does not run this.
# PEERS_ISA=avx2 caps every program at AVX2 on an AVX-512 host (oneDNN in ours and in PyTorch,
# PyTorch's own kernels, XLA's code generation): the kernels an AVX2-only host runs, on this
# host's cores (not a measurement of an AVX2 host; the report says which).
PEERS_VENV ?= .build/peers-venv
PEERS_ISA ?=
bench-peers: build
	@test -x $(PEERS_VENV)/bin/python || { python3 -m venv $(PEERS_VENV) && $(PEERS_VENV)/bin/pip install -q -r tools/peers/requirements.txt; }
	PEERS_ISA=$(PEERS_ISA) tools/peers/bench-peers.sh $(BIN) $(PEERS_VENV) 2

# Issue 13's before/after: sample full-scale units of HO-E1 and HT-E3 timed with every Float32
# GEMM on OpenBLAS (the path before oneDNN) and with the default, alternating, into a scratch
# folder (results/ is not touched). Run on an otherwise idle machine.
bench-gemm-units: build
	scripts/gemm-before-after.sh $(BIN) .build/bench-gemm-units 2

# The formatter configuration (issue 30): 4-space indentation, lines up to 140 characters,
# layout rules only. The code base predates it; format what you touch.
FILES ?= $(shell git diff --name-only --diff-filter=AM main -- '*.swift' 2>/dev/null)
format:
	@[ -n "$(FILES)" ] || { echo "make format: no Swift files changed since main (pass FILES=...)"; exit 0; }
	$(SWIFT) format --in-place --configuration .swift-format $(FILES)

format-lint:
	@$(SWIFT) format lint --recursive --configuration .swift-format Sources Tests 2>&1 \
	  | sed -n 's/.*warning: \[\([A-Za-z]*\)\].*/\1/p' | sort | uniq -c | sort -rn
	@echo "lines over 140 characters: $$(find Sources Tests -name '*.swift' -exec cat {} + | awk 'length > 140' | wc -l)"

clean-results:
	rm -rf results

clean: clean-results
	rm -rf .build

# The archive an artifact evaluation would take (issue 31): the committed tree at HEAD, with the
# reference results, shipped models and grids, and nothing untracked (no results/, data/ or
# builds). Refuses a tree with uncommitted changes, which the archive would silently leave out.
DIST_NAME := score-matching-repro
dist:
	@git diff --quiet HEAD || { echo "make dist: uncommitted changes; commit them first (git archive takes HEAD)"; exit 1; }
	@mkdir -p dist
	git archive --format=tar.gz --prefix=$(DIST_NAME)-$$(git rev-parse --short HEAD)/ -o dist/$(DIST_NAME)-$$(git rev-parse --short HEAD).tar.gz HEAD
	@ls -l dist/$(DIST_NAME)-$$(git rev-parse --short HEAD).tar.gz
