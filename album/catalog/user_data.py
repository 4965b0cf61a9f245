"""The user-data rules, in one place: what the user decided must survive rescans, regrouping,
model changes and crashes. Each is an SQL condition for the places that delete or rewrite.

- A face carries user data when a "this is" / "not this" assignment, a "same" / "not the
  same" answer, or a person's cover points at it: a scan's sweep of faces whose photo is gone
  keeps it.
- A person is machine data (a cluster regrouping may drop) only when clustering made it and the
  user never touched it: no name, not hidden, no cover, no birth date, not merged, nothing
  merged into it, and no confirmed or rejected face.
"""

from __future__ import annotations

FACE_HAS_USER_DATA = (
    "(EXISTS (SELECT 1 FROM assignments a WHERE a.face_id = faces.id "
    "AND a.source IN ('confirmed', 'rejected')) "
    "OR EXISTS (SELECT 1 FROM constraints c WHERE c.face_a = faces.id OR c.face_b = faces.id) "
    "OR EXISTS (SELECT 1 FROM people p WHERE p.cover_face_id = faces.id))"
)

MACHINE_CLUSTERS = """
    SELECT p.id FROM people p
    WHERE p.origin = 'cluster' AND p.name IS NULL AND p.hidden = 0
      AND p.cover_face_id IS NULL AND p.merged_into IS NULL AND p.birth_date IS NULL
      AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.person_id = p.id
                      AND a.source IN ('confirmed', 'rejected'))
      AND NOT EXISTS (SELECT 1 FROM people q WHERE q.merged_into = p.id)
"""
