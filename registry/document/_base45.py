"""Fast base45 decoding (RFC 9285) for the verifier's hot path.

The ``base45`` package does the encoding and is the reference; decoding character by character
costs about 30 us for a typical QR text, a sixth of a whole verification. Here the text is mapped
to digit values with ``bytes.translate`` and the groups are combined with C-level ``map`` calls and
one ``struct.pack``: about 12 us. A test checks both agree on random data and on invalid input.
The compiled twin (``_speedups.pyx``) takes about 0.5 us and is what :func:`b45decode` is when built.
"""

from __future__ import annotations

import operator
import struct
from collections.abc import Callable

from registry.document._accel import compiled_module

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_TO_DIGITS = bytes.maketrans(ALPHABET.encode("ascii"), bytes(range(45)))
_VALID = frozenset(ALPHABET)
_TIMES_45 = [45 * i for i in range(45)]
_TIMES_2025 = [2025 * i for i in range(45)]


def reference_b45decode(text: str) -> bytes:
    """Decode base45 text; raises ``ValueError`` on any invalid character, group or length (the
    pure-Python reference of the compiled :func:`b45decode`)."""
    if not _VALID.issuperset(text):
        raise ValueError("invalid base45 character")
    full, tail = divmod(len(text), 3)
    if tail == 1:
        raise ValueError("invalid base45 length")
    digits = text.encode("ascii").translate(_TO_DIGITS)
    end = full * 3
    values = list(
        map(
            operator.add,
            digits[0:end:3],
            map(
                operator.add, map(_TIMES_45.__getitem__, digits[1:end:3]), map(_TIMES_2025.__getitem__, digits[2:end:3])
            ),
        )
    )
    if values and max(values) > 0xFFFF:
        raise ValueError("invalid base45 group")
    out = struct.pack(f">{len(values)}H", *values)
    if tail == 2:
        last = digits[end] + 45 * digits[end + 1]
        if last > 0xFF:
            raise ValueError("invalid base45 group")
        out += bytes((last,))
    return out


def _chosen() -> Callable[[str], bytes]:
    module = compiled_module()
    return reference_b45decode if module is None else module.b45decode


#: Decode base45 text; raises ``ValueError`` on any invalid character, group or length: the
#: compiled decoder when built (about 0.5 us for a QR text), else :func:`reference_b45decode`.
b45decode = _chosen()
