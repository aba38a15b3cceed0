# The front door. `make serve` and `make test` work on a fresh machine with Python >= 3.11.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help serve test lint typecheck docs docs-config check bench clean

help: ## Show the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

serve: $(STAMP) ## Install and start the server on http://127.0.0.1:8000 (embedded: SQLite, in-process workers)
	$(BIN)/pagemill serve

lint: $(STAMP) ## ruff, formatting and the layer contracts
	$(BIN)/ruff check src tests bench tools docgen
	$(BIN)/ruff format --check src tests bench tools docgen
	$(BIN)/lint-imports

typecheck: $(STAMP) ## mypy --strict
	$(BIN)/mypy

docs: $(STAMP) ## Build the documentation site into site/ (mkdocs --strict: a broken link fails)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

docs-config: $(STAMP) ## Regenerate docs/configuration.md from the Settings class
	$(BIN)/python -m tools.docgen

test: lint typecheck docs ## Install, check, build the docs and run the whole test suite
	$(BIN)/pytest

bench: $(STAMP) ## Run the benchmarks (numbers in docs/benchmarks.md)
	$(BIN)/python bench/run_all.py

clean: ## Remove the virtualenv and local state
	rm -rf $(VENV) .pagemill site .mypy_cache .pytest_cache .ruff_cache
