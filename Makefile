# Set-up is part of every target: the first run builds .venv, later runs reuse it.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FOLDER ?=
ARGS ?= gui $(FOLDER)

.PHONY: setup run test lint bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	$(PY) -m venv $(VENV)
	# torch/torchvision pinned: these exact builds are the ones this project is tested with.
	$(BIN)/pip install -q torch==2.14.1 torchvision==0.29.1
	# facenet-pytorch's published pins (torch<2.3, numpy<2, Pillow<10.3) are obsolete; its
	# real runtime needs are declared in pyproject.toml.
	$(BIN)/pip install -q --no-deps facenet-pytorch==2.6.0
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/album $(ARGS)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -m "not slow" -q

bench: $(STAMP)
	$(BIN)/album bench engine --data ../shared/datasets/lfw

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
