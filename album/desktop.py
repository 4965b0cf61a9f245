"""Putting the app in the desktop's menu: the freedesktop entry and icon (``album
install-desktop``), the version, and the start-up check that ``models`` and ``training`` are
album's own packages. Qt-free.

The entry and icons go to the user's XDG data directory (``$XDG_DATA_HOME``, else
``~/.local/share``): ``applications/album.desktop``, ``icons/hicolor/scalable/apps/album.svg``
and ``icons/hicolor/256x256/apps/album.png``. Menus watch that folder, so no cache needs
refreshing (the entry declares no MIME types).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import sys
from pathlib import Path

from album.resources import APP_ID, resource

OWN_TOP_LEVEL = ("models", "training")  # top-level packages album installs besides album
# A file of each that another project's package of the same name would not have.
_SIGNATURE = {"models": "registry.py", "training": "pipeline.py"}


def version() -> str:
    """The installed distribution's version ("unknown" when running from bare sources)."""
    try:
        return importlib.metadata.version("album")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def data_home() -> Path:
    """``$XDG_DATA_HOME`` (when absolute, as the spec requires), else ``~/.local/share``."""
    env = os.environ.get("XDG_DATA_HOME", "")
    return Path(env) if env and os.path.isabs(env) else Path.home() / ".local" / "share"


def installed_files(home: Path | None = None) -> list[Path]:
    """Where ``install`` puts the desktop entry and icons."""
    base = home or data_home()
    return [
        base / "applications" / f"{APP_ID}.desktop",
        base / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg",
        base / "icons" / "hicolor" / "256x256" / "apps" / f"{APP_ID}.png",
    ]


def launch_command() -> list[str]:
    """The command that starts this installation's app: its ``album`` script when that is
    what runs now (pip, pipx, a venv), else this interpreter with ``-m album``."""
    script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if script is not None and script.name == "album" and script.is_file():
        return [str(script.resolve()), "gui"]
    return [sys.executable, "-m", "album", "gui"]


def _exec_arg(arg: str) -> str:
    """One argument of a desktop entry's Exec key, quoted as the spec asks."""
    if arg and not any(c in arg for c in " \t\n\"'\\><~|&;$*?#()`"):
        return arg.replace("%", "%%")
    inner = "".join("\\" + c if c in '"`$\\' else c for c in arg)
    return '"' + inner.replace("%", "%%") + '"'


def desktop_entry(command: list[str]) -> str:
    """The packaged ``album.desktop`` with Exec/TryExec pointing at ``command``. Backslashes
    are doubled: the spec reads the value as an escaped string before splitting it."""
    exec_line = " ".join(_exec_arg(a) for a in command).replace("\\", "\\\\")
    lines = []
    for line in resource(f"{APP_ID}.desktop").read_text(encoding="utf-8").splitlines():
        if line.startswith("Exec="):
            line = f"Exec={exec_line}"
        elif line.startswith("TryExec="):
            line = f"TryExec={command[0]}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def install(home: Path | None = None, command: list[str] | None = None) -> list[Path]:
    """Write the desktop entry and icons into the user's data directory; returns the files."""
    entry, svg, png = installed_files(home)
    contents = [
        desktop_entry(command or launch_command()).encode("utf-8"),
        resource("icons", "app.svg").read_bytes(),
        resource("icons", "app.png").read_bytes(),
    ]
    for path, data in zip((entry, svg, png), contents, strict=True):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    return [entry, svg, png]


def uninstall(home: Path | None = None) -> list[Path]:
    """Remove what ``install`` wrote; returns the files that were there."""
    removed = []
    for path in installed_files(home):
        if path.is_file():
            path.unlink()
            removed.append(path)
    return removed


def shadowed_packages() -> list[str]:
    """Problems with album's own top-level packages (``models``, ``training``), in words: a
    package of the same name from somewhere else would be imported instead of album's (an
    installed distribution, or a folder on ``sys.path`` such as the current directory). Only
    locates the packages; nothing is imported."""
    root = Path(__file__).resolve().parent.parent  # the folder that holds album/
    problems = []
    for name in OWN_TOP_LEVEL:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        where = list(spec.submodule_search_locations or []) if spec else []
        if where and any(
            Path(w).resolve() == root / name and (Path(w) / _SIGNATURE[name]).is_file()
            for w in where
        ):
            continue
        found = f"the one in {where[0]}" if where else "a module that is not a package"
        if spec is None:
            found = "none at all"
        others = [
            d
            for d in importlib.metadata.packages_distributions().get(name, [])
            if d.lower() != "album"
        ]
        by = f" (installed by {', '.join(sorted(set(others)))})" if others else ""
        problems.append(
            f"album's package '{name}' should come from {root / name}, but Python finds "
            f"{found}{by}. Install album in an environment of its own (pipx install, or a "
            "virtual environment), or start it from another folder."
        )
    return problems
