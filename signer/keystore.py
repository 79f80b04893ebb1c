"""Encrypted keystore files (Web3 Secret Storage v3, scrypt) for issuer and operator keys.

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

from signer.cosigning import CoSigningKey
from signer.errors import KeystoreError, PasswordError, SignerInputError, WrongPasswordError

__all__ = [
    "CO_SIGNING_KIND",
    "DEFAULT_SCRYPT_N",
    "PasswordSource",
    "create_co_signing_keystore",
    "create_keystore",
    "import_keystore",
    "keystore_address",
    "load_account",
    "load_co_signing_key",
]

#: scrypt cost of new keystores (geth's "standard" setting; about a second to open).
DEFAULT_SCRYPT_N = 2**18
_MIN_SCRYPT_N = 2**14
_MAX_KEYSTORE_BYTES = 16 * 1024
_MIN_PASSWORD = 8
_MAX_PASSWORD = 1024
#: The ``kind`` member of a co-signing keystore (a BLS12-381 secret, its public key in G1).
CO_SIGNING_KIND = "bls12-381-g1"


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
    if scrypt_n < _MIN_SCRYPT_N or scrypt_n & (scrypt_n - 1):
        raise KeystoreError(f"scrypt_n must be a power of two of at least {_MIN_SCRYPT_N}")
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


def create_co_signing_keystore(
    path: str | Path, password: str, *, key: CoSigningKey | None = None, scrypt_n: int = DEFAULT_SCRYPT_N
) -> CoSigningKey:
    """Store a co-signing key (a new one unless ``key`` is given) encrypted at ``path``, in the same
    Web3 Secret Storage v3 form as the signing keys, without an address and with ``"kind":
    "bls12-381-g1"`` and the 48-byte ``publicKey`` in hex; return the key."""
    if scrypt_n < _MIN_SCRYPT_N or scrypt_n & (scrypt_n - 1):
        raise KeystoreError(f"scrypt_n must be a power of two of at least {_MIN_SCRYPT_N}")
    _check(password, "the caller")
    key = CoSigningKey.generate() if key is None else key
    document = create_keyfile_json(key.secret_bytes(), password.encode(), kdf="scrypt", iterations=scrypt_n)
    document.pop("address", None)  # a secp256k1 address of a BLS secret would mean nothing
    document["kind"] = CO_SIGNING_KIND
    document["publicKey"] = key.public_key.hex()
    _write_new(Path(path), document)
    return key


def load_co_signing_key(path: str | Path, password: str) -> CoSigningKey:
    """Decrypt a co-signing keystore; its recorded public key must match the secret it holds."""
    document = _read(path)
    kind = document.get("kind")
    if kind != CO_SIGNING_KIND:
        held = "a secp256k1 signing key" if kind is None else f"a {kind!r} key"
        raise KeystoreError(f"{path} holds {held}, not a co-signing key ({CO_SIGNING_KIND!r})")
    try:
        secret = decode_keyfile_json(document, password.encode())
    except ValueError:
        raise WrongPasswordError(f"the password does not open {path} (or the file was altered)") from None
    except (KeyError, TypeError) as exc:
        raise KeystoreError(f"{path} is a malformed keystore: missing {exc}") from None
    try:
        key = CoSigningKey.from_secret(bytes(secret))
    except SignerInputError as exc:
        raise KeystoreError(f"{path} does not hold a valid co-signing secret: {exc}") from None
    if document.get("publicKey") != key.public_key.hex():
        raise KeystoreError(
            f"{path} records public key {document.get('publicKey')!r} but holds 0x{key.public_key.hex()}"
        )
    return key
