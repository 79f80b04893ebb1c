"""Reading QR codes from photos and scans (zxing-cpp), strictly bounded."""

from __future__ import annotations

import io
import warnings

import zxingcpp
from PIL import Image, UnidentifiedImageError

from registry.errors import RegistryError

__all__ = ["MAX_IMAGE_BYTES", "MAX_PIXELS", "QrImageError", "read_qr_image"]

#: Largest image file accepted.
MAX_IMAGE_BYTES = 10 * 1024 * 1024
#: Largest image accepted, in pixels (a 40-megapixel phone photo).
MAX_PIXELS = 40_000_000
_FORMATS = {"PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF"}


class QrImageError(RegistryError, ValueError):
    """The image cannot be read, is too large, or holds no QR code."""


def read_qr_image(data: bytes) -> str:
    """The text of the QR code in an image (PNG, JPEG, WebP, GIF, BMP or TIFF)."""
    if not isinstance(data, bytes | bytearray) or not data:
        raise QrImageError("the image is empty")
    if len(data) > MAX_IMAGE_BYTES:
        raise QrImageError(f"the image is {len(data)} bytes; at most {MAX_IMAGE_BYTES} are accepted")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in _FORMATS:
                raise QrImageError(f"{image.format} images are not accepted; send PNG, JPEG, WebP, GIF, BMP or TIFF")
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise QrImageError(f"the image is {width}x{height} pixels; at most {MAX_PIXELS:,} pixels are accepted")
            image.load()
    except QrImageError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise QrImageError("the file is not a readable image") from None
    pixels: Image.Image = image if image.mode in ("L", "RGB", "RGBA") else image.convert("RGB")
    results = zxingcpp.read_barcodes(pixels, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode))
    texts = [r.text for r in results if r.valid and r.text]
    if not texts:
        raise QrImageError("no QR code was found in the image; hold the code flat, in focus and filling the frame")
    if len(set(texts)) > 1:
        raise QrImageError("the image holds more than one QR code; show one license at a time")
    return texts[0]
