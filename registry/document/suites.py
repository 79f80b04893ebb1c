"""The signature suites a license can be signed with, and how a presentation names its suite.

- ``SECP256K1``: the EIP-712 suite: the issuer's account key signs
  ``keccak256(0x1901 || domainSeparator || digest)`` (64-byte EIP-2098 compact signature); the
  signer is recovered from the signature. A presentation of this suite has no suite element (the
  11-element array every earlier presentation is).
- ``SM2``: SM2 with SM3 (GB/T 32918, GM/T 0003/0004): the department's SM2 key, bound on chain to
  its anchoring account, signs the EIP-712 encoded message ``0x1901 || domainSeparator || digest``
  itself (64 bytes, r || s). A presentation of this suite carries a 12th element, the suite code 1.

The license digest, the anchored digest and the Merkle leaves are the same for both suites.
"""

from __future__ import annotations

import enum

__all__ = ["KNOWN_CODES", "SignatureSuite"]


class SignatureSuite(enum.Enum):
    """A signature suite: its name (``secp256k1`` / ``sm2``, as results and APIs show it) and the
    code a presentation carries for it (none for secp256k1)."""

    SECP256K1 = "secp256k1"
    SM2 = "sm2"

    @property
    def code(self) -> int | None:
        """The presentation's suite element (None: the element is absent)."""
        return _CODES[self]

    @classmethod
    def from_code(cls, code: int) -> SignatureSuite | None:
        """The suite a presentation's suite element names (None for an unknown code)."""
        return _BY_CODE.get(code)

    @classmethod
    def parse(cls, name: object) -> SignatureSuite:
        """A suite from its name (``secp256k1`` or ``sm2``, any case), for configuration and APIs."""
        if isinstance(name, SignatureSuite):
            return name
        if isinstance(name, str):
            for suite in cls:
                if suite.value == name.strip().lower():
                    return suite
        known = ", ".join(s.value for s in cls)
        raise ValueError(f"unknown signature suite {name!r}; expected one of {known}")


_CODES: dict[SignatureSuite, int | None] = {SignatureSuite.SECP256K1: None, SignatureSuite.SM2: 1}
_BY_CODE = {code: suite for suite, code in _CODES.items() if code is not None}
#: How messages name the known suites and their codes.
KNOWN_CODES = ", ".join(
    f"{suite.value} ({'no suite element' if code is None else f'suite code {code}'})" for suite, code in _CODES.items()
)
