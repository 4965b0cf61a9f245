"""The PySide6 desktop app: a thin view over the Qt-free core (``album.catalog``,
``album.scan``, ``album.people``). Start it with ``album gui [FOLDER]``.

Modules: ``app`` (start-up), ``main_window``, ``pages`` (People, person, Review),
``dialogs`` (Same person?, photo viewer, Settings), ``models`` (item models and delegates),
``thumbs`` (lazy thumbnails), ``jobs`` (the one worker pattern), ``core`` (adapter over the
core and the job functions), ``probe`` (event-loop stall measurement).
"""
