# newsflow: `make run` ingests the bundled sample dump, `make test` runs the test suite.
# Both set up a virtual environment in .venv first (from pyproject.toml), so a fresh clone needs nothing else.
# `make run` installs only what a run needs; `make test` adds the test tools (the dev extra); `make test-all`
# adds the slow suites' tools (the slow extra) and chromium.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
OUT ?= out/sample
PYTEST := $(BIN)/python -m pytest -q

.PHONY: setup setup-run setup-all browser run test test-all lint bench bench-scale bench-throughput \
        bench-incremental clean

setup-run: $(VENV)/.installed-run
setup: $(VENV)/.installed-dev
setup-all: $(VENV)/.installed-all

$(VENV)/.created:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	touch $@

$(VENV)/.installed-run: pyproject.toml $(VENV)/.created
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.created
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed-run $@

$(VENV)/.installed-all: pyproject.toml $(VENV)/.created
	$(BIN)/python -m pip install --quiet -e '.[dev,slow]'
	touch $(VENV)/.installed-run $(VENV)/.installed-dev $@

run: setup-run
	$(BIN)/newsflow ingest samples/dump --output $(OUT)

# The report's browser tests drive Debian's chromium; install it when missing and we are root with apt (CI is).
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || true

# The everyday loop: everything but the suites marked slow (end-to-end variants, browser, object store).
test: setup
	$(PYTEST) -m "not slow"

# Everything: the suite of `make test`, then the slow suites. CI runs this (.ci/run).
test-all: setup-all browser
	$(PYTEST) -m "not slow"
	$(PYTEST) -m slow

lint: setup
	$(BIN)/ruff check pipelines transforms schemas storage tests benchmarks

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
