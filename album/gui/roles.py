"""The item data roles that the app's item models answer and its views and pages ask, shared
so that a page can read a row of any model (of the People, faces or photos grids) by role."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt

PersonIdRole = Qt.ItemDataRole.UserRole + 1
CountRole = Qt.ItemDataRole.UserRole + 2
NameRole = Qt.ItemDataRole.UserRole + 3
FaceIdRole = Qt.ItemDataRole.UserRole + 4
SourceRole = Qt.ItemDataRole.UserRole + 5
PhotoIdRole = Qt.ItemDataRole.UserRole + 6
HeadingRole = Qt.ItemDataRole.UserRole + 7
SectionRole = Qt.ItemDataRole.UserRole + 8  # the "More people" row: its Section
FoldedRole = Qt.ItemDataRole.UserRole + 9  # a person under "More people"

# An index of a model or of a proxy over it (as Qt passes them to models and delegates).
Index = QModelIndex | QPersistentModelIndex
