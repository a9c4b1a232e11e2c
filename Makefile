# The two Quick start commands: `make demo` and `make test`.
# Both create .venv on first use and install the project into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench clean

$(BIN)/monitor: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

demo: $(BIN)/monitor
	$(BIN)/monitor demo

test: $(BIN)/monitor
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest

bench: $(BIN)/monitor
	$(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) *.egg-info monitor.db* monitor-demo.db* monitor-digest.eml monitor-digest.html
