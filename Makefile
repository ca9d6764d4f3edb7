# The only entry points a user needs. Each builds .venv from pyproject.toml first when it is missing or stale.
PROFILE ?= cpu
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup test lint bench clean
.DELETE_ON_ERROR:

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

lint: $(STAMP)
	$(PY) -m ruff check .

test: lint
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) -m dcgan_core bench --preset paper-lsun64 --batch-size 64 --steps 5
	$(PY) -m dcgan_core bench --preset paper-lsun64 --batch-size 64 --steps 5 --channels-last
	$(PY) -m dcgan_core bench --preset paper-lsun64 --batch-size 64 --steps 5 --channels-last --precision bf16
	$(PY) -m dcgan_core bench --preset cpu32 --set channels=1 --batch-size 128 --steps 20
	$(PY) -m dcgan_core bench --preset cpu32-rgb --batch-size 128 --steps 10

clean:
	rm -rf _build runs .stamps book/chapters book/generated
