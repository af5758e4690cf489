# The two commands a newcomer needs: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := .local/stamps

.PHONY: run test demo lint typecheck unit bench deps clean

run: deps local.settings.json
	$(PY) scripts/run_local.py

test: deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(PY) -m pytest

demo: deps local.settings.json
	$(PY) scripts/run_local.py --demo

bench: deps
	$(PY) -m benchmarks.cold_import
	$(PY) -m benchmarks.provisioning

deps: $(STAMP)/python $(STAMP)/node

$(STAMP)/python: requirements.txt requirements-dev.txt
	@mkdir -p $(STAMP)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

$(STAMP)/node: package.json package-lock.json
	@mkdir -p $(STAMP)
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

local.settings.json:
	cp local.settings.sample.json $@

clean:
	rm -rf .local .pytest_cache .mypy_cache .ruff_cache
