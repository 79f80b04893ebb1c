"""A strict, schema-directed reader of canonical CBOR (RFC 8949), for formats with a fixed shape.

The caller asks for each item in turn (an array of a given length, an unsigned integer in a range, a
byte string, a text string, a map's size, null-or-integer) and the reader checks, at that position
and nowhere else, that the next head has the major type asked for and is canonical:

- the head's argument is in its shortest form (core deterministic encoding, RFC 8949 section 4.2.1);
- lengths are definite and within the remaining input;
- text strings are valid UTF-8 (strict: no surrogates, no overlong forms);
- integers lie in the range asked for.

Anything else is refused where it is met, with its byte offset: tags (major type 6; this reader
knows none), floats, booleans, undefined and other simple values (null only where asked for),
indefinite lengths, reserved additional information, break codes, truncation, trailing bytes. No
item is built that the schema did not ask for, so the cost is one pass over the input at most.
"""

from __future__ import annotations

__all__ = ["CBORFormatError", "StrictReader"]

_KINDS = (
    "an unsigned integer",
    "a negative integer",
    "a byte string",
    "a text string",
    "an array",
    "a map",
    "a tag (CBOR major type 6; this format has no tags)",
    "a simple value",
)
_SIMPLE = {
    0xF4: "false",
    0xF5: "true",
    0xF6: "null",
    0xF7: "undefined",
    0xF9: "a half-precision float",
    0xFA: "a single-precision float",
    0xFB: "a double-precision float",
    0xFF: "a break code outside any indefinite-length item (not valid CBOR)",
}
_UINT64 = 2**64 - 1


class CBORFormatError(ValueError):
    """The bytes are not the canonical CBOR item the schema asks for; the message says what was
    expected, what was found and where."""


def describe(initial: int) -> str:
    """What an initial byte starts, in words."""
    major, info = initial >> 5, initial & 31
    if major == 7:
        if initial in _SIMPLE:
            return _SIMPLE[initial]
        return "a reserved simple-value encoding (not valid CBOR)" if info >= 28 else "a simple value"
    if 28 <= info <= 30:
        return f"reserved additional information {info} (not valid CBOR)"
    if info == 31:
        if major in (2, 3, 4, 5):
            return "an indefinite-length " + _KINDS[major].split(" ", 1)[1]
        return f"additional information 31 on {_KINDS[major]} (not valid CBOR)"
    return _KINDS[major]


def _expected(expected: str | tuple[int, int]) -> str:
    return expected if isinstance(expected, str) else f"an integer from {expected[0]} to {expected[1]}"


class StrictReader:
    """Reads one canonical CBOR item, piece by piece, as a schema directs.

    Each method reads the next item at :attr:`pos` and moves past it; ``what`` names the item in
    messages. The common short heads take a fast path; :meth:`_head` decides every other case.
    """

    __slots__ = ("_data", "_end", "pos")

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._end = len(data)
        self.pos = 0

    # -- heads ---------------------------------------------------------------------------------------

    def _head(self, major: int, what: str, expected: str | tuple[int, int]) -> int:
        """The argument of the head at the current position, which must be of ``major`` type."""
        pos = self.pos
        if pos >= self._end:
            raise CBORFormatError(
                f"the payload is not valid CBOR: it ends where {what} should be ({_expected(expected)})"
            )
        initial = self._data[pos]
        info = initial & 31
        if initial >> 5 != major or info > 27:
            raise CBORFormatError(f"{what} must be {_expected(expected)}; found {describe(initial)} at byte {pos}")
        if info < 24:
            self.pos = pos + 1
            return info
        size = 1 << (info - 24)  # 1, 2, 4 or 8 bytes follow
        start = pos + 1
        if start + size > self._end:
            raise CBORFormatError(f"the payload is not valid CBOR: the head of {what} at byte {pos} is cut off")
        value = int.from_bytes(self._data[start : start + size], "big")
        if value < (24 if size == 1 else 1 << (4 * size)):
            raise CBORFormatError(
                f"the CBOR payload is not in its canonical encoding: {what} at byte {pos} has a non-minimal "
                f"head ({value} written in {size} extra bytes)"
            )
        self.pos = start + size
        return value

    def null(self) -> bool:
        """Read a null if one is next: true when it was (the position is unchanged otherwise)."""
        if self.pos < self._end and self._data[self.pos] == 0xF6:
            self.pos += 1
            return True
        return False

    # -- items ---------------------------------------------------------------------------------------

    def array(self, length: int, what: str, expected: str) -> None:
        """An array head of exactly ``length`` elements (the elements are read next)."""
        pos = self.pos
        if self._head(4, what, expected) != length:
            raise CBORFormatError(f"{what} must be {expected}; found an array of another length at byte {pos}")

    def array_head(self, most: int, what: str, expected: str) -> int:
        """An array head of at most ``most`` elements; returns the number of elements (read next).
        A longer count is refused here, before anything is read or allocated for its elements."""
        pos = self.pos
        count = self._head(4, what, expected)
        if count > most:
            raise CBORFormatError(f"{what} must be {expected}; found an array of {count} elements at byte {pos}")
        return count

    def map(self, most: int, what: str, expected: str) -> int:
        """A map head of at most ``most`` entries; returns the number of entries (read next)."""
        pos = self.pos
        count = self._head(5, what, expected)
        if count > most:
            raise CBORFormatError(f"{what} must be {expected}; found a map of {count} entries at byte {pos}")
        return count

    def uint(self, what: str, low: int = 0, high: int = _UINT64) -> int:
        """An unsigned integer from ``low`` to ``high``."""
        pos = self.pos
        if pos < self._end and (value := self._data[pos]) < 24:
            self.pos = pos + 1
        else:
            value = self._head(0, what, (low, high))
        if not low <= value <= high:
            raise CBORFormatError(f"{what} must be an integer from {low} to {high}; found {value} at byte {pos}")
        return value

    def integer(self, what: str, low: int, high: int) -> int:
        """An integer (unsigned or negative) from ``low`` to ``high``."""
        pos = self.pos
        if pos < self._end and self._data[pos] >> 5 == 1:
            value = -1 - self._head(1, what, (low, high))
        else:
            value = self._head(0, what, (low, high))
        if not low <= value <= high:
            raise CBORFormatError(f"{what} must be an integer from {low} to {high}; found {value} at byte {pos}")
        return value

    def _string(self, major: int, what: str, expected: str) -> bytes:
        pos = self.pos
        if pos < self._end and (initial := self._data[pos]) >> 5 == major and initial & 31 < 24:
            length = initial & 31
            start = pos + 1
        else:
            length = self._head(major, what, expected)
            start = self.pos
        end = start + length
        if end > self._end:
            raise CBORFormatError(
                f"the payload is not valid CBOR: {what} at byte {pos} is longer than the rest of the payload"
            )
        self.pos = end
        return self._data[start:end]

    def byte_string(self, what: str, expected: str = "a byte string") -> bytes:
        """A byte string."""
        return self._string(2, what, expected)

    def text_string(self, what: str, expected: str = "a text string") -> str:
        """A text string of valid UTF-8."""
        pos = self.pos
        raw = self._string(3, what, expected)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise CBORFormatError(f"{what} at byte {pos} is not valid UTF-8") from None

    def end(self, what: str) -> None:
        """Nothing may follow the item."""
        if self.pos != self._end:
            raise CBORFormatError(f"{self._end - self.pos} bytes follow {what} at byte {self.pos}; nothing may")
