"""Loading the engine without stalling the window (album.gui.quiet_import): the shared
libraries loaded before the import, the garbage collector paused, then frozen."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap

import pytest

from album.gui.quiet_import import preload_libraries, quiet_imports

pytest.importorskip("torch")


def test_torch_libraries_load_before_its_import_and_the_import_uses_them() -> None:
    # A fresh process: this one may have imported torch already (then nothing is preloaded).
    code = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from album.gui.quiet_import import preload_libraries

        loaded = preload_libraries({"torch": "_C.*", "no_such_package": "*"})
        maps = Path("/proc/self/maps").read_text()
        assert "torch" not in sys.modules
        print(*(p.name for p in loaded))
        print("libtorch_cpu mapped:", "libtorch_cpu" in maps)
        import torch
        print("tensor:", int(torch.ones(3).sum()))
        print("again:", preload_libraries({"torch": "_C.*"}))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True
    ).stdout.splitlines()
    assert out[0].startswith("_C.") and out[0].endswith(".so")
    if sys.platform.startswith("linux"):
        assert out[1] == "libtorch_cpu mapped: True"  # loaded with what it links
    assert out[2:] == ["tensor: 3", "again: []"]  # imported packages are left alone


def test_collector_paused_inside_then_frozen_and_restored() -> None:
    assert gc.isenabled()
    try:
        with quiet_imports():
            assert not gc.isenabled()
            made = [[] for _ in range(1000)]
        assert gc.isenabled()
        assert gc.get_freeze_count() >= len(made)  # skipped by later collections
        with pytest.raises(ValueError), quiet_imports():  # restored on failure too
            raise ValueError
        assert gc.isenabled()
    finally:
        gc.unfreeze()


def test_nothing_to_preload_where_no_package_matches() -> None:
    assert preload_libraries({"no_such_package_at_all": "*"}) == []
    assert preload_libraries({"pytest": "no-such-library.*"}) == []


def test_classes_made_one_by_one_before_a_star_import_of_modules_already_imported() -> None:
    # A fresh process: PySide6 makes a class on its first lookup (then it is in the module's
    # namespace); a module that is not imported stays so.
    pytest.importorskip("PySide6")
    code = textwrap.dedent(
        """
        import sys
        import PySide6.QtGui as gui
        from album.gui.quiet_import import make_classes

        public = [n for n in dir(gui) if not n.startswith("_")]
        print(sum(n not in vars(gui) for n in public) > 100)
        print(make_classes(("PySide6.QtGui", "PySide6.QtSvg")) == len(public))
        print([n for n in public if n not in vars(gui)], "PySide6.QtSvg" in sys.modules)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    ).stdout.splitlines()
    assert out == ["True", "True", "[] False"]


def test_nested_quiet_imports_preload_once_and_the_outer_one_restores(monkeypatch) -> None:
    # The app's loader wraps the engine's warm-up, which has its own quiet_imports().
    from album.gui import quiet_import

    calls = []
    monkeypatch.setattr(quiet_import, "preload_libraries", lambda: calls.append(1))
    try:
        with quiet_imports():
            with quiet_imports():
                assert not gc.isenabled()
            assert not gc.isenabled()  # the inner one left the collector paused
        assert gc.isenabled()
        assert calls == [1]
    finally:
        gc.unfreeze()
