# The two commands of README.md: `make crawl` (the main job) and `make test`.
# Each creates .venv from requirements.lock (the whole tree, pinned with hashes) on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SECANTUS := .secantus/bin/secantusd-py
BASE_URL ?=
SPIDER_ARGS := $(if $(BASE_URL),-a base_url=$(BASE_URL))

.PHONY: crawl install test lint demo bench system-deps splash clean lock check-wheels

$(BIN)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q --require-hashes -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $@

# A new lock from pyproject.toml's ranges (README, Dependencies): the newest releases they allow, for
# every Python from 3.11 on, with hashes. uv resolves it; pip installs it.
lock: $(BIN)/.installed
	$(BIN)/pip install -q "uv>=0.13,<1"
	$(BIN)/uv pip compile pyproject.toml --extra test --universal --generate-hashes --python-version 3.11 \
		--no-header --upgrade --quiet -o requirements.lock

# Every package the lock pins has wheels for CPython 3.11-3.14 on manylinux x86_64 and aarch64 (asks the index).
check-wheels: $(BIN)/.installed
	$(BIN)/python scripts/check-wheels.py requirements.lock

# The embedded default store and the tests' MongoDB: SecantusDB (a MongoDB wire-protocol server over
# WiredTiger; GPL-2.0, beta) in a virtual environment of its own, as shared notes/mongodb.md advises.
# 0.7.0b3 is the version checked against pymongo 4.20.1.
$(SECANTUS):
	$(PYTHON) -m venv .secantus
	.secantus/bin/pip install -q --upgrade pip
	.secantus/bin/pip install -q "secantusdb==0.7.0b3"

system-deps:
	./scripts/system-deps.sh

# Splash for share pages whose JSON endpoint fails (tests start it; SPLASH_URL points the crawl at one).
splash:
	./scripts/install-splash.sh

# What the main job needs; scripts/crawl runs it first.
install: $(BIN)/.installed $(SECANTUS)

# The main job through scripts/crawl (make reports any non-zero status as its own 2: cron runs the script).
crawl: install
	./scripts/crawl $(SPIDER_ARGS)

test: $(BIN)/.installed $(SECANTUS) system-deps splash
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(BIN)/.installed
	$(BIN)/ruff check .

# Offline demo: a replica of the fixture corpus on 127.0.0.1, crawled by the finews spider.
demo: $(BIN)/.installed $(SECANTUS)
	$(BIN)/python -m finews.demo

bench: $(BIN)/.installed $(SECANTUS)
	$(BIN)/python benchmarks/crawl.py
	$(BIN)/python benchmarks/store.py

clean:
	rm -rf $(VENV) .secantus .splash output
