"""QR images of presentations (PNG and SVG), in alphanumeric mode at error-correction level M."""

from __future__ import annotations

import io

import segno

from registry.errors import ConfigurationError

__all__ = ["QrInfo", "qr_info", "render_png", "render_svg"]

#: Largest QR version this project produces (about 1,400 alphanumeric characters at level M).
MAX_VERSION = 25


class QrInfo:
    __slots__ = ("error", "mode", "version")

    def __init__(self, version: int, error: str, mode: str) -> None:
        self.version = version
        self.error = error
        self.mode = mode


def _make(text: str) -> segno.QRCode:
    if not isinstance(text, str) or not text:
        raise ConfigurationError("QR text must be a non-empty string")
    qr = segno.make_qr(text, error="m", boost_error=False, mode="alphanumeric")
    if qr.version is None or int(qr.version) > MAX_VERSION:
        raise ConfigurationError(f"the text needs QR version {qr.version}; at most {MAX_VERSION} is produced")
    return qr


def qr_info(text: str) -> QrInfo:
    """Version, error-correction level and mode the text is encoded with."""
    qr = _make(text)
    return QrInfo(int(qr.version), str(qr.error), str(qr.mode))


def render_png(text: str, *, scale: int = 6, border: int = 4) -> bytes:
    """PNG of the QR code (``scale`` pixels per module, ``border`` quiet-zone modules)."""
    if not 1 <= scale <= 40 or not 4 <= border <= 16:
        raise ConfigurationError("scale must be 1 to 40 pixels per module and border 4 to 16 modules")
    buffer = io.BytesIO()
    _make(text).save(buffer, kind="png", scale=scale, border=border)
    return buffer.getvalue()


def render_svg(text: str, *, scale: int = 4, border: int = 4) -> bytes:
    """SVG of the QR code."""
    if not 1 <= scale <= 40 or not 4 <= border <= 16:
        raise ConfigurationError("scale must be 1 to 40 units per module and border 4 to 16 modules")
    buffer = io.BytesIO()
    _make(text).save(buffer, kind="svg", scale=scale, border=border, xmldecl=False, title="e-license QR code")
    return buffer.getvalue()
