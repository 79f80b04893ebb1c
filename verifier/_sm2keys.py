"""The SM2 key bindings of the event index: which anchoring account holds which SM2 public key.

A department that signs with SM2 binds its SM2 key to its anchoring account on chain
(``Sm2KeyBound``, emitted with the account's ``KeyAdded``); the account's window is the SM2 key's.
The contract cannot check SM2 signatures, so the index checks what it can not:

- the SM2 proof of possession (the SM2 key's signature of the ``Sm2KeyAcceptance`` typed data under
  the TrustRegistry's EIP-712 domain): a binding whose proof does not verify is ignored, and the
  account then has no SM2 key (its SM2 licenses are ``tampered``);
- the certificate, if any: its subject is shown only when it parses as an SM2 certificate and holds
  the bound key (otherwise the binding stands, without a subject).

Every account an ``Sm2KeyBound`` names, proof valid or not, is an SM2 account for the
one-suite-per-key rule: a secp256k1 license signature recovered to it is ``tampered`` (a thief
holding only the anchoring key cannot sign licenses for an SM2 department).
"""

from __future__ import annotations

from dataclasses import dataclass

from registry.chain.events import Sm2KeyBound
from signer import parse_sm2_certificate, verify_sm2_key_acceptance
from signer.errors import SignerError

__all__ = ["MAX_SM2_CANDIDATES", "Sm2Binding", "Sm2Keys"]

#: SM2 keys tried for a license that no key of its issuer anchored: a crafted QR naming an issuer
#: with many SM2 keys costs at most this many SM2 verifications.
MAX_SM2_CANDIDATES = 8


@dataclass(frozen=True, slots=True)
class Sm2Binding:
    """An account's SM2 key as the chain bound it, its proof of possession checked."""

    account: str
    issuer_id: bytes
    public_key: bytes  # 64 bytes, X || Y
    distinguishing_id: bytes
    subject: str | None  # the certificate's subject, when it holds this key


class Sm2Keys:
    """SM2 bindings by account, checked under the TrustRegistry's domain ``(chain_id, trust_registry)``
    (none known: every binding is ignored, failing closed)."""

    def __init__(self, chain_id: int | None = None, trust_registry: str | None = None) -> None:
        self.chain_id = chain_id
        self.trust_registry = trust_registry
        self.bindings: dict[str, Sm2Binding] = {}
        self.by_issuer: dict[bytes, list[str]] = {}  # accounts with a valid binding, in chain order
        self.sm2_accounts: set[str] = set()  # every account an Sm2KeyBound named
        self.ignored = 0  # bindings whose proof failed

    def apply(self, event: Sm2KeyBound) -> None:
        self.sm2_accounts.add(event.key)
        if event.key in self.bindings:
            return  # the contract binds an account once; a replayed log changes nothing
        if not self._proof_holds(event):
            self.ignored += 1
            return
        self.bindings[event.key] = Sm2Binding(
            account=event.key,
            issuer_id=event.issuer_id,
            public_key=bytes(event.public_key),
            distinguishing_id=bytes(event.distinguishing_id),
            subject=_subject(bytes(event.certificate), bytes(event.public_key)),
        )
        self.by_issuer.setdefault(event.issuer_id, []).append(event.key)

    def _proof_holds(self, event: Sm2KeyBound) -> bool:
        if self.chain_id is None or self.trust_registry is None:
            return False
        try:
            return verify_sm2_key_acceptance(
                issuer_id=event.issuer_id,
                account=event.key,
                sm2_public_key=bytes(event.public_key),
                distinguishing_id=bytes(event.distinguishing_id),
                proof=bytes(event.proof),
                chain_id=self.chain_id,
                trust_registry=self.trust_registry,
            )
        except (SignerError, ValueError):
            return False  # data another issuer wrote is input: a malformed binding is no binding

    def binding(self, account: str) -> Sm2Binding | None:
        return self.bindings.get(account)

    def candidates(self, issuer_id: bytes, anchoring: list[str]) -> list[Sm2Binding]:
        """The SM2 keys that may have signed a license of ``issuer_id``: those of the accounts that
        anchored it (``anchoring``), else, when none did, the issuer's newest bound keys; at most
        :data:`MAX_SM2_CANDIDATES`, each bound for ``issuer_id``."""
        accounts = anchoring if anchoring else reversed(self.by_issuer.get(issuer_id, ()))
        out: list[Sm2Binding] = []
        for account in accounts:
            found = self.bindings.get(account)
            if found is not None and found.issuer_id == issuer_id and found not in out:
                out.append(found)
                if len(out) >= MAX_SM2_CANDIDATES:
                    break
        return out


def _subject(certificate: bytes, public_key: bytes) -> str | None:
    """The certificate's subject when it is an SM2 certificate of ``public_key``, else None."""
    if not certificate:
        return None
    try:
        parsed = parse_sm2_certificate(certificate)
    except (SignerError, ValueError):
        return None
    return parsed.subject if parsed.public_key == public_key else None
