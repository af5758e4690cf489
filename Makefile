# The two commands a newcomer needs: `make run` and `make test`. Everything else is a helper.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := .local/stamps
# The language worker's messages, compiled when dependencies are installed (never committed).
PROTO := devhost/rpc/function_rpc.proto

.PHONY: run test demo lint typecheck unit bench deps python clean

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
	$(PY) -m benchmarks.detection_lag
	$(PY) -m benchmarks.worker_hop
	$(PY) -m benchmarks.problem_list
	$(PY) -m benchmarks.faults

deps: $(STAMP)/python $(STAMP)/protos $(STAMP)/node

# The venv is Python 3.13, as in Azure; scripts/find-python313 says what is missing otherwise.
$(STAMP)/python: requirements.txt requirements-dev.txt scripts/find-python313
	@mkdir -p $(STAMP)
	@python=$$(scripts/find-python313) || exit 1; \
	if ! $(PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null; then \
		echo "creating $(VENV) with $$python"; rm -rf $(VENV); "$$python" -m venv $(VENV) || exit 1; \
	fi
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

$(STAMP)/protos: $(PROTO) $(STAMP)/python
	$(PY) -m grpc_tools.protoc -I. --python_out=. --plugin=protoc-gen-mypy=$(VENV)/bin/protoc-gen-mypy --mypy_out=. $(PROTO)
	@touch $@

$(STAMP)/node: package.json package-lock.json
	@mkdir -p $(STAMP)
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

local.settings.json:
	cp local.settings.sample.json $@

clean:
	rm -rf .local .pytest_cache .mypy_cache .ruff_cache
