"""The five verbs of ``album.api``, as the README's "Five lines of Python" uses them, on real
LFW photos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from album import api
from album.images import ImageError


def test_five_lines_of_python(lfw: Path) -> None:
    a = api.load_image(lfw / "Colin_Powell" / "Colin_Powell_0001.jpg")
    b = api.load_image(lfw / "Colin_Powell" / "Colin_Powell_0002.jpg")
    c = api.load_image(lfw / "Serena_Williams" / "Serena_Williams_0001.jpg")
    assert a.dtype == np.uint8 and a.shape[2] == 3
    fa, fb, fc = api.detect(a), api.detect(b), api.detect(c)
    assert fa and fb and fc
    left, top, right, bottom = fa[0].box
    assert 0 <= left < right <= a.shape[1] and 0 <= top < bottom <= a.shape[0]
    ea, eb, ec = api.embed(a, fa[:1]), api.embed(b, fb[:1]), api.embed(c, fc[:1])
    assert np.allclose(np.linalg.norm(ea, axis=1), 1.0, atol=1e-5)
    assert api.distance(ea[0], eb[0]) < api.distance(ea[0], ec[0])
    assert api.same_person(ea[0], eb[0]) and not api.same_person(ea[0], ec[0])
    # one against many
    assert api.same_person(ea[0], np.stack([eb[0], ec[0]])).tolist() == [True, False]


def test_a_file_that_is_not_a_photo_says_so(tmp_path: Path) -> None:
    bad = tmp_path / "notes.jpg"
    bad.write_text("not a photo")
    with pytest.raises(ImageError):
        api.load_image(bad)
