# Two commands do all set-up on a fresh machine:
#   make demo   - create .venv, install cargotrace, run `cargotrace demo` on the synthetic sample case
#   make test   - create .venv, install cargotrace with test extras and Chromium, run the tests
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_OUT ?= demo-out

.PHONY: demo test test-slow lint bench venv clean chromium java

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

venv: $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/cargotrace demo --out $(DEMO_OUT)

# Chromium (Debian package) is needed by the browser test of the report and by --pdf.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium missing: sudo apt-get install chromium (browser tests will be skipped)"; fi; }

# A Java runtime (Debian package) is needed by the Spark engine and its equality tests.
java:
	@command -v java >/dev/null 2>&1 || [ -n "$${JAVA_HOME:-}" ] || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null; \
	  else echo "java missing: sudo apt-get install default-jre-headless (Spark tests will be skipped)"; fi; }

# --max-worker-restart=0: a worker that crashes fails the run (xdist hung waiting for it)
test: $(VENV)/.installed-test chromium java
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy src
	$(BIN)/python -m pytest -q -n 2 --dist loadfile --max-worker-restart=0 --durations=15
	@echo "--- slow suite (calibration, SIGKILL crash safety, 5 GB CSV and 2 GB NMEA in bounded memory) ---"
	$(BIN)/python -m pytest -q -rP -m slow -n 2 --dist load --max-worker-restart=0

test-slow: $(VENV)/.installed-test chromium java
	$(BIN)/python -m pytest -q -rP -m slow -n 2 --dist load

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy src

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/bench_nmea.py

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache .ruff_cache
