# Two commands matter: `make serve` and `make test` (see README).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INDEX_DIR ?= index
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: serve test index chromium clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# (setuptools prints a boxed notice about editable installs that reads like a failure; it is not)
QUIET := PYTHONWARNINGS=ignore

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(QUIET) $(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(QUIET) $(BIN)/pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed

# Browser tests drive Debian's chromium (Playwright's own download does not work here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing chromium and Arabic fonts with apt"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-core >/dev/null; }

index: $(VENV)/.installed
	@test -f $(INDEX_DIR)/CURRENT || $(BIN)/bahth index --index-dir $(INDEX_DIR)

serve: index
	$(BIN)/bahth serve --index-dir $(INDEX_DIR) --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-test chromium
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) build *.egg-info
