"""A department's SM2 key on the command line: where its keystores live, the file it hands to its
region authority, and what the authority checks in that file before anything is sent.

An SM2 department holds two keystores under HOME/keys, side by side:

- ``NAME.json``: its anchoring account (secp256k1), the key the chain knows and that sends its
  anchoring and status transactions;
- ``NAME.sm2.json``: its SM2 key (with its distinguishing ID and, optionally, its certificate),
  which signs its licenses and is bound on chain to that account.

Key names never hold a dot, so ``NAME.sm2.json`` can be no other key's file.

The *binding file* (``elicense keys sm2-proof``) carries what the authority needs to bind the SM2
key (``issuer add-sm2-key`` / ``rotate-sm2-key``): the account, the SM2 public key, its ID, the SM2
key's proof of possession, the account's acceptance, the certificate, and the deployment they were
made for. No secret is in it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils.address import is_address, to_checksum_address

from api.cli._context import Context, fail, key_name
from registry import OPEN_END, Deployment, RegistryClient, SignatureSuite
from registry.chain.events import Sm2KeyBound
from registry.chain.sm2 import Sm2KeyRegistration
from registry.document.identifiers import issuer_id_from_uscc, validate_uscc
from registry.errors import ConfigurationError
from registry.issuer.department import Department
from registry.issuer.store import IssuerStore
from signer import (
    DEFAULT_SM2_ID,
    LicenseSigner,
    PasswordSource,
    SignerInputError,
    Sm2Certificate,
    Sm2LicenseSigner,
    Sm2SigningKey,
    keccak256,
    load_account,
    load_sm2_key,
    parse_sm2_certificate,
    sign_sm2_account_acceptance,
    sign_sm2_key_acceptance,
    verify_sm2_key_acceptance,
)

#: The ``kind`` of a binding file.
BINDING_KIND = "elicense-sm2-binding"
_MAX_BINDING_BYTES = 16 * 1024
_MAX_CERTIFICATE_FILE = 8 * 1024


def sm2_keystore_path(ctx: Context, name: str) -> Path:
    """HOME/keys/NAME.sm2.json: the SM2 keystore beside the account keystore HOME/keys/NAME.json."""
    return ctx.keys_dir / f"{key_name(name)}.sm2.json"


def account_keystore_path(ctx: Context, name: str) -> Path:
    return ctx.keys_dir / f"{key_name(name)}.json"


def distinguishing_id(text: str | None) -> bytes:
    """The SM2 distinguishing ID from ``--id`` (UTF-8 text, 1 to 64 bytes; default 1234567812345678)."""
    if text is None:
        return DEFAULT_SM2_ID
    value = text.encode("utf-8")
    if not 1 <= len(value) <= 64:
        fail(f"--id must be 1 to 64 bytes of UTF-8 text; {text[:20]!r} is {len(value)} bytes")
    return value


def read_certificate(path: Path) -> Sm2Certificate:
    """An X.509 certificate of an SM2 key from a PEM or DER file, or a one-line error."""
    try:
        if path.stat().st_size > _MAX_CERTIFICATE_FILE:
            fail(f"{path} is larger than {_MAX_CERTIFICATE_FILE} bytes; expected one certificate (PEM or DER)")
        data = path.read_bytes()
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}")
    try:
        return parse_sm2_certificate(data)
    except SignerInputError as exc:
        fail(f"{path}: {exc}")


def load_sm2_pair(
    ctx: Context, name: str, source: PasswordSource
) -> tuple[LocalAccount, Sm2SigningKey, Sm2Certificate | None]:
    """The account and SM2 key of department key NAME (HOME/keys/NAME.json and NAME.sm2.json), both
    opened with the one password."""
    account_path, sm2_path = account_keystore_path(ctx, name), sm2_keystore_path(ctx, name)
    for path, what in ((sm2_path, "an SM2 keystore"), (account_path, "its anchoring account's keystore")):
        if not path.exists():
            fail(f"no {path}: {what} is needed (create both with `elicense keys create {name} --suite sm2`)")
    password = source.read(purpose=f"{account_path} and {sm2_path}")
    key, certificate = load_sm2_key(sm2_path, password)
    return load_account(account_path, password), key, certificate


@dataclass(frozen=True)
class Binding:
    """What a binding file says, checked."""

    uscc: str
    account: str
    registration: Sm2KeyRegistration
    acceptance: bytes
    subject: str | None


def binding_document(
    *,
    uscc: str,
    account: LocalAccount,
    key: Sm2SigningKey,
    certificate: Sm2Certificate | None,
    deployment: Deployment,
) -> dict[str, Any]:
    """The binding file of ``key`` bound to ``account`` of the department ``uscc`` in ``deployment``."""
    issuer_id = issuer_id_from_uscc(uscc)
    chain_id, trust_registry = deployment.chain_id, deployment.trust_registry
    proof = sign_sm2_key_acceptance(
        key, issuer_id=issuer_id, account=account.address, chain_id=chain_id, trust_registry=trust_registry
    )
    acceptance = sign_sm2_account_acceptance(
        account,
        issuer_id=issuer_id,
        sm2_public_key=key.public_key,
        distinguishing_id=key.distinguishing_id,
        chain_id=chain_id,
        trust_registry=trust_registry,
    )
    return {
        "kind": BINDING_KIND,
        "uscc": validate_uscc(uscc),
        "account": account.address,
        "sm2_public_key": "0x" + key.public_key.hex(),
        "distinguishing_id": "0x" + key.distinguishing_id.hex(),
        "proof": "0x" + proof.hex(),
        "acceptance": "0x" + acceptance.hex(),
        "certificate": "" if certificate is None else "0x" + certificate.der.hex(),
        "certificate_subject": None if certificate is None else certificate.subject,
        "chain_id": deployment.chain_id,
        "trust_registry": deployment.trust_registry,
    }


def _hex(data: dict[str, Any], member: str, path: Path, *, empty: bool = False) -> bytes:
    value = data.get(member)
    if not isinstance(value, str):
        fail(f"{path} lacks {member} (hex text), as `elicense keys sm2-proof` writes it")
    try:
        raw = bytes.fromhex(value.removeprefix("0x"))
    except ValueError:
        fail(f"{path}: {member} is not hex")
    if not raw and not empty:
        fail(f"{path}: {member} is empty")
    return raw


def read_binding(path: Path, *, uscc: str, deployment: Deployment) -> Binding:
    """The binding file at ``path``, checked for department ``uscc`` in ``deployment``: its shape, the
    SM2 proof of possession (verified here, as every verifier will) and the certificate (it must hold
    the same key). Anything wrong is a one-line error; nothing is sent."""
    try:
        if path.stat().st_size > _MAX_BINDING_BYTES:
            fail(f"{path} is larger than {_MAX_BINDING_BYTES} bytes; expected what `elicense keys sm2-proof` writes")
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}")
    except (ValueError, UnicodeDecodeError):
        fail(f"{path} is not JSON; expected what `elicense keys sm2-proof` writes")
    if not isinstance(data, dict) or data.get("kind") != BINDING_KIND:
        fail(f"{path} is not an SM2 binding file (kind {BINDING_KIND!r}, written by `elicense keys sm2-proof`)")
    uscc = validate_uscc(uscc, field="--uscc")
    if data.get("uscc") != uscc:
        fail(f"{path} binds a key of department {data.get('uscc')!r}, not of {uscc}")
    if data.get("chain_id") != deployment.chain_id or str(data.get("trust_registry", "")).lower() != (
        deployment.trust_registry.lower()
    ):
        fail(
            f"{path} was made for another deployment (chain {data.get('chain_id')}, trust registry "
            f"{data.get('trust_registry')}); the department must run `elicense keys sm2-proof` with this "
            f"deployment (chain {deployment.chain_id}, trust registry {deployment.trust_registry})"
        )
    account = data.get("account")
    if not isinstance(account, str) or not is_address(account):
        fail(f"{path}: account is not an address")
    account = to_checksum_address(account)
    try:
        registration = Sm2KeyRegistration(
            public_key=_hex(data, "sm2_public_key", path),
            distinguishing_id=_hex(data, "distinguishing_id", path),
            proof=_hex(data, "proof", path),
            certificate=_hex(data, "certificate", path, empty=True),
        )
    except ConfigurationError as exc:
        fail(f"{path}: {exc}")
    acceptance = _hex(data, "acceptance", path)
    if not _proof_holds(registration, account=account, uscc=uscc, deployment=deployment):
        fail(
            f"{path}: the SM2 proof of possession does not verify: it was not made by the SM2 key "
            f"0x{registration.public_key.hex()[:16]}... for account {account} of {uscc} in this deployment. "
            "Refused before sending; ask the department for a new `elicense keys sm2-proof`"
        )
    subject = None
    if registration.certificate:
        try:
            certificate = parse_sm2_certificate(registration.certificate)
        except SignerInputError as exc:
            fail(f"{path}: the certificate: {exc}")
        if certificate.public_key != registration.public_key:
            fail(f"{path}: the certificate certifies another public key than the SM2 key being bound")
        subject = certificate.subject
    return Binding(uscc, account, registration, acceptance, subject)


def _proof_holds(registration: Sm2KeyRegistration, *, account: str, uscc: str, deployment: Deployment) -> bool:
    try:
        return verify_sm2_key_acceptance(
            issuer_id=issuer_id_from_uscc(uscc),
            account=account,
            sm2_public_key=registration.public_key,
            distinguishing_id=registration.distinguishing_id,
            proof=registration.proof,
            chain_id=deployment.chain_id,
            trust_registry=deployment.trust_registry,
        )
    except SignerInputError:
        return False


def sm2_keys(client: RegistryClient, issuer_id: bytes) -> list[dict[str, Any]]:
    """The issuer's SM2-bound accounts (from the chain's Sm2KeyBound events), each with its SM2 key,
    ID, window now, whether its proof verifies (a binding whose proof fails counts for no verifier)
    and its certificate's subject (only when the certificate holds the bound key)."""
    now = int(client.w3.eth.get_block("latest")["timestamp"])
    deployment = client.deployment
    found = []
    for event in client.get_events(deployment.block_number):
        if not isinstance(event, Sm2KeyBound) or event.issuer_id != issuer_id:
            continue
        window = client.get_key(event.key)
        subject = None
        if event.certificate:
            try:
                certificate = parse_sm2_certificate(event.certificate)
                subject = certificate.subject if certificate.public_key == event.public_key else None
            except SignerInputError:
                subject = None
        try:
            proof_ok = verify_sm2_key_acceptance(
                issuer_id=issuer_id,
                account=event.key,
                sm2_public_key=event.public_key,
                distinguishing_id=event.distinguishing_id,
                proof=event.proof,
                chain_id=deployment.chain_id,
                trust_registry=deployment.trust_registry,
            )
        except SignerInputError:
            proof_ok = False
        found.append(
            {
                "account": event.key,
                "sm2_public_key": "0x" + event.public_key.hex(),
                "distinguishing_id": event.distinguishing_id.decode("utf-8", "replace"),
                "proof_verifies": proof_ok,
                "certificate_subject": subject,
                "from": None if window is None else window.valid_from,
                "until": None if window is None or window.valid_until == OPEN_END else window.valid_until,
                "valid_now": window is not None and window.contains(now),
            }
        )
    return found


def sm2_sibling(account_keystore: Path) -> Path:
    """The SM2 keystore beside an account keystore: ``NAME.json`` -> ``NAME.sm2.json``."""
    return account_keystore.with_name(account_keystore.name.removesuffix(".json") + ".sm2.json")


def open_department_keys(
    path: Path, source: PasswordSource, *, signs: bool
) -> tuple[LocalAccount, Sm2SigningKey | None]:
    """The account of keystore ``path`` and, for a command that ``signs`` licenses, the SM2 key they
    are signed with when ``NAME.sm2.json`` lies beside it (one password opens both). A command that
    only anchors or changes status opens the account alone: the SM2 key stays sealed."""
    sibling = sm2_sibling(path)
    sm2 = signs and sibling.exists()
    password = source.read(purpose=str(path) + (f" and {sibling}" if sm2 else ""))
    account = load_account(path, password)
    return account, load_sm2_key(sibling, password)[0] if sm2 else None


def make_department(
    *,
    uscc: str,
    account: LocalAccount,
    sm2_key: Sm2SigningKey | None,
    store: IssuerStore,
    deployment: Deployment,
    client: RegistryClient | None,
) -> Department:
    """The department signing with ``sm2_key`` (SM2, bound to ``account``) or with ``account`` itself
    (secp256k1). With a chain, the suite is checked against it first: an SM2 key must be the one bound
    to the account, and an account bound to an SM2 key signs only with it (one suite per key: a
    verifier reads any other signature as tampered)."""
    if client is not None:
        bound = client.get_sm2_key(account.address)
        if sm2_key is not None and bound != keccak256(sm2_key.public_key + sm2_key.distinguishing_id):
            fail(
                f"SM2 key 0x{sm2_key.public_key.hex()[:16]}... is not the one bound on chain to account "
                f"{account.address}: its licenses would not verify. The region authority binds it with "
                "`elicense issuer add-sm2-key` (from the department's `elicense keys sm2-proof`)"
            )
        if sm2_key is None and bound is not None:
            fail(
                f"account {account.address} is bound on chain to an SM2 key: its licenses are signed with that "
                "key only. Put its SM2 keystore beside the account's as NAME.sm2.json"
            )
    if sm2_key is None:
        signer = LicenseSigner(account, chain_id=deployment.chain_id, license_registry=deployment.license_registry)
        return Department(issuer_uscc=uscc, store=store, signer=signer, client=client, account=account)
    sm2_signer = Sm2LicenseSigner(sm2_key, chain_id=deployment.chain_id, license_registry=deployment.license_registry)
    return Department(
        issuer_uscc=uscc, store=store, signer=sm2_signer, client=client, account=account, suite=SignatureSuite.SM2
    )
