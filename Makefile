# The two commands a newcomer needs: `make run` and `make test`. Each sets up .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Installing prints errors only: no pip notices, no build-backend deprecation warnings.
PIP_INSTALL := PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONWARNINGS=ignore $(BIN)/pip install --quiet --quiet

.PHONY: run test lint typecheck pytest install bench clean

$(STAMP): pyproject.toml
	@echo "installing contactd into $(VENV) (a minute or two the first time)"
	@$(PYTHON) -m venv $(VENV)
	@$(PIP_INSTALL) --upgrade pip
	@$(PIP_INSTALL) -e '.[dev]'
	@# axe-core, the accessibility rules the browser tests run in every page (npm registry)
	@if command -v npm >/dev/null; then npm install --silent --no-audit --no-fund --prefix $(VENV)/npm 'axe-core@^4.10' >/dev/null; fi
	@touch $(STAMP)

install: $(STAMP)

# Prints where it serves, the logins, the demo's numbers, mailboxes and widgets, and the
# `contactd try` commands; logs below WARNING stay quiet (CONTACTD_LOG_LEVEL=INFO shows them).
run: $(STAMP)
	@CONTACTD_LOG_LEVEL=$${CONTACTD_LOG_LEVEL:-WARNING} $(BIN)/contactd serve --demo

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy app

pytest: $(STAMP)
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python bench/routing_core.py

clean:
	rm -rf $(VENV) .contactd .mypy_cache .pytest_cache .ruff_cache
