# Local development. `make run` and `make test` are all anyone needs; both install first.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || echo python3)
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
PORT ?= 8000
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help install run test lint clean distclean

help:
	@echo "make install    create $(VENV) and install the project with its dev tools"
	@echo "make run        migrate, load the demo data, start web + Celery worker + beat (PORT=$(PORT))"
	@echo "make test       run the whole test suite (extra arguments: PYTEST_ARGS='-k name')"
	@echo "make lint       ruff check"
	@echo "make clean      remove local state under var/ and caches; distclean also removes $(VENV)"

install: $(VENV)/.installed

# A stamp file: reinstall only when the dependencies change.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

define DEMO_LOGINS
Demo logins (every password: demo-password)
  staff               platform superuser
  alpha.admin         client admin       Alpha Pharmaceuticals
  alpha.manager       client manager     Alpha Pharmaceuticals
  alpha.viewer        client viewer      Alpha Pharmaceuticals (Phase II engagement only)
  northwind.manager   client manager     Northwind Capital
  bio.admin           provider admin     Bio-Analytics Solutions
  bio.lead            engagement lead    Bio-Analytics Solutions (lead of Biostatistics)
  bio.analyst         analyst            Bio-Analytics Solutions (Biostatistics)
  bio.qa              QA reviewer        Bio-Analytics Solutions (Biostatistics)
  bio.writer          analyst            Bio-Analytics Solutions (Medical Writing)
  ledger.admin        provider admin     Ledger Research Partners
  ledger.analyst      analyst            Ledger Research Partners (EU Banks)
Admins also enter a code: .venv/bin/python manage.py totp_code <username>
endef
export DEMO_LOGINS

# One foreground command: honcho runs every Procfile entry and stops them all on Ctrl-C.
run: install
	$(MANAGE) migrate --noinput
	$(MANAGE) seed_demo
	@echo
	@echo "KPO Engagements: http://localhost:$(PORT)/   (Ctrl-C stops web, worker and beat)"
	@echo
	@echo "$$DEMO_LOGINS"
	@echo
	PATH="$(CURDIR)/$(BIN):$$PATH" PYTHONUNBUFFERED=1 $(BIN)/honcho start --port $(PORT)

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf var .pytest_cache .ruff_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
