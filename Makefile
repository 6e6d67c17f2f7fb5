# The two commands of README.md: `make crawl` (the main job) and `make test`.
# Each creates .venv with the pinned dependencies on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SECANTUS := .secantus/bin/secantusd-py
BASE_URL ?=
SPIDER_ARGS := $(if $(BASE_URL),-a base_url=$(BASE_URL))

.PHONY: crawl test lint demo bench system-deps splash clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[test]"
	touch $@

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

crawl: $(BIN)/.installed $(SECANTUS)
	$(BIN)/scrapy crawl finews $(SPIDER_ARGS)

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
