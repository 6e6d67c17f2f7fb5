# The two commands of README.md: `make crawl` (the main job) and `make test`.
# Each creates .venv with the pinned dependencies on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
BASE_URL ?=
SPIDER_ARGS := $(if $(BASE_URL),-a base_url=$(BASE_URL))

.PHONY: crawl test lint demo bench system-deps clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[test]"
	touch $@

system-deps:
	./scripts/system-deps.sh

crawl: $(BIN)/.installed
	$(BIN)/scrapy crawl finews $(SPIDER_ARGS) -O output/articles.jsonl

test: $(BIN)/.installed system-deps
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(BIN)/.installed
	$(BIN)/ruff check .

# Offline demo: a replica of the fixture corpus on 127.0.0.1, crawled by the finews spider.
demo: $(BIN)/.installed
	$(BIN)/python -m finews.demo

bench: $(BIN)/.installed
	$(BIN)/python benchmarks/crawl.py

clean:
	rm -rf $(VENV) output
