"""Issuer and operator keys: encrypted keystores and the passwords that open them."""

from signer.errors import KeystoreError, PasswordError, SignerError, WrongPasswordError
from signer.keystore import (
    DEFAULT_SCRYPT_N,
    PasswordSource,
    create_keystore,
    import_keystore,
    keystore_address,
    load_account,
)

__all__ = [
    "DEFAULT_SCRYPT_N",
    "KeystoreError",
    "PasswordError",
    "PasswordSource",
    "SignerError",
    "WrongPasswordError",
    "create_keystore",
    "import_keystore",
    "keystore_address",
    "load_account",
]
