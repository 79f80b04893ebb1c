"""Verification receipts (无证明): a verifying service signs what it answered, so that a relying
department can file the receipt instead of a paper certificate and check it later, offline.

- :class:`VerifierIdentity`: the service's id (for example a region code and a name,
  ``310000-shanghai-verify``) and an Ed25519 key, kept on disk only encrypted, in the project's
  keystore shape (Web3 Secret Storage v3, scrypt; ``"kind": "ed25519-receipt"``; file 0600).
- :class:`Receipt`: what was answered (license or bundle id, digest, status, the reasons' codes,
  issuer, signer) and against what (chain id, registry, the block number and hash of the state,
  the head block whose negative facts were applied, the time), by whom (the service's id and key
  fingerprint), under a random receipt id. Its signed bytes are the receipt as compact JSON with
  sorted keys, ASCII only (``canonical()``).
- A signed receipt is ``{"receipt": {...}, "signature": "<128 hex digits>"}``; the signature is
  Ed25519 over ``canonical()``, whose ``format`` member (``elicense-receipt/1``) separates it from
  anything else the key could sign.
- :func:`verify_receipt`: offline, against the verifier keys one trusts. A receipt comes from
  outside: it is parsed strictly (size, types, lengths, hex) before any signature check, and every
  integrity failure is one opaque answer (``bad_signature``).

docs/receipts.md gives the format in full and why Ed25519 rather than the chain's secp256k1.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from verifier.bundle import BundleOutcome
from verifier.receipt_keys import KEY_KIND, ReceiptError, VerifierIdentity, VerifierPublicKey, check_service_id
from verifier.results import Outcome

__all__ = [
    "FORMAT",
    "KEY_KIND",
    "MAX_RECEIPT_BYTES",
    "Receipt",
    "ReceiptCheck",
    "ReceiptError",
    "VerifierIdentity",
    "VerifierPublicKey",
    "issue_receipt",
    "parse_receipt",
    "verify_receipt",
]

FORMAT: Final = "elicense-receipt/1"
#: A signed receipt is about 900 bytes; anything longer is refused before parsing.
MAX_RECEIPT_BYTES: Final = 8192
_MAX_REASONS = 32

_HEX32 = re.compile(r"0x[0-9a-f]{64}")
_FINGERPRINT = re.compile(r"[0-9a-f]{32}")
_SIGNATURE = re.compile(r"[0-9a-f]{128}")
_RECEIPT_ID = re.compile(r"[0-9a-f]{32}")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_CODE = re.compile(r"[a-z][a-z0-9_]{0,47}")
_SUBJECT = re.compile(r"[0-9A-Za-z-]{1,64}")
_USCC = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_STATUSES: Final = {
    "license": frozenset(o.value for o in Outcome),
    "bundle": frozenset(v for k, v in vars(BundleOutcome).items() if k.isupper()),
}
_UINT_MAX = 2**63 - 1


# -- the receipt -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Receipt:
    """One signed answer (see the module documentation; docs/receipts.md gives each member)."""

    receipt_id: str
    kind: str  # license | bundle
    subject: str | None  # the license id or the joint application id
    digest: str | None  # the license digest or the bundle digest (0x-hex)
    status: str
    reasons: tuple[str, ...]
    issuer: str | None  # the issuer's credit code (a bundle: the lead department's)
    signer: str | None  # the key address recovered from the license's signature
    valid_from: str | None
    valid_to: str | None
    chain_id: int
    registry: str  # the license registry contract's address
    block_number: int  # the state's last block (positive facts up to it)
    block_hash: str
    head_block: int  # negative facts (revocations, ...) applied up to this block
    checked_at: int
    verifier_id: str
    verifier_key: str  # fingerprint of the service's public key

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"format": FORMAT}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    def canonical(self) -> bytes:
        """The signed bytes: compact JSON, sorted keys, ASCII."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def issue_receipt(
    result: Mapping[str, Any],
    identity: VerifierIdentity,
    *,
    chain_id: int,
    registry: str,
    block_number: int,
    block_hash: bytes,
    head_block: int,
    now: float,
) -> dict[str, Any]:
    """Sign a receipt of ``result`` (a JSON-ready verification result with its ``kind``) checked
    against the state at ``block_number`` (whose hash is ``block_hash``); the signed receipt's JSON."""
    kind = result.get("kind", "license")
    issuer = result.get("issuer") or {}
    if kind == "bundle":
        subject, digest = result.get("application_id"), result.get("bundle_digest")
        lead = issuer.get("uscc") if issuer else None
        issuer_code = lead or _lead_of(result)
    else:
        subject, digest, issuer_code = result.get("license_id"), result.get("digest"), issuer.get("uscc")
    receipt = Receipt(
        receipt_id=secrets.token_hex(16),
        kind=kind,
        subject=subject,
        digest=digest,
        status=result["status"],
        reasons=tuple(r["code"] for r in result.get("reasons", ())),
        issuer=issuer_code,
        signer=result.get("signer"),
        valid_from=result.get("valid_from"),
        valid_to=result.get("valid_to"),
        chain_id=chain_id,
        registry=registry,
        block_number=block_number,
        block_hash="0x" + block_hash.hex(),
        head_block=max(head_block, block_number),
        checked_at=int(result.get("checked_at", now)),
        verifier_id=identity.service_id,
        verifier_key=identity.public.fingerprint,
    )
    checked = _receipt_from(receipt.to_dict())  # what is signed is what a verifier will accept
    return {"receipt": checked.to_dict(), "signature": identity.sign(checked.canonical()).hex()}


def _lead_of(result: Mapping[str, Any]) -> str | None:
    subject = result.get("application_id")
    if isinstance(subject, str) and len(subject) >= 20 and _USCC.fullmatch(subject[2:20]):
        return subject[2:20]
    return None


# -- parsing and offline verification ----------------------------------------------------------------


def _text(name: str, pattern: re.Pattern[str], *, optional: bool = False) -> Any:
    def check(value: object) -> object:
        if value is None and optional:
            return None
        if not isinstance(value, str) or not pattern.fullmatch(value):
            raise ReceiptError(f"receipt member {name!r} must be {'null or ' if optional else ''}{pattern.pattern}")
        return value

    return check


def _uint(name: str, low: int = 0) -> Any:
    def check(value: object) -> object:
        if type(value) is not int or not low <= value <= _UINT_MAX:
            raise ReceiptError(f"receipt member {name!r} must be an integer from {low} to 2^63-1")
        return value

    return check


def _date(name: str) -> Any:
    def check(value: object) -> object:
        if value is None:
            return None
        if not isinstance(value, str) or not _DATE.fullmatch(value):
            raise ReceiptError(f"receipt member {name!r} must be null or a date YYYY-MM-DD")
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            raise ReceiptError(f"receipt member {name!r} is not a calendar date") from None
        return value

    return check


def _reasons(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) > _MAX_REASONS:
        raise ReceiptError(f"receipt member 'reasons' must be a list of at most {_MAX_REASONS} codes")
    return tuple(_text("reasons", _CODE)(code) for code in value)


_MEMBERS: Final = {
    "receipt_id": _text("receipt_id", _RECEIPT_ID),
    "kind": _text("kind", re.compile("license|bundle")),
    "subject": _text("subject", _SUBJECT, optional=True),
    "digest": _text("digest", _HEX32, optional=True),
    "status": _text("status", _CODE),
    "reasons": _reasons,
    "issuer": _text("issuer", _USCC, optional=True),
    "signer": _text("signer", _ADDRESS, optional=True),
    "valid_from": _date("valid_from"),
    "valid_to": _date("valid_to"),
    "chain_id": _uint("chain_id", 1),
    "registry": _text("registry", _ADDRESS),
    "block_number": _uint("block_number"),
    "block_hash": _text("block_hash", _HEX32),
    "head_block": _uint("head_block"),
    "checked_at": _uint("checked_at"),
    "verifier_id": check_service_id,
    "verifier_key": _text("verifier_key", _FINGERPRINT),
}


def _receipt_from(data: object) -> Receipt:
    if not isinstance(data, dict):
        raise ReceiptError('"receipt" must be a JSON object')
    if data.get("format") != FORMAT:
        raise ReceiptError(f'receipt member "format" must be {FORMAT!r}')
    expected = {"format", *_MEMBERS}
    if set(data) != expected:
        extra, missing = sorted(set(data) - expected), sorted(expected - set(data))
        raise ReceiptError(f"receipt members differ from the format's: unexpected {extra}, missing {missing}")
    values = {name: check(data[name]) for name, check in _MEMBERS.items()}
    if values["status"] not in _STATUSES[values["kind"]]:
        raise ReceiptError(f"status {values['status']!r} is not an outcome of a {values['kind']}'s check")
    if values["head_block"] < values["block_number"]:
        raise ReceiptError("head_block must not be before block_number")
    return Receipt(**values)


def parse_receipt(data: bytes | str | Mapping[str, Any]) -> tuple[Receipt, bytes]:
    """A signed receipt (its JSON as bytes or text, or the decoded object), checked for its form:
    the receipt and its 64-byte signature. Raises :class:`ReceiptError` saying what was wrong."""
    if isinstance(data, bytes | str):
        if len(data) > MAX_RECEIPT_BYTES:
            raise ReceiptError(f"a signed receipt is at most {MAX_RECEIPT_BYTES} bytes; got {len(data)}")
        try:
            document = json.loads(data)
        except (ValueError, RecursionError):
            raise ReceiptError("a signed receipt is a JSON object; this is not JSON") from None
    elif isinstance(data, Mapping):
        document = dict(data)
    else:
        raise ReceiptError(f"a signed receipt is JSON bytes, text or an object; got {type(data).__name__}")
    if not isinstance(document, dict) or set(document) != {"receipt", "signature"}:
        raise ReceiptError('a signed receipt is a JSON object with exactly "receipt" and "signature"')
    signature = document["signature"]
    if not isinstance(signature, str) or not _SIGNATURE.fullmatch(signature):
        raise ReceiptError('"signature" must be 128 lower-case hex digits (an Ed25519 signature)')
    return _receipt_from(document["receipt"]), bytes.fromhex(signature)


@dataclass(frozen=True, slots=True)
class ReceiptCheck:
    """The offline check's answer: ``ok`` only when the form, the verifier and the signature are good.
    ``code``: ``valid``, ``malformed``, ``unknown_verifier`` or ``bad_signature``."""

    code: str
    detail: str
    receipt: Receipt | None = None
    key: VerifierPublicKey | None = None

    @property
    def ok(self) -> bool:
        return self.code == "valid"


def verify_receipt(
    data: bytes | str | Mapping[str, Any], trusted_keys: Iterable[VerifierPublicKey | bytes]
) -> ReceiptCheck:
    """Check a signed receipt offline against the verifier keys one trusts (published keys, or
    bare 32-byte public keys that then accept any service id). Never raises on bad input."""
    try:
        receipt, signature = parse_receipt(data)
    except ReceiptError as exc:
        return ReceiptCheck("malformed", str(exc))
    for trusted in trusted_keys:
        key = trusted if isinstance(trusted, VerifierPublicKey) else VerifierPublicKey(receipt.verifier_id, trusted)
        if key.fingerprint != receipt.verifier_key or key.service_id != receipt.verifier_id:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(key.public_key).verify(signature, receipt.canonical())
        except InvalidSignature:
            return ReceiptCheck("bad_signature", "the signature does not match the receipt: it was altered", receipt)
        return ReceiptCheck("valid", f"signed by {key.service_id} (key {key.fingerprint})", receipt, key)
    return ReceiptCheck(
        "unknown_verifier",
        f"the receipt names verifier {receipt.verifier_id} with key {receipt.verifier_key}, which is not trusted here",
        receipt,
    )
