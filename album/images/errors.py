"""Why a photo could not be opened: :class:`ImageError` and its user-facing wording.

Every module of :mod:`album.images` raises ImageError for bad input; the exception tuples
here say which low-level exceptions count as bad input (anything else is a bug and
propagates), and the helpers word them the same way for every format.
"""

from __future__ import annotations

import os
import struct
import zlib

# Exceptions Pillow (and its plugins) raise for bad *input* while opening or decoding.
# Anything else (TypeError, AttributeError, ...) is a bug and is allowed to propagate.
DECODE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    IndexError,
    struct.error,
    zlib.error,
)
# Exceptions a corrupt EXIF block may raise while being parsed; never fatal.
EXIF_ERRORS: tuple[type[BaseException], ...] = (*DECODE_ERRORS, TypeError, AttributeError)


class ImageError(Exception):
    """A photo could not be opened; ``reason`` is a short user-facing explanation.

    ``str(exc)`` is the reason. ``path`` is the file concerned (or ``None``). The original
    low-level exception, if any, is chained as ``__cause__``.
    """

    def __init__(self, reason: str, path: str | os.PathLike[str] | bytes | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path

    def __str__(self) -> str:
        return self.reason


def decode_error(e: BaseException, fmt: str | None, fspath: str | bytes) -> ImageError:
    """Word a decode-time exception as an ImageError."""
    name = pretty(fmt) if fmt else "image"
    if isinstance(e, OSError) and e.errno is not None:  # a real I/O error, not bad data
        return ImageError(f"read error ({e.strerror or e})", fspath)
    if isinstance(e, EOFError) or "truncated" in str(e).lower():
        return ImageError(f"truncated {name} file", fspath)
    return ImageError(f"corrupt {name} file", fspath)


def pretty(fmt: str) -> str:
    """A Pillow format name as users know it ("WebP", "HEIC/HEIF", ...)."""
    return {"WEBP": "WebP", "HEIF": "HEIC/HEIF", "MPO": "JPEG"}.get(fmt, fmt)


def megapixels(pixels: int) -> str:
    """Pixel count in megapixels for messages: '250 MP', '24 MP', '0.5 MP'."""
    mp = pixels / 1e6
    if mp >= 10:
        return f"{mp:.0f} MP"
    return f"{mp:.2g} MP"


def too_large(pixels: int, max_pixels: int, fspath: str | bytes) -> ImageError:
    """The refusal of an image over the caller's ``max_pixels`` limit."""
    return ImageError(
        f"image too large ({megapixels(pixels)} > {megapixels(max_pixels)} limit)", fspath
    )
