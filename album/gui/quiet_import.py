"""Importing the engine (torch, torchvision, scipy) in a worker thread without stalling the GUI
thread. Three things hold the GIL for long stretches while such packages import, so the window
freezes whichever thread imports them:

- The dynamic loader. The import system loads an extension module's shared libraries holding
  the GIL (torch's libtorch_cpu and libtorch_cuda: 0.5-0.7 s). ``preload_libraries`` loads
  them first through libc's ``dlopen`` called via ctypes, a foreign call that releases the
  GIL; the import then finds them loaded.
- Star imports of modules whose classes are made on first use. PySide6 makes each class
  the first time it is looked up; ``from PySide6.QtCore import *`` (qtpy's, which superqt
  imports) makes all of them in one bytecode, 60-90 ms per module without a GIL switch.
  ``make_classes`` looks them up one by one first, letting other threads run in between.
- The cyclic garbage collector. The imports create millions of objects and every full
  collection walks all of them (0.1-0.3 s each, four or so during torch's import).
  ``quiet_imports`` pauses it, then freezes what exists (``gc.freeze``) so later collections
  skip it: imported modules live as long as the process anyway.

Qt-free; measured with ``python -m album.gui.bench`` (the stall while the core loads).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import importlib.util
import logging
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)

# Extension libraries whose loading is long, by package; loading one loads what it links.
LIBRARIES = {"torch": "_C.*", "torchvision": "_C.*", "triton": "_C/libtriton.*"}


def preload_libraries(libraries: dict[str, str] = LIBRARIES) -> list[Path]:
    """Load each package's libraries (a glob in its folder) without holding the GIL, with the
    flags the import system uses; packages already imported or not installed are skipped.
    Returns what was loaded. A failure is left to the import, which reports it in words."""
    try:
        dlopen = ctypes.CDLL(None).dlopen  # POSIX; absent on Windows
    except (OSError, AttributeError, TypeError):
        return []
    dlopen.restype = ctypes.c_void_p
    dlopen.argtypes = [ctypes.c_char_p, ctypes.c_int]
    loaded = []
    for package, pattern in libraries.items():
        if package in sys.modules:
            continue
        spec = importlib.util.find_spec(package)  # finds the folder without importing
        if spec is None or not spec.submodule_search_locations:
            continue
        for path in sorted(Path(next(iter(spec.submodule_search_locations))).glob(pattern)):
            if path.suffix not in (".so", ".dylib") and ".so." not in path.name:
                continue
            if dlopen(os.fsencode(path), sys.getdlopenflags()):
                loaded.append(path)
            else:
                log.debug("could not preload %s", path)
    return loaded


# Modules made lazily whose star import would make them all at once, when already imported.
LAZY_MODULES = ("PySide6.QtCore", "PySide6.QtGui", "PySide6.QtWidgets")


def make_classes(modules: tuple[str, ...] = LAZY_MODULES) -> int:
    """Look up every public name of each module already imported, one name per lookup, so
    that a later star import finds them made; returns how many names were looked up."""
    n = 0
    for name in modules:
        module = sys.modules.get(name)
        if module is None:
            continue
        for attr in getattr(module, "__all__", None) or dir(module):
            if not attr.startswith("_"):
                getattr(module, attr, None)
                n += 1
    return n


_inside = threading.local()  # this thread is within quiet_imports()


@contextlib.contextmanager
def quiet_imports() -> Iterator[None]:
    """Run heavy imports inside: libraries preloaded, the garbage collector paused, and what
    they created frozen out of later collections. Nested inside another, it adds nothing."""
    if getattr(_inside, "yes", False):
        yield
        return
    enabled = gc.isenabled()
    gc.disable()
    _inside.yes = True
    try:
        preload_libraries()
        yield
    finally:
        _inside.yes = False
        gc.freeze()
        if enabled:
            gc.enable()
