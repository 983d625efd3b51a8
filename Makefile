# The two commands the README promises, plus their set-up. Every target does its own set-up,
# idempotently, so `make test` and `make demo` work from a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
NNGRADE_DATA ?= $(HOME)/.cache/nngrade
export NNGRADE_DATA
# The course's file (no held-back digits), written with the full cache next to it.
MNIST_CACHE := $(NNGRADE_DATA)/course/mnist.npz
INSTALLED := $(VENV)/.installed

.PHONY: setup venv mnist system-packages sandbox-user demo test test-slow test-all lint clean

## setup: virtualenv + packages, the MNIST cache, and (as root) bubblewrap, Chromium and its
## driver, PostgreSQL, and the sandbox user
setup: venv mnist system-packages sandbox-user

venv: $(INSTALLED)

# Reinstalled whenever either pyproject changes.
$(INSTALLED): pyproject.toml assignments/nnkit/pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]' -e assignments/nnkit
	@# rfc3987-syntax (jupyter-events asks for jsonschema[format-nongpl]) builds 38 parsers
	@# whenever jsonschema is imported: 2 s or more in every process that reads a notebook,
	@# twice per otter or nbgrader grading. jsonschema works without it (it then skips its
	@# "iri" string format, which no schema here uses).
	$(BIN)/python -m pip uninstall --quiet --disable-pip-version-check -y rfc3987-syntax
	@touch $@

mnist: $(MNIST_CACHE)

$(MNIST_CACHE): | $(INSTALLED)
	$(BIN)/nnkit-fetch-mnist

# bubblewrap is the grading sandbox; Chromium renders the gradebook report for its test, and
# with its driver runs a student's session in JupyterLab for the browser test; PostgreSQL runs
# the gradebook's test on a server database.
system-packages:
	@missing=""; \
	command -v bwrap >/dev/null 2>&1 || missing="$$missing bubblewrap"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null 2>&1 || missing="$$missing chromium-driver"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ] && [ "$$(id -u)" = 0 ]; then \
	  echo "Installing$$missing"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; } >/dev/null \
	    || echo "WARNING: could not install$$missing (without bubblewrap grading falls back to unsandboxed subprocesses)"; \
	fi

# The grading sandbox runs as this unprivileged system user (no login, no home, no extra
# groups), so that its uid never maps to root. The engine only looks it up: without it,
# `nngrade grade --require-sandbox` refuses and plain grading warns loudly.
SANDBOX_USER ?= nngrade-sandbox
sandbox-user:
	@if [ "$$(id -u)" = 0 ]; then \
	  getent passwd $(SANDBOX_USER) >/dev/null || { \
	    echo "Creating the sandbox user $(SANDBOX_USER)"; \
	    useradd --system --user-group --no-create-home --home-dir /nonexistent \
	      --shell /usr/sbin/nologin --comment "nngrade grading sandbox" $(SANDBOX_USER); }; \
	elif ! getent passwd $(SANDBOX_USER) >/dev/null; then \
	  echo "WARNING: no sandbox user $(SANDBOX_USER); run 'make sandbox-user' as root"; \
	fi

## demo: the whole workflow on a synthetic class (build, grade, gradebook, report)
demo: setup
	$(BIN)/nngrade demo

## test: the suite without the tests marked slow (see the README's Tests section)
test: setup
	$(BIN)/pytest -m "not slow"

## test-slow: the tests marked slow: MNIST training, and problem sets 2 to 4 under otter and
## nbgrader. CI runs it after `make test`, so every test runs.
test-slow: setup
	$(BIN)/pytest -m slow

## test-all: both tiers in one session
test-all: setup
	$(BIN)/pytest

lint: venv
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) dist .pytest_cache .ruff_cache
