# The only entry points a user needs. Each builds .venv from pyproject.toml first when it is missing or stale.
#   make reproduce [PROFILE=cpu|smoke|paper] [NPROC=N [SYNC_BN=1]] [SEEDS=3,4,5]   pack data, run every notebook,
#                                              build the book (SEEDS: every chapter on another set of training seeds)
#   make test                                  lint, unit tests, and the smoke pipeline with a check of the book
#   make notebook NB=05_latent_walks [PROFILE=..] [ARGS="-p repeats 3"]   rerun one chapter
#   make bench [DEVICE=cuda] [EXAMPLES=path/to/pytorch/examples/dcgan/main.py]   training throughput of the
#                                              presets (and whole-process time side by side with pytorch/examples)
PROFILE ?= cpu
DEVICE ?= cpu
# NPROC > 1: each model trains with torchrun and NPROC processes (DistributedDataParallel); batch norm then
# normalises each process's share of the batch, unless SYNC_BN=1 (CUDA) syncs it over the global batch (Sec. 4)
NPROC ?= 1
SYNC_BN ?= 0
# JOBS: independent trainings (seeds, judges) side by side; default the CPU's cores (one thread each), 1 on CUDA
JOBS ?=
export DCGAN_NPROC := $(strip $(NPROC))
export DCGAN_SYNC_BN := $(strip $(SYNC_BN))
export DCGAN_JOBS := $(strip $(JOBS))
# SEEDS: replace every chapter's training seeds (the verdict convention's test: the same claims on other seeds)
SEEDS ?=
export DCGAN_SEEDS := $(strip $(SEEDS))
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SETUP ?= $(STAMP)  # the environment every target needs; tests of a copied tree pass SETUP= to share .venv
CHAPTERS := book/chapters
NOTEBOOKS := $(basename $(notdir $(wildcard notebooks/*.ipynb)))  # every chapter, in the paper's order
LIB := $(shell find dcgan_core -name '*.py' 2>/dev/null) pyproject.toml
PROFILE_FILE := profiles/$(PROFILE).yaml
PACKED := data/packed/$(PROFILE)/.done
TRAINED := runs/$(PROFILE)/.trained
export TQDM_MININTERVAL ?= 10  # progress bars of long steps in the log, one line every 10 s

.PHONY: setup test lint unit reproduce chapters book notebook bench clean FORCE
.DELETE_ON_ERROR:

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	$(PY) -m ipykernel install --prefix $(VENV) --name python3 > /dev/null
	touch $@

lint: $(SETUP)
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports --no-cache

test: lint
	$(PY) -m pytest -q

unit: $(SETUP)
	$(PY) -m pytest -q -m "not pipeline"

# --- the study -----------------------------------------------------------------------------------------
# After the training step the chapters read only its runs and judges, so they run side by side: `pipeline jobs`
# says how many (JOBS, else one per CPU core; 1 on CUDA) and with how many threads each; `pipeline chapters-time`
# records the step's wall time for the wall-time page. `make book` builds the same chapters one at a time.
reproduce: $(TRAINED) $(CHAPTERS)/.profile
	@jobs=$$($(PY) -m dcgan_core.book.pipeline jobs $(PROFILE)) || { echo "$$jobs"; exit 2; }; \
	set -- $$jobs; start=$$(date +%s); \
	$(MAKE) --no-print-directory --output-sync=target -j$$1 CHAPTER_THREADS=$$2 chapters || exit $$?; \
	$(PY) -m dcgan_core.book.pipeline chapters-time $(PROFILE) $$start $$1
	@$(MAKE) --no-print-directory book

# Side by side, make starts the chapters in this order: the longest first, so that no core idles at the end
# (fresh cpu build, 039406d: 04 982 s, 02 772 s, 01 402 s, the other five 420 s together; in paper order the
# chapters step took 1,499 s, longest first about 1,290 s by the same times)
FIRST := 04_svhn_probe 02_dedup 01_training
chapters: $(patsubst %,$(CHAPTERS)/%.ipynb,$(filter $(NOTEBOOKS),$(FIRST)) $(filter-out $(FIRST),$(NOTEBOOKS)))

$(PROFILE_FILE):
	@echo "error: unknown PROFILE=$(PROFILE); valid: $(basename $(notdir $(wildcard profiles/*.yaml)))"; exit 2

# Which profile (and seeds) the chapters were built with: rewritten only when it changes, so a switch reruns them.
$(CHAPTERS)/.profile: FORCE
	@mkdir -p $(CHAPTERS)
	@echo "$(strip $(PROFILE) $(DCGAN_SEEDS))" | cmp -s - $@ || echo "$(strip $(PROFILE) $(DCGAN_SEEDS))" > $@

$(PACKED): $(PROFILE_FILE) $(LIB) $(SETUP)
	$(PY) -m dcgan_core.book.pipeline packs $(PROFILE)
	touch $@

# every run and judge the chapters read, trained side by side before them (the chapters reuse them by key)
$(TRAINED): $(PROFILE_FILE) $(LIB) $(PACKED) $(CHAPTERS)/.profile
	$(PY) -m dcgan_core.book.pipeline train $(PROFILE)
	touch $@

# papermill writes NAME.failed.ipynb; only a notebook that ran to the end is renamed into the book.
$(CHAPTERS)/%.ipynb: notebooks/%.ipynb $(PROFILE_FILE) $(LIB) $(CHAPTERS)/.profile $(PACKED) $(TRAINED)
	$(if $(CHAPTER_THREADS),OMP_NUM_THREADS=$(CHAPTER_THREADS)) $(VENV)/bin/papermill notebooks/$*.ipynb \
		$(CHAPTERS)/$*.failed.ipynb -p profile $(PROFILE) --cwd notebooks --no-progress-bar --log-output $(ARGS)
	$(PY) -m dcgan_core.book.pipeline tidy $(CHAPTERS)/$*.failed.ipynb
	mv $(CHAPTERS)/$*.failed.ipynb $@

book: $(NOTEBOOKS:%=$(CHAPTERS)/%.ipynb)
	$(PY) -m dcgan_core.book.pipeline summary $(PROFILE)
	$(VENV)/bin/jupyter-book build . --builder html -W --quiet
	$(PY) -m dcgan_core.book.pipeline check-book
	@echo "book: _build/html/index.html"

notebook: $(SETUP)
	@test -n "$(NB)" || { echo "usage: make notebook NB=05_latent_walks [PROFILE=cpu] [ARGS='-p repeats 3']"; exit 2; }
	@test -f notebooks/$(NB).ipynb || { echo "error: no notebooks/$(NB).ipynb; valid: $(NOTEBOOKS)"; exit 2; }
	rm -f $(CHAPTERS)/$(NB).ipynb
	$(MAKE) $(CHAPTERS)/$(NB).ipynb PROFILE=$(PROFILE) ARGS='$(ARGS)'

BENCH := $(PY) -m dcgan_core bench --device $(DEVICE) --append-to book/generated/bench.jsonl
bench: $(SETUP)
	mkdir -p book/generated && rm -f book/generated/bench.jsonl
	$(BENCH) --preset paper-lsun64 --batch-size 64 --steps 5 --no-channels-last
	$(BENCH) --preset paper-lsun64 --batch-size 64 --steps 5
	$(BENCH) --preset paper-lsun64 --batch-size 64 --steps 5 --precision bf16
	$(BENCH) --preset pytorch-examples64 --batch-size 128 --steps 5 --no-channels-last --phases
	$(BENCH) --preset pytorch-examples64 --batch-size 128 --steps 5 --phases
	$(BENCH) --preset pytorch-examples64 --batch-size 128 --steps 5 --precision bf16 --phases
	$(BENCH) --preset pytorch-examples64 --batch-size 128 --steps 5 --precision bf16 --compile
	$(BENCH) --preset cpu32 --batch-size 128 --steps 20 --no-channels-last
	$(BENCH) --preset cpu32 --batch-size 128 --steps 20
	$(BENCH) --preset cpu32 --batch-size 128 --steps 20 --precision bf16
	$(BENCH) --preset cpu32-rgb --batch-size 128 --steps 20 --no-channels-last
	$(BENCH) --preset cpu32-rgb --batch-size 128 --steps 20
	$(BENCH) --preset cpu32-rgb --batch-size 128 --steps 20 --precision bf16
	$(PY) -m dcgan_core bench-parallel --preset cpu32-rgb --append-to book/generated/bench.jsonl
	$(PY) -m dcgan_core bench-parallel --preset cpu32 --append-to book/generated/bench.jsonl
	$(PY) -m dcgan_core bench-svm --append-to book/generated/bench.jsonl
	$(PY) -m dcgan_core bench-dedup --images 500000 --append-to book/generated/bench.jsonl
	$(PY) -m dcgan_core bench-dedup --images 500000 --resolution 64 --append-to book/generated/bench.jsonl
	$(PY) -m dcgan_core bench-copy-search --images 100000 --resolution 64 --append-to book/generated/bench.jsonl
ifdef EXAMPLES
	[ -f data/packed/side64/meta.json ] || $(PY) -m dcgan_core pack synth-rooms --out data/packed/side64 --resolution 64 \
		--limit 2048
	$(PY) -m dcgan_core bench-side --examples $(EXAMPLES) --pack data/packed/side64 --device $(DEVICE) \
		--append-to book/generated/bench.jsonl
endif
	@echo "written to book/generated/bench.jsonl; the next 'make reproduce' puts it in the book"

clean:
	rm -rf _build runs book/chapters book/generated data/packed
