"""The chain state a verifier reads (:class:`ChainState`, the one interface the verification
pipeline uses), and :class:`ChainClientState`: an :class:`~verifier.index.EventIndex` kept in step
with a chain through the chain client. The persistent mirror keeps the same index in a database.
"""

from __future__ import annotations

import time
from typing import Protocol

from registry import Deployment, RegistryClient
from registry.chain.records import (
    Anchor,
    CoApprovalPolicy,
    Issuer,
    JointAnchor,
    KeyWindow,
    LicenseStatus,
    TypePermission,
)
from verifier._sm2keys import Sm2Binding
from verifier.index import EventIndex, Freshness

__all__ = ["ChainClientState", "ChainState", "EventIndex", "Freshness"]


class ChainState(Protocol):
    """What verification reads. Implementations must not call the issuer."""

    def anchor_of(self, issuer_id: bytes, digest: bytes, signer: str | None = None) -> Anchor | None:
        """The first anchor of ``digest`` by a key of ``issuer_id`` (preferring one by ``signer``)."""
        ...

    def issuer_anchors(self, issuer_id: bytes, digest: bytes) -> tuple[Anchor, ...]:
        """Every anchor of ``digest`` by a key of ``issuer_id`` (one per anchoring key)."""
        ...

    def issuer(self, issuer_id: bytes) -> Issuer | None: ...

    def key(self, address: str) -> KeyWindow | None: ...

    def type_permission(self, issuer_id: bytes, license_type: bytes, at: int) -> TypePermission | None:
        """The permission window that was in force at ``at`` (UNIX seconds), if any."""
        ...

    def status(self, issuer_id: bytes, digest: bytes) -> LicenseStatus: ...

    def freshness(self) -> Freshness: ...

    def joint_anchor(self, bundle_digest: bytes) -> JointAnchor | None: ...

    def joint_anchors_of(self, issuer_id: bytes, digest: bytes) -> list[JointAnchor]:
        """The joint anchors holding ``digest`` as a license of ``issuer_id``."""
        ...

    def co_approval_policy(self, region: int, license_type: bytes, at: int) -> CoApprovalPolicy | None:
        """The co-approval policy in force at ``at`` for the type in the region, if any."""
        ...

    def co_signers(self, anchor: JointAnchor) -> frozenset[bytes]:
        """The departments whose co-signature in ``anchor`` counts (key valid at the anchor's time)."""
        ...

    def sm2_candidates(self, issuer_id: bytes, anchoring: list[str]) -> list[Sm2Binding]:
        """The SM2 keys (proof of possession checked) that may have signed a license of ``issuer_id``:
        those bound to the ``anchoring`` accounts, else the issuer's newest; a few at most."""
        ...

    def is_sm2_account(self, address: str) -> bool:
        """Whether the chain bound an SM2 key to the account (its licenses are signed with SM2)."""
        ...


class ChainClientState(EventIndex):
    """An :class:`EventIndex` kept in step with a chain through the chain client (``sync``)."""

    def __init__(self, client: RegistryClient) -> None:
        super().__init__(trust_domain=(client.deployment.chain_id, client.deployment.trust_registry))
        self.client = client
        self._next_block = client.deployment.block_number
        self._block_times: dict[int, tuple[int, bytes]] = {}

    @property
    def deployment(self) -> Deployment:
        return self.client.deployment

    def _time_of(self, block_number: int) -> int:
        return self._block(block_number)[0]

    def _block(self, block_number: int) -> tuple[int, bytes]:
        if block_number not in self._block_times:
            block = self.client.w3.eth.get_block(block_number)
            self._block_times[block_number] = (int(block["timestamp"]), bytes(block["hash"]))
        return self._block_times[block_number]

    def sync(self) -> int:
        """Apply every event since the last sync; returns how many were applied."""
        head = self.client.block_number()
        if head < self._next_block:
            self.synced_at = time.time()
            return 0
        events = self.client.get_events(self._next_block, head)
        for event in events:
            self.apply(event, self._time_of(event.meta.block_number))
        head_time, head_hash = self._block(head)
        self.advance(head, head_time, head_hash)
        self.synced_at = time.time()
        self._next_block = head + 1
        self._block_times.clear()
        return len(events)
