# newsflow: `make run` ingests the bundled sample dump, `make test` runs the test suite.
# Both set up a virtual environment in .venv first (from pyproject.toml), so a fresh clone needs nothing else.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
OUT ?= out/sample

.PHONY: setup browser run test lint bench bench-scale bench-throughput bench-incremental clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

run: setup
	$(BIN)/newsflow ingest samples/dump --output $(OUT)

# The report tests drive Debian's chromium; install it when missing and we are root with apt (CI is).
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || true

test: setup browser
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check pipelines transforms schemas tests benchmarks

bench: setup
	$(BIN)/python benchmarks/quality_boilerplate.py
	$(BIN)/python benchmarks/quality_dates.py
	$(BIN)/python benchmarks/quality_warc.py
	$(BIN)/python benchmarks/quality_entities.py
	$(BIN)/python benchmarks/quality_dedupe.py
	$(BIN)/python benchmarks/dedupe_parameters.py

bench-scale: setup
	$(BIN)/python benchmarks/dedupe_scaling.py

bench-throughput: setup
	$(BIN)/python benchmarks/throughput.py
	$(BIN)/python benchmarks/throughput.py --docs 100000

bench-incremental: setup
	$(BIN)/python benchmarks/incremental.py --trials 20

clean:
	rm -rf out .pytest_cache
