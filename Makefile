# Set-up is part of every target: the first run builds .venv, later runs reuse it.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FOLDER ?=
ARGS ?= gui $(FOLDER)

.PHONY: setup run test test-tools lint bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	$(PY) -m venv $(VENV)
	# torch/torchvision pinned: these exact builds are the ones this project is tested with.
	$(BIN)/pip install -q torch==2.14.1 torchvision==0.29.1
	$(BIN)/pip install -q -e '.[test]'
	# facenet-pytorch's published pins (torch<2.3, numpy<2, Pillow<10.3) are obsolete; its
	# real runtime needs are declared in pyproject.toml. Installed last and without its
	# dependencies: pip checks the pins of installed packages whenever it installs something
	# they depend on, so installed earlier its pins were reported as a resolver conflict.
	$(BIN)/pip install -q --no-deps facenet-pytorch==2.6.0
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/album $(ARGS)

test: $(STAMP) test-tools
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -m "not slow" -q

# exiftool is the reference the XMP interoperability tests check against. Installed when
# missing and possible (root with apt-get, as in CI); otherwise those tests skip and say why.
test-tools:
	@command -v exiftool >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && apt-get install -y -qq libimage-exiftool-perl >/dev/null \
	      || echo "could not install exiftool: XMP tests will skip"; \
	  else \
	    echo "exiftool not found: XMP tests will skip (install libimage-exiftool-perl)"; \
	  fi; }

bench: $(STAMP)
	$(BIN)/album bench engine --data ../shared/datasets/lfw

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
