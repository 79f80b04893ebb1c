"""The joint application (联办件): its id and its applicant, committed rather than written on chain
(docs/joint.md).

- **Application id**: ``JA`` + the lead department's credit code (18) + serial (8 digits) + ISO
  7064 MOD 37,36 check character, 29 characters; on chain ``keccak256(ascii text)``.
- **Applicant**: ``keccak256(salt || cbor(["applicant", [credit code, name]]))`` with a random
  16-byte salt.
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass
from functools import cached_property

import cbor2
from stdnum.exceptions import ValidationError
from stdnum.iso7064 import mod_37_36

from registry.document.identifiers import MAX_SERIAL, FieldValueError, issuer_id_from_uscc, validate_uscc
from registry.document.licensetypes import check_text
from signer import keccak256

__all__ = [
    "APPLICATION_ID_LENGTH",
    "MAX_APPLICANT_NAME",
    "SALT_BYTES",
    "Applicant",
    "JointApplicationId",
    "canonical_text",
]

MAX_APPLICANT_NAME = 100
SALT_BYTES = 16
_APP_SERIAL_DIGITS = 8
APPLICATION_ID_LENGTH = 2 + 18 + _APP_SERIAL_DIGITS + 1


def canonical_text(text: str, what: str, most: int) -> str:
    """``text`` when it is canonical text: printable, at most ``most`` characters, no surrounding
    spaces, NFC (checked without normalising, so in linear time)."""
    check_text(text, what, most)
    if text.strip() != text or not unicodedata.is_normalized("NFC", text):
        raise FieldValueError(what, "is not in canonical form", "NFC text without surrounding spaces")
    return text


# ------------------------------------------------------------------------------------------------
# Application id and applicant
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JointApplicationId:
    """``JA`` + lead department's credit code (18) + serial (8 digits) + ISO 7064 MOD 37,36 check
    character: 29 characters."""

    lead_uscc: str
    serial: int

    def __post_init__(self) -> None:
        if validate_uscc(self.lead_uscc, field="application id lead department") != self.lead_uscc:
            raise FieldValueError("application id", f"lead code {self.lead_uscc!r}", "a canonical credit code")
        if isinstance(self.serial, bool) or not isinstance(self.serial, int) or not 1 <= self.serial <= MAX_SERIAL:
            raise FieldValueError("application id", f"serial {self.serial!r}", f"an integer from 1 to {MAX_SERIAL}")

    @property
    def body(self) -> str:
        return f"JA{self.lead_uscc}{self.serial:0{_APP_SERIAL_DIGITS}d}"

    @cached_property
    def text(self) -> str:
        return self.body + mod_37_36.calc_check_digit(self.body)

    def __str__(self) -> str:
        return self.text

    @cached_property
    def chain_id(self) -> bytes:
        """The ``bytes32`` id on chain: ``keccak256`` of the ASCII text."""
        return keccak256(self.text.encode("ascii"))

    @property
    def lead_issuer_id(self) -> bytes:
        return issuer_id_from_uscc(self.lead_uscc)

    @classmethod
    def parse(cls, text: object, *, field: str = "application id") -> JointApplicationId:
        expected = (
            f"{APPLICATION_ID_LENGTH} characters: JA, the lead department's unified social credit code (18), "
            f"serial ({_APP_SERIAL_DIGITS} digits), ISO 7064 MOD 37,36 check character"
        )
        if not isinstance(text, str) or len(text.strip()) != APPLICATION_ID_LENGTH:
            raise FieldValueError(field, f"{text!r} has the wrong length", expected)
        text = text.strip().upper()
        if not text.startswith("JA"):
            raise FieldValueError(field, f"{text!r} does not start with JA", expected)
        try:
            mod_37_36.validate(text)
        except ValidationError:
            raise FieldValueError(field, f"{text!r} fails its check character", expected) from None
        serial = text[20:28]
        if not serial.isdigit():
            raise FieldValueError(field, f"{text!r} has a non-numeric serial", expected)
        return cls(validate_uscc(text[2:20], field=field), int(serial))


@dataclass(frozen=True)
class Applicant:
    """The enterprise applying: credit code, name and the salt of its commitment (never on chain)."""

    credit_code: str
    name: str
    salt: bytes

    def __post_init__(self) -> None:
        if validate_uscc(self.credit_code, field="applicant credit code") != self.credit_code:
            raise FieldValueError("applicant credit code", "is not canonical", "upper case without spaces")
        if not isinstance(self.name, str):
            raise FieldValueError("applicant name", f"got {type(self.name).__name__}", "text")
        canonical_text(self.name, "applicant name", MAX_APPLICANT_NAME)
        if not isinstance(self.salt, bytes) or len(self.salt) != SALT_BYTES:
            raise FieldValueError("applicant salt", "is not 16 bytes", "a random 16-byte salt")

    @classmethod
    def create(cls, credit_code: object, name: object, salt: bytes | None = None) -> Applicant:
        """Validate and normalise input (code upper case, name trimmed and NFC); a fresh random salt
        unless one is given."""
        code = validate_uscc(credit_code, field="applicant credit code")
        if not isinstance(name, str) or len(name) > 2 * MAX_APPLICANT_NAME:
            raise FieldValueError("applicant name", "is not text of a sane length", f"at most {MAX_APPLICANT_NAME}")
        text = unicodedata.normalize("NFC", name.strip())
        return cls(code, text, secrets.token_bytes(SALT_BYTES) if salt is None else salt)

    @cached_property
    def commitment(self) -> bytes:
        """``keccak256(salt || cbor(["applicant", [credit code, name]]))``."""
        return keccak256(self.salt + cbor2.dumps(["applicant", [self.credit_code, self.name]]))
