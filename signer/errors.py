"""The root of the library's error tree and the signer's branch.

Every error the library raises on purpose derives from :class:`ElicenseError`; the whole tree is
drawn in :mod:`registry.errors`. The root lives here because ``signer`` is the bottom layer that
every other package builds on. Each class knows the HTTP status and title it is reported with
(``http_status``, ``title``), so the HTTP service maps any of them with one lookup.
"""

from __future__ import annotations

from typing import ClassVar


class ElicenseError(Exception):
    """Root of every error raised on purpose by the e-license packages."""

    http_status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal error"


class SignerError(ElicenseError):
    """Root of the errors of the signer package (keys, keystores, signatures)."""

    title = "Signing key unavailable"


class KeystoreError(SignerError, ValueError):
    """A keystore file is missing, malformed or cannot be written."""


class WrongPasswordError(KeystoreError):
    """The password does not decrypt the keystore (or the file was altered)."""


class PasswordError(SignerError, ValueError):
    """No password could be obtained, or it is not acceptable."""


class SignerInputError(SignerError, ValueError):
    """An input to a signing recipe (a digest, a batch of digests, an address) has the wrong form."""

    http_status = 422
    title = "Invalid request"
