"""The PySide6 desktop app: a thin view over the Qt-free core (``album.catalog``,
``album.scan``, ``album.people``). Start it with ``album gui [FOLDER]``.

Modules: ``app`` (start-up), ``main_window``, ``pages`` (People, person, Review),
``library`` (every photo, filtered by people), ``viewer`` (the photo viewer),
``dialogs`` (Same person?, Settings), ``models`` (item models and delegates),
``thumbs`` (lazy thumbnails), ``jobs`` (the one worker pattern), ``core`` (adapter over the
core and the job functions), ``quiet_import`` (loading the engine without stalling the
window), ``probe`` (event-loop stall measurement).
"""
