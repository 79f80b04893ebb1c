"""Chinese identifiers, validated with python-stdnum, and their packed forms for QR codes.

- Unified social credit codes (统一社会信用代码, GB 32100): ``stdnum.cn.uscc``.
- Resident identity numbers (公民身份号码, GB 11643): ``stdnum.cn.ric``.
- Administrative division codes (GB/T 2260): python-stdnum's ``cn/loc`` database.
- E-license identifiers (电子证照标识): license-type code, issuer's unified social credit code,
  serial, version and an ISO 7064 MOD 37,36 check character (``stdnum.iso7064.mod_37_36``).

Every validation error is a :class:`FieldValueError` naming the field, what is wrong with the value
and the expected form.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from stdnum import numdb
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError
from stdnum.iso7064 import mod_37_36

from registry.document._accel import compiled_module
from registry.errors import RegistryError

__all__ = [
    "FieldValueError",
    "LicenseIdentifier",
    "issuer_id_from_uscc",
    "pack_ric",
    "pack_uscc",
    "region_name",
    "unpack_ric",
    "unpack_uscc",
    "uscc_from_issuer_id",
    "validate_region",
    "validate_ric",
    "validate_uscc",
]

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100: no I, O, S, V, Z
_TYPE_CODE = re.compile(r"^[A-Z]{2}$")
SERIAL_DIGITS = 8
VERSION_DIGITS = 2
MAX_SERIAL = 10**SERIAL_DIGITS - 1
MAX_VERSION = 10**VERSION_DIGITS - 1
IDENTIFIER_LENGTH = 2 + 18 + SERIAL_DIGITS + VERSION_DIGITS + 1


class FieldValueError(RegistryError, ValueError):
    """A value does not have the expected form; ``field`` names where it came from."""

    http_status = 422
    title = "Invalid field value"

    def __init__(self, field: str, problem: str, expected: str) -> None:
        self.field = field
        self.problem = problem
        self.expected = expected
        super().__init__(f"{field}: {problem}; expected {expected}")


@lru_cache(maxsize=4096)
def _valid_uscc(code: str) -> str:
    # python-stdnum's validation costs about 20 us; verifiers see the same issuers' codes constantly
    return str(uscc.validate(code))


def validate_uscc(value: object, *, field: str = "unified social credit code") -> str:
    """A valid 18-character unified social credit code (upper case)."""
    if not isinstance(value, str):
        raise FieldValueError(field, f"got {type(value).__name__}", "an 18-character unified social credit code")
    try:
        return _valid_uscc(value.strip().upper())
    except ValidationError as exc:
        raise FieldValueError(
            field, f"{value!r} is not valid ({exc})", "an 18-character unified social credit code (GB 32100)"
        ) from None


def validate_ric(value: object, *, field: str = "resident identity number") -> str:
    """A valid 18-character resident identity number (upper-case X check character)."""
    if not isinstance(value, str):
        raise FieldValueError(field, f"got {type(value).__name__}", "an 18-character resident identity number")
    try:
        return str(ric.validate(value.strip().upper()))
    except ValidationError as exc:
        raise FieldValueError(
            field, f"{value!r} is not valid ({exc})", "an 18-character resident identity number (GB 11643)"
        ) from None


_LOC = numdb.get("cn/loc")


def _current_name(entry: str) -> str:
    """``[1983-1989]南头区办事处,[1990-]南山区`` -> ``南山区`` (the database notes names by period)."""
    latest = entry.rsplit(",", maxsplit=1)[-1]
    return re.sub(r"^\[[0-9-]*\]", "", latest)


def region_name(code: int) -> str | None:
    """Name of a GB/T 2260 administrative division (``None`` when unknown)."""
    parts = _LOC.info(f"{code:06d}") if 100000 <= code <= 999999 else []
    if len(parts) != 2 or not parts[0][1] or not parts[1][1]:
        return None
    province = _current_name(str(parts[0][1].get("province", "")))
    county = _current_name(str(parts[1][1].get("county", "")))
    if code % 10000 == 0 or county == province:
        return province
    return province + county if county not in ("市辖区", "县") else province


def validate_region(value: object, *, field: str = "region") -> int:
    """A known six-digit GB/T 2260 administrative division code."""
    expected = "a six-digit GB/T 2260 administrative division code such as 110000"
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 100000 <= value <= 999999:
        raise FieldValueError(field, f"{value!r} is not a six-digit code", expected)
    if region_name(value) is None:
        raise FieldValueError(field, f"{value} is not a known administrative division", expected)
    return value


def issuer_id_from_uscc(code: str) -> bytes:
    """An issuer's on-chain id: its unified social credit code in ASCII, zero-padded to 32 bytes."""
    return validate_uscc(code, field="issuer").encode("ascii").ljust(32, b"\x00")


def uscc_from_issuer_id(issuer_id: bytes) -> str | None:
    """Inverse of :func:`issuer_id_from_uscc` (``None`` when the id is not of that form)."""
    if len(issuer_id) != 32 or issuer_id[18:] != b"\x00" * 14:
        return None
    try:
        return validate_uscc(issuer_id[:18].decode("ascii"))
    except (UnicodeDecodeError, FieldValueError):
        return None


def pack_uscc(code: str) -> bytes:
    """12 bytes: the code read as a base-31 number (GB 32100 alphabet)."""
    number = 0
    for ch in code:
        number = number * 31 + _USCC_ALPHABET.index(ch)
    return number.to_bytes(12, "big")


def unpack_uscc(packed: bytes, *, field: str = "unified social credit code", validate: bool = True) -> str:
    """Inverse of :func:`pack_uscc`. With ``validate`` the result is checked with python-stdnum;
    without, only its form (codes inside a signed license were validated when it was issued, and
    the signature covers them)."""
    if not isinstance(packed, bytes) or len(packed) != 12:
        raise FieldValueError(field, "packed code is not 12 bytes", "a packed unified social credit code")
    high, low = divmod(int.from_bytes(packed, "big"), _HALF)
    if high >= _HALF:
        raise FieldValueError(field, "packed code is out of range", "a packed unified social credit code")
    code = _base31(high) + _base31(low)
    return validate_uscc(code, field=field) if validate else code


_HALF = 31**9


def _base31(number: int) -> str:
    """Nine base-31 digits (machine-sized divisions, faster than one big number)."""
    chars = [""] * 9
    for position in range(8, -1, -1):
        number, digit = divmod(number, 31)
        chars[position] = _USCC_ALPHABET[digit]
    return "".join(chars)


def pack_ric(number: str) -> int:
    """The first 17 digits as an integer (the check character is recomputed on unpacking)."""
    return int(number[:17])


def unpack_ric(packed: object, *, field: str = "resident identity number", validate: bool = True) -> str:
    """Inverse of :func:`pack_ric` (the check character is recomputed with python-stdnum); see
    :func:`unpack_uscc` for ``validate``."""
    if not isinstance(packed, int) or isinstance(packed, bool) or not 0 <= packed < 10**17:
        raise FieldValueError(field, "packed number is out of range", "a packed resident identity number")
    body = f"{packed:017d}"
    number = body + ric.calc_check_digit(body + "0")  # stdnum expects a check slot
    return validate_ric(number, field=field) if validate else number


def _chosen_check_character() -> Callable[[str], str]:
    module = compiled_module()  # its twin of python-stdnum's calculation (tests/test_speedups.py)
    return mod_37_36.calc_check_digit if module is None else module.mod_37_36_check_digit


_check_character = _chosen_check_character()


@dataclass(frozen=True)
class LicenseIdentifier:
    """An e-license identifier: ``TT`` + issuer USCC (18) + serial (8 digits) + version (2 digits)
    + ISO 7064 MOD 37,36 check character, 31 characters in all.

    ``text`` (the identifier) and ``issuer_id`` (:func:`issuer_id_from_uscc`) are derived once, when
    the identifier is made: every verification reads both, and the digest covers the text."""

    type_code: str
    issuer_uscc: str
    serial: int
    version: int
    text: str = field(init=False, repr=False, compare=False)
    issuer_id: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not _TYPE_CODE.match(self.type_code):
            raise FieldValueError("license id", f"type code {self.type_code!r}", "two upper-case letters")
        issuer = validate_uscc(self.issuer_uscc, field="license id issuer")
        if issuer != self.issuer_uscc:  # its text would have no check character
            raise FieldValueError("license id issuer", f"{self.issuer_uscc!r} is not in canonical form", issuer)
        if not 1 <= self.serial <= MAX_SERIAL:
            raise FieldValueError("license id", f"serial {self.serial}", f"an integer from 1 to {MAX_SERIAL}")
        if not 1 <= self.version <= MAX_VERSION:
            raise FieldValueError("license id", f"version {self.version}", f"an integer from 1 to {MAX_VERSION}")
        body = self.body
        object.__setattr__(self, "text", body + _check_character(body))
        object.__setattr__(self, "issuer_id", issuer.encode("ascii").ljust(32, b"\x00"))  # issuer_id_from_uscc

    @property
    def body(self) -> str:
        return f"{self.type_code}{self.issuer_uscc}{self.serial:0{SERIAL_DIGITS}d}{self.version:0{VERSION_DIGITS}d}"

    def __str__(self) -> str:
        return self.text

    def next_version(self) -> LicenseIdentifier:
        return LicenseIdentifier(self.type_code, self.issuer_uscc, self.serial, self.version + 1)

    @classmethod
    def parse(cls, text: object, *, field: str = "license id") -> LicenseIdentifier:
        expected = (
            f"{IDENTIFIER_LENGTH} characters: type code (2 letters), issuer's unified social credit code (18), "
            f"serial ({SERIAL_DIGITS} digits), version ({VERSION_DIGITS} digits), ISO 7064 MOD 37,36 check character"
        )
        if not isinstance(text, str) or len(text.strip()) != IDENTIFIER_LENGTH:
            raise FieldValueError(field, f"{text!r} has the wrong length", expected)
        text = text.strip().upper()
        try:
            mod_37_36.validate(text)
        except ValidationError:
            raise FieldValueError(field, f"{text!r} fails its check character", expected) from None
        serial, version = text[20:28], text[28:30]
        if not (serial.isdigit() and version.isdigit()):
            raise FieldValueError(field, f"{text!r} has a non-numeric serial or version", expected)
        return cls(text[:2], validate_uscc(text[2:20], field=field), int(serial), int(version))
