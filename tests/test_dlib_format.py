"""The dlib file reader: primitive encodings and the real packaged network file."""

from __future__ import annotations

import pytest

from models.dlib_format import DlibFormatError, _Reader, read_dlib_net
from models.dlib_resnet import default_weights_path


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (b"\x01\x00", 0),
        (b"\x01\x01", 1),
        (b"\x01\x80", 128),
        (b"\x02\x00\x01", 256),
        (b"\x02\x80\x12", 4736),
        (b"\x81\x11", -17),
    ],
)
def test_integer_encoding(raw: bytes, value: int) -> None:
    r = _Reader(raw)
    assert r.integer() == value
    assert r.pos == len(raw)


@pytest.mark.parametrize(("raw", "value"), [(b"\x01\x10\x81\x04", 1.0), (b"\x01\x00\x01\x00", 0.0)])
def test_scalar_is_mantissa_then_exponent(raw: bytes, value: float) -> None:
    assert _Reader(raw).scalar() == value


@pytest.mark.parametrize("raw", [b"\x00", b"\x09" + b"\x00" * 9, b"\x31"])
def test_bad_integers_are_rejected(raw: bytes) -> None:
    with pytest.raises(DlibFormatError):
        _Reader(raw).integer()


def test_packaged_network_file_is_read_completely() -> None:
    net = read_dlib_net(default_weights_path())
    kinds = [layer.kind for layer in net.layers]
    assert len(kinds) == 108
    assert kinds.count("con_4") == 29 and kinds.count("affine_") == 29
    assert kinds.count("add_prev_") == 14 and kinds.count("avg_pool_2") == 5
    assert kinds.count("fc_2") == 1 and kinds.count("max_pool_2") == 1
    assert net.input_size == (150, 150)
    assert net.input_mean == pytest.approx((122.782, 117.001, 104.298), abs=1e-3)
    weights = sum(la.fields["params"].size for la in net.layers if "params" in la.fields)
    assert weights == 5_614_592


def test_truncated_file_raises(tmp_path) -> None:
    data = default_weights_path().read_bytes()
    bad = tmp_path / "cut.dat"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(DlibFormatError, match="ends early"):
        read_dlib_net(bad)
    extra = tmp_path / "extra.dat"
    extra.write_bytes(data + b"\x00")
    with pytest.raises(DlibFormatError, match="unread bytes"):
        read_dlib_net(extra)


def test_not_a_dlib_file(tmp_path) -> None:
    p = tmp_path / "x.dat"
    p.write_bytes(b"PK\x03\x04 not dlib at all")
    with pytest.raises(DlibFormatError):
        read_dlib_net(p)
