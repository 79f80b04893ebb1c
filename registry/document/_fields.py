"""How the LC1 reader reads each field's packed value (:mod:`registry.document.presentation`):
the strict reader's per-field readers and the compiled reader's description of the same decisions."""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable

from registry.document._cbor import StrictReader
from registry.document.identifiers import FieldValueError, unpack_uscc
from registry.document.licensetypes import FIRST_DAY, LAST_DAY, MAX_MONEY, FieldKind, FieldSpec, check_text

__all__ = ["ValueReader", "canonical_text", "compiled_field", "issuer_code", "value_reader"]

_MAX_RIC = 10**17 - 1  # a resident identity number packs its 17 digits before the check character
_MAX_CODE = 999_999  # enumeration codes and six-digit region codes


ValueReader = Callable[[StrictReader], str | int]


def value_reader(spec: FieldSpec) -> ValueReader:
    """How one field's packed value (see :meth:`FieldSpec.pack`) is read: the CBOR type of its
    kind, the kind's range, then the checks :meth:`FieldSpec.unpack` makes (the same decisions:
    tests/test_strict_decoder.py compares them), giving the canonical value."""
    what = f"{spec.key} ({spec.zh})"
    unpack = spec.unpack
    kind = spec.kind
    if kind is FieldKind.TEXT:
        most = spec.max_length
        return lambda r: canonical_text(r.text_string(what, "text"), what, most)
    if kind is FieldKind.USCC:
        return lambda r: unpack(r.byte_string(what, "a packed unified social credit code (12 bytes)"))
    if kind is FieldKind.RIC:
        return lambda r: unpack(r.uint(what, 0, _MAX_RIC))
    if kind is FieldKind.REGION:
        return lambda r: unpack(r.uint(what, 0, _MAX_CODE))
    # Dates, amounts and enumeration codes: an integer in the kind's range is its own canonical
    # value (exactly what unpack returns for it); an enumeration code must also be one of the
    # choices, and unpack says which they are when it is not.
    if kind is FieldKind.DATE:
        return lambda r: r.integer(what, FIRST_DAY, LAST_DAY)
    if kind is FieldKind.MONEY:
        return lambda r: r.uint(what, 0, MAX_MONEY)
    codes = frozenset(c.code for c in spec.choices)

    def read_code(r: StrictReader) -> str | int:
        code = r.uint(what, 0, _MAX_CODE)
        return code if code in codes else unpack(code)

    return read_code


def canonical_text(text: str, what: str, most: int) -> str:
    """``text`` when it is a text field's canonical value, as :meth:`FieldSpec.unpack` decides:
    non-empty, at most ``most`` characters, printable (so the only whitespace it can hold is the
    ordinary space), no surrounding spaces, in NFC.

    Checked without normalising: NFC of a long run of combining marks out of canonical order costs
    time quadratic in its length (milliseconds for 2,000 marks), while the NFC quick check refuses
    such text at once, so every step here is linear and the slowest (quick check "maybe", then a
    full comparison) costs about 0.1 us per character.
    """
    check_text(text, what, most)
    if text.strip() != text or not unicodedata.is_normalized("NFC", text):
        raise FieldValueError(what, "is not in canonical form", "NFC text without surrounding spaces")
    return text


@functools.lru_cache(maxsize=4096)
def issuer_code(packed: bytes) -> str:
    # validated with python-stdnum; a verifier sees the same few issuers' codes constantly
    return unpack_uscc(packed, field="issuer")


def compiled_field(spec: FieldSpec, *, compact: bool = False) -> tuple[str, int, int, int, object]:
    """How the compiled reader reads one field: (key, kind, low, high, check), the same decisions
    as :func:`value_reader` (the kinds are those of ``_speedups.pyx``); ``compact``: as ``LC2:``
    carries it, text as GB 18030 bytes (:func:`registry.document._compact.unpack_text`). Text
    (:func:`canonical_text`, at most ``high`` characters) and credit codes (:meth:`FieldSpec.unpack`:
    the 18 characters of the packed base-31 number, form only) are decided in the compiled code."""
    kind = spec.kind
    if kind is FieldKind.TEXT:
        return spec.key, 1 if compact else 0, 0, spec.max_length, None
    if kind is FieldKind.USCC:
        return spec.key, 6, 0, 0, None
    if kind is FieldKind.RIC:
        return spec.key, 2, 0, _MAX_RIC, spec.unpack
    if kind is FieldKind.REGION:
        return spec.key, 2, 0, _MAX_CODE, spec.unpack
    if kind is FieldKind.DATE:
        return spec.key, 3, FIRST_DAY, LAST_DAY, None
    if kind is FieldKind.MONEY:
        return spec.key, 4, 0, MAX_MONEY, None
    return spec.key, 5, 0, _MAX_CODE, frozenset(c.code for c in spec.choices)
