"""The PySide6 desktop app: a thin view over the Qt-free core (``album.catalog``,
``album.scan``, ``album.people``). Start it with ``album gui [FOLDER]``.

Modules: ``app`` (start-up), ``main_window`` (with ``people_ops``, ``window_jobs``,
``window_threads``, ``task_bar``), the pages ``people_page``, ``person_page``, ``review_page``
(and ``hidden_people``), ``library`` (every photo, filtered by people), ``viewer`` (the photo
viewer), ``dialogs`` (Same person?, Settings), the item models and delegates
(``people_model``, ``faces_model``, ``photos_model`` over ``thumb_list``, with ``roles``),
``thumbs`` (lazy thumbnails), ``jobs`` (the one worker pattern), ``core`` (adapter over the
core and the job functions), ``quiet_import`` (loading the engine without stalling the
window), ``probe`` (event-loop stall measurement).
"""
