"""Reading QR codes from photos and scans (zxing-cpp), strictly bounded.

An image is checked before its pixels are decoded: the file size, the format (only the formats
listed, so no other image plugin ever parses the bytes) and the declared dimensions. A QR code
needs far fewer pixels than a camera takes: a version-25 code is 125 modules wide with its quiet
zone, read reliably at 4 pixels per module, so 500 x 500 pixels; :data:`MAX_PIXELS` (2048 x 2048)
leaves room for a code filling a quarter of a photo's width. JPEG photos of up to 64 times that
(:data:`MAX_JPEG_PIXELS`) are scaled down while decoding (libjpeg's 1/2, 1/4, 1/8 scaling,
straight to grayscale), which costs a fraction of decoding them whole; progressive JPEGs, whose
decoder buffers the whole image whatever the scale, are held to :data:`MAX_PROGRESSIVE_PIXELS`;
other formats beyond :data:`MAX_PIXELS` are refused before decoding. Pixels are read as 8-bit
grayscale, what the QR reader works on.
"""

from __future__ import annotations

import io
import warnings

import zxingcpp
from PIL import Image, UnidentifiedImageError

from registry.errors import RegistryError

__all__ = [
    "MAX_IMAGE_BYTES",
    "MAX_JPEG_PIXELS",
    "MAX_PIXELS",
    "MAX_PROGRESSIVE_PIXELS",
    "QrImageError",
    "read_qr_image",
]

#: Largest image file accepted.
MAX_IMAGE_BYTES = 10 * 1024 * 1024
#: Most pixels decoded from one image (2048 x 2048; 4 MB as grayscale).
MAX_PIXELS = 2048 * 2048
#: Largest JPEG accepted, in declared pixels (a 50-megapixel photo; decoded at 1/2 to 1/8 scale).
MAX_JPEG_PIXELS = 80_000_000
#: Largest progressive JPEG: its decoder buffers every coefficient of the whole image (2 bytes per
#: pixel and component) whatever the scale, so it is held to a 12-megapixel photo.
MAX_PROGRESSIVE_PIXELS = 3 * MAX_PIXELS
_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF")
_QR = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)


class QrImageError(RegistryError, ValueError):
    """The image cannot be read, is too large, or holds no QR code."""

    http_status = 422
    title = "Unreadable image"


def _open(data: bytes) -> Image.Image:
    """The image, decoded to grayscale within :data:`MAX_PIXELS`."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = Image.open(io.BytesIO(data), formats=_FORMATS)
        width, height = image.size
        if image.format == "JPEG":
            progressive = bool(image.info.get("progressive") or image.info.get("progression"))
            limit = MAX_PROGRESSIVE_PIXELS if progressive else MAX_JPEG_PIXELS
            if width * height > limit:
                kind = "progressive JPEG" if progressive else "photo"
                raise QrImageError(f"the {kind} is {width}x{height} pixels; at most {limit:,} pixels are accepted")
            scale = 1
            while scale < 8 and (width // scale) * (height // scale) > MAX_PIXELS:
                scale *= 2
            image.draft("L", (width // scale, height // scale))
        elif width * height > MAX_PIXELS:
            raise QrImageError(
                f"the image is {width}x{height} pixels; at most {MAX_PIXELS:,} pixels (2048 x 2048) are "
                "accepted: scale it down or send a JPEG photo"
            )
        if image.size[0] * image.size[1] > MAX_PIXELS:
            raise QrImageError(f"the image is {width}x{height} pixels; at most {MAX_PIXELS:,} pixels are accepted")
        image.load()
    return image if image.mode == "L" else image.convert("L")


def read_qr_image(data: bytes) -> str:
    """The text of the QR code in an image (PNG, JPEG, WebP, GIF, BMP or TIFF)."""
    if not isinstance(data, bytes | bytearray) or not data:
        raise QrImageError("the image is empty")
    if len(data) > MAX_IMAGE_BYTES:
        raise QrImageError(f"the image is {len(data)} bytes; at most {MAX_IMAGE_BYTES} are accepted")
    try:
        pixels = _open(bytes(data))
    except QrImageError:
        raise
    except (
        UnidentifiedImageError,
        OSError,
        ValueError,
        SyntaxError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ):
        raise QrImageError("the file is not a readable image (PNG, JPEG, WebP, GIF, BMP or TIFF)") from None
    results = zxingcpp.read_barcodes(pixels, formats=_QR)
    texts = [r.text for r in results if r.valid and r.text]
    if not texts:
        raise QrImageError("no QR code was found in the image; hold the code flat, in focus and filling the frame")
    if len(set(texts)) > 1:
        raise QrImageError("the image holds more than one QR code; show one license at a time")
    return texts[0]
