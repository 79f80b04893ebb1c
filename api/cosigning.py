"""The departments' co-signing keys (BLS12-381, docs/joint.md) the service holds, read from their
keystores like the signing keys: ``USCC=KEYSTORE[:PASSWORD_ENV]``, the keystore a name under
``HOME/keys`` or a file path, its password from the named environment variable (or the file
``PASSWORD_ENV`` names when it starts with ``@``).

A department needs none: without one it imports co-signatures made elsewhere (its own system,
``elicense joint cosign`` with its keystore) instead of having the service co-sign for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from registry.document.identifiers import validate_uscc
from registry.errors import ConfigurationError
from signer import CoSigningKey, PasswordSource, load_co_signing_key

__all__ = ["co_signing_specs", "load_co_signing_keys", "parse_co_signing_spec"]


def co_signing_specs(setting: str) -> list[str]:
    """The specs of the ``co_signing_keys`` setting (comma-separated, blanks ignored)."""
    return [part.strip() for part in setting.split(",") if part.strip()]


def parse_co_signing_spec(spec: str, *, keys_dir: Path) -> tuple[str, Path, PasswordSource]:
    """``USCC=KEYSTORE[:PASSWORD_ENV | :@PASSWORD_FILE]`` -> (credit code, keystore path, password source)."""
    if "=" not in spec:
        raise ConfigurationError(
            f"co-signing key {spec!r} must look like USCC=KEYSTORE, USCC=KEYSTORE:PASSWORD_ENV "
            "or USCC=KEYSTORE:@PASSWORD_FILE"
        )
    uscc, rest = spec.split("=", 1)
    keystore, _, password = rest.partition(":")
    if not keystore:
        raise ConfigurationError(f"co-signing key {spec!r} names no keystore after '='")
    path = Path(keystore) if "/" in keystore or keystore.endswith(".json") else keys_dir / f"{keystore}.json"
    if password.startswith("@"):
        source = PasswordSource(file=Path(password[1:]))
    else:
        source = PasswordSource(env=password or None)
    return validate_uscc(uscc, field="co-signing key's department"), path, source


def load_co_signing_keys(specs: Iterable[str], *, keys_dir: Path) -> dict[str, CoSigningKey]:
    """The co-signing keys of ``specs`` by department (at most one per department)."""
    keys: dict[str, CoSigningKey] = {}
    for spec in specs:
        uscc, path, source = parse_co_signing_spec(spec, keys_dir=keys_dir)
        if uscc in keys:
            raise ConfigurationError(f"two co-signing keys for {uscc}: give one per department")
        keys[uscc] = load_co_signing_key(path, source.read(purpose=str(path)))
    return keys
