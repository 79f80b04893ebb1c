"""Encrypted keystore files (Web3 Secret Storage v3, scrypt) for issuer and operator keys, the
departments' co-signing keys and SM2 keys.

A private key only ever exists on disk inside such a file, written with mode 0600. Passwords come
from an environment variable, a file, or an interactive prompt; they are never logged or echoed.
"""

from __future__ import annotations

import getpass
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_keyfile.keyfile import create_keyfile_json, decode_keyfile_json
from eth_utils.address import to_checksum_address

from signer._x509 import Sm2Certificate, parse_sm2_certificate
from signer.cosigning import CoSigningKey
from signer.errors import KeystoreError, PasswordError, SignerInputError, WrongPasswordError
from signer.sm2 import DEFAULT_SM2_ID, Sm2SigningKey

__all__ = [
    "CO_SIGNING_KIND",
    "DEFAULT_SCRYPT_N",
    "SM2_KIND",
    "PasswordSource",
    "create_co_signing_keystore",
    "create_keystore",
    "create_sm2_keystore",
    "import_keystore",
    "import_sm2_keystore",
    "keystore_address",
    "load_account",
    "load_co_signing_key",
    "load_sm2_key",
    "open_kind_keystore",
    "read_kind_keystore",
    "seal_kind_keystore",
]

#: scrypt cost of new keystores (geth's "standard" setting; about a second to open).
DEFAULT_SCRYPT_N = 2**18
_MIN_SCRYPT_N = 2**14
_MAX_KEYSTORE_BYTES = 16 * 1024
_MIN_PASSWORD = 8
_MAX_PASSWORD = 1024
#: The ``kind`` member of a co-signing keystore (a BLS12-381 secret, its public key in G1).
CO_SIGNING_KIND = "bls12-381-g1"
#: The ``kind`` member of an SM2 keystore (an SM2 private key, its public key, identifier, certificate).
SM2_KIND = "sm2"


@dataclass(frozen=True, slots=True)
class PasswordSource:
    """Where a keystore password comes from: ``env`` (variable name), ``file`` (path), or an
    interactive ``prompt``; the first one configured wins."""

    env: str | None = None
    file: Path | None = None
    prompt: bool = False

    def read(self, *, purpose: str, confirm: bool = False) -> str:
        if self.env:
            value = os.environ.get(self.env)
            if value is None:
                raise PasswordError(f"environment variable {self.env} (password for {purpose}) is not set")
            return _check(value, f"${self.env}")
        if self.file is not None:
            try:
                if self.file.stat().st_size > _MAX_PASSWORD + 2:
                    raise PasswordError(f"password file {self.file} is larger than {_MAX_PASSWORD} bytes")
                value = self.file.read_text(encoding="utf-8").rstrip("\r\n")
            except OSError as exc:
                raise PasswordError(f"cannot read password file {self.file}: {exc.strerror}") from None
            return _check(value, str(self.file))
        if self.prompt:
            value = getpass.getpass(f"Password for {purpose}: ")
            if confirm and getpass.getpass("Repeat the password: ") != value:
                raise PasswordError("the two passwords differ")
            return _check(value, "the prompt")
        raise PasswordError(
            f"no password for {purpose}: give --password-env VAR, --password-file FILE, or run interactively"
        )


def _check(password: str, where: str) -> str:
    if not _MIN_PASSWORD <= len(password) <= _MAX_PASSWORD:
        raise PasswordError(f"the password from {where} must be {_MIN_PASSWORD} to {_MAX_PASSWORD} characters long")
    return password


def _write_new(path: Path, document: dict[str, Any]) -> None:
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)
        os.chmod(path.parent, 0o700)  # owner-only whatever the umask
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeystoreError(f"{path} exists already; keystores are never overwritten") from None
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(document, fh)
        fh.flush()
        os.fsync(fh.fileno())


def create_keystore(path: str | Path, password: str, *, scrypt_n: int = DEFAULT_SCRYPT_N) -> str:
    """Generate a new secp256k1 key, store it encrypted at ``path``; return its address."""
    account = Account.create()
    return import_keystore(path, account.key, password, scrypt_n=scrypt_n)


def import_keystore(path: str | Path, private_key: bytes, password: str, *, scrypt_n: int = DEFAULT_SCRYPT_N) -> str:
    """Store an existing 32-byte private key encrypted at ``path``; return its address."""
    if not isinstance(private_key, bytes) or len(private_key) != 32:
        raise KeystoreError("a private key must be 32 bytes")
    _check_scrypt_n(scrypt_n)
    _check(password, "the caller")
    try:
        document = Account.encrypt(private_key, password, kdf="scrypt", iterations=scrypt_n)
    except ValueError as exc:
        raise KeystoreError(f"not a valid secp256k1 private key: {exc}") from None
    _write_new(Path(path), dict(document))
    return to_checksum_address("0x" + str(document["address"]).removeprefix("0x"))


def _read(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise KeystoreError(f"no keystore at {path}") from None
    if size > _MAX_KEYSTORE_BYTES:
        raise KeystoreError(f"{path} is {size} bytes; a keystore is at most {_MAX_KEYSTORE_BYTES}")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise KeystoreError(f"{path} is not a JSON keystore: {exc}") from None
    if not isinstance(document, dict) or document.get("version") != 3 or "crypto" not in document:
        raise KeystoreError(f"{path} is not a version 3 keystore")
    return document


def _secp256k1_document(path: str | Path) -> dict[str, Any]:
    document = _read(path)
    if "kind" in document:
        raise KeystoreError(f"{path} holds a {document['kind']!r} key, not a secp256k1 signing key")
    return document


def keystore_address(path: str | Path) -> str:
    """The address recorded in a keystore, without decrypting it."""
    document = _secp256k1_document(path)
    address = document.get("address")
    if not isinstance(address, str) or len(address.removeprefix("0x")) != 40:
        raise KeystoreError(f"{path} records no address")
    return to_checksum_address("0x" + address.removeprefix("0x"))


def load_account(path: str | Path, password: str) -> LocalAccount:
    """Decrypt a keystore into a signing account."""
    document = _secp256k1_document(path)
    try:
        key = Account.decrypt(document, password)
    except ValueError:
        raise WrongPasswordError(f"the password does not open {path} (or the file was altered)") from None
    except (KeyError, TypeError) as exc:
        raise KeystoreError(f"{path} is a malformed keystore: missing {exc}") from None
    account: LocalAccount = Account.from_key(key)
    recorded = document.get("address")
    if isinstance(recorded, str) and recorded.removeprefix("0x").lower() != account.address[2:].lower():
        raise KeystoreError(f"{path} records address 0x{recorded.removeprefix('0x')} but holds {account.address}")
    return account


def _check_scrypt_n(scrypt_n: int) -> None:
    if scrypt_n < _MIN_SCRYPT_N or scrypt_n & (scrypt_n - 1):
        raise KeystoreError(f"scrypt_n must be a power of two of at least {_MIN_SCRYPT_N}")


def _decrypt(path: str | Path, document: dict[str, Any], password: str) -> bytes:
    try:
        return bytes(decode_keyfile_json(document, password.encode()))
    except ValueError:
        raise WrongPasswordError(f"the password does not open {path} (or the file was altered)") from None
    except (KeyError, TypeError) as exc:
        raise KeystoreError(f"{path} is a malformed keystore: missing {exc}") from None


def read_kind_keystore(path: str | Path, *, kind: str, what: str) -> dict[str, Any]:
    """The JSON of a keystore of ``kind`` (``what`` names it in errors), checked for its shape and
    kind, not decrypted: what a published member (a public key, an id) is read from."""
    document = _read(path)
    held = document.get("kind")
    if held != kind:
        described = "a secp256k1 signing key" if held is None else f"a {held!r} key"
        raise KeystoreError(f"{path} holds {described}, not {what} ({kind!r})")
    return document


def open_kind_keystore(path: str | Path, password: str, *, kind: str, what: str) -> tuple[bytes, dict[str, Any]]:
    """The secret a keystore of ``kind`` holds, and its JSON (for the members it records)."""
    document = read_kind_keystore(path, kind=kind, what=what)
    return _decrypt(path, document, password), document


def seal_kind_keystore(
    path: str | Path,
    secret: bytes,
    password: str,
    *,
    kind: str,
    members: dict[str, str],
    scrypt_n: int = DEFAULT_SCRYPT_N,
) -> Path:
    """Write ``secret`` encrypted (scrypt, the signing keys' Web3 Secret Storage v3 form) at ``path``
    as a keystore of ``kind`` recording ``members`` (public facts only): mode 0600, never
    overwriting. The address eth-keyfile derives from any 32-byte secret would mean nothing for a
    key that is not a secp256k1 account, so it is left out."""
    _check_scrypt_n(scrypt_n)
    _check(password, "the caller")
    document = create_keyfile_json(secret, password.encode(), kdf="scrypt", iterations=scrypt_n)
    document.pop("address", None)
    document.update(members, kind=kind)
    _write_new(Path(path), document)
    return Path(path)


def create_co_signing_keystore(
    path: str | Path, password: str, *, key: CoSigningKey | None = None, scrypt_n: int = DEFAULT_SCRYPT_N
) -> CoSigningKey:
    """Store a co-signing key (a new one unless ``key`` is given) encrypted at ``path``, in the same
    Web3 Secret Storage v3 form as the signing keys, without an address and with ``"kind":
    "bls12-381-g1"`` and the 48-byte ``publicKey`` in hex; return the key."""
    key = CoSigningKey.generate() if key is None else key
    members = {"publicKey": key.public_key.hex()}
    seal_kind_keystore(path, key.secret_bytes(), password, kind=CO_SIGNING_KIND, members=members, scrypt_n=scrypt_n)
    return key


def load_co_signing_key(path: str | Path, password: str) -> CoSigningKey:
    """Decrypt a co-signing keystore; its recorded public key must match the secret it holds."""
    secret, document = open_kind_keystore(path, password, kind=CO_SIGNING_KIND, what="a co-signing key")
    try:
        key = CoSigningKey.from_secret(secret)
    except SignerInputError as exc:
        raise KeystoreError(f"{path} does not hold a valid co-signing secret: {exc}") from None
    if document.get("publicKey") != key.public_key.hex():
        raise KeystoreError(
            f"{path} records public key {document.get('publicKey')!r} but holds 0x{key.public_key.hex()}"
        )
    return key


def create_sm2_keystore(
    path: str | Path,
    password: str,
    *,
    key: Sm2SigningKey | None = None,
    distinguishing_id: bytes = DEFAULT_SM2_ID,
    certificate: bytes | None = None,
    scrypt_n: int = DEFAULT_SCRYPT_N,
) -> Sm2SigningKey:
    """Store an SM2 key (a new one, with ``distinguishing_id``, unless ``key`` is given) encrypted at
    ``path`` in the same scrypt form as the other keystores, with ``"kind": "sm2"``, the 64-byte
    ``publicKey``, the ``distinguishingId`` and, optionally, the key's X.509 ``certificate`` (DER, in
    hex; it must certify this very key); return the key."""
    _check_scrypt_n(scrypt_n)
    _check(password, "the caller")
    key = Sm2SigningKey.generate(distinguishing_id) if key is None else key
    parsed = _matching_certificate(key, certificate) if certificate is not None else None
    # the private scalar (what a PKCS#8 SM2 key carries) is what gets encrypted
    members = {"publicKey": key.public_key.hex(), "distinguishingId": key.distinguishing_id.hex()}
    if parsed is not None:
        members["certificate"] = parsed.der.hex()
    seal_kind_keystore(path, key.secret_bytes(), password, kind=SM2_KIND, members=members, scrypt_n=scrypt_n)
    return key


def import_sm2_keystore(
    path: str | Path,
    pem: bytes | Path,
    password: str,
    *,
    pem_password: str | None = None,
    distinguishing_id: bytes = DEFAULT_SM2_ID,
    certificate: bytes | None = None,
    scrypt_n: int = DEFAULT_SCRYPT_N,
) -> Sm2SigningKey:
    """Store the SM2 key of a PKCS#8 PEM (its bytes, or a file; encrypted with ``pem_password`` or
    not) encrypted at ``path``."""
    if isinstance(pem, Path):
        source = pem
        try:
            if source.stat().st_size > _MAX_KEYSTORE_BYTES:
                raise KeystoreError(f"{source} is larger than {_MAX_KEYSTORE_BYTES} bytes; not a PKCS#8 PEM key")
            pem = source.read_bytes()
        except OSError as exc:
            raise KeystoreError(f"cannot read {source}: {exc.strerror}") from None
    try:
        key = Sm2SigningKey.from_pkcs8_pem(pem, pem_password, distinguishing_id=distinguishing_id)
    except SignerInputError as exc:
        raise KeystoreError(f"cannot import the SM2 key: {exc}") from None
    return create_sm2_keystore(path, password, key=key, certificate=certificate, scrypt_n=scrypt_n)


def _matching_certificate(key: Sm2SigningKey, certificate: bytes) -> Sm2Certificate:
    try:
        parsed = parse_sm2_certificate(certificate)
    except SignerInputError as exc:
        raise KeystoreError(f"the certificate cannot be stored with the key: {exc}") from None
    if parsed.public_key != key.public_key:
        raise KeystoreError("the certificate certifies another public key than the SM2 key's")
    return parsed


def _hex_member(path: str | Path, document: dict[str, Any], member: str) -> bytes:
    value = document.get(member)
    try:
        if not isinstance(value, str):
            raise ValueError(member)
        return bytes.fromhex(value)
    except ValueError:
        raise KeystoreError(f"{path} records no valid {member} (hex)") from None


def load_sm2_key(path: str | Path, password: str) -> tuple[Sm2SigningKey, Sm2Certificate | None]:
    """Decrypt an SM2 keystore into its key (with its recorded identifier) and its certificate, if any;
    the recorded public key and certificate must match the secret the file holds."""
    document = read_kind_keystore(path, kind=SM2_KIND, what="an SM2 key")
    distinguishing_id = _hex_member(path, document, "distinguishingId")
    secret = _decrypt(path, document, password)
    try:
        key = Sm2SigningKey.from_secret(secret, distinguishing_id)
    except SignerInputError as exc:
        raise KeystoreError(f"{path} does not hold a valid SM2 key: {exc}") from None
    if document.get("publicKey") != key.public_key.hex():
        raise KeystoreError(
            f"{path} records public key {document.get('publicKey')!r} but holds 0x{key.public_key.hex()}"
        )
    certificate = None
    if document.get("certificate") is not None:
        certificate = _matching_certificate(key, _hex_member(path, document, "certificate"))
    return key, certificate
