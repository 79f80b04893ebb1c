"""Exceptions of the ``signer`` package::

SignerError
├── KeystoreError (ValueError)     missing, malformed or unreadable keystore file
│   └── WrongPasswordError         the password does not open the keystore
└── PasswordError (ValueError)     no password available, or an unacceptable one
"""

from __future__ import annotations


class SignerError(Exception):
    """Root of every error raised by the signer package."""


class KeystoreError(SignerError, ValueError):
    """A keystore file is missing, malformed or cannot be written."""


class WrongPasswordError(KeystoreError):
    """The password does not decrypt the keystore (or the file was altered)."""


class PasswordError(SignerError, ValueError):
    """No password could be obtained, or it is not acceptable."""
