# The two Quick start commands: `make demo` and `make test`.
# Both create .venv on first use and install the project into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench train vectors clean
# Where the public training sets and Davidson's tweets are kept (never copied into the repository).
SHARED ?= ../shared

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

# The filter's model: monitor/filter/model/ from training/corpus and the public sets (see docs/model.md).
train: $(BIN)/monitor
	$(BIN)/pip install --quiet -e '.[train]'
	$(BIN)/python -m training.train --shared $(SHARED)

# The word vectors the model reads (monitor/filter/model/vectors.npz), from a sentence model; run before
# `make train` when the corpus gains many new words. Needs PyTorch (see docs/model.md).
vectors: $(BIN)/monitor
	$(BIN)/pip install --quiet -e '.[vectors]'
	$(BIN)/python -m training.distil --shared $(SHARED)

bench: $(BIN)/monitor
	$(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) *.egg-info monitor.db* monitor-demo.db* monitor-digest.eml monitor-digest.html
