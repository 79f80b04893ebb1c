"""Checking a receipt against the chain, later: was the answer right at the receipt's block?

The chain state the service answered from is rebuilt from the chain's own events: every registry
event up to the receipt's ``block_number`` (whose hash must still be the receipt's ``block_hash``:
otherwise the block was reorganised away, or this is another chain) and, as the service's mirror
does, the negative facts (suspensions, revocations, supersessions, key compromises and retirements)
of the younger blocks up to ``head_block``. From that state the steps of the verification pipeline
that need no QR text are run again, with the receipt's license id, digest, signer key, validity
window and time: issuer registered, signer a key of the issuer, anchored by that key inside its
window, type permitted, co-approval, status on chain, validity window at ``checked_at``.

What cannot be checked: whether the QR text shown really had that digest and signature (the receipt
holds no QR text: the service's signature on the receipt vouches for that), and the answers that
only the QR text decides (``tampered`` by an altered text, ``malformed``). For a joint bundle the
members come from the joint anchor on chain: the co-signatures still counting, and each member's
anchor by its own issuer, key window, type permission, co-approval and status at that block; its
validity window is not in the receipt (a ``member_not_valid`` the chain cannot explain is not
checkable). The same state is then advanced to the
chain's head, to say what the chain answers now (a license revoked since the receipt, say).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from registry import RegistryClient
from registry.chain.events import RegistryEvent
from registry.document.catalog import get_type
from registry.document.identifiers import LicenseIdentifier
from registry.document.license import LicenseHeader
from registry.document.schema import day_number
from verifier._standing import standing
from verifier.bundle import BundleOutcome, joint_status_on_chain
from verifier.index import NEGATIVE_EVENTS, EventIndex
from verifier.receipts import Receipt, VerifierIdentity, issue_receipt

__all__ = ["ChainCheck", "check_receipt_against_chain", "receipt_for_client_state", "status_at"]

#: The answers only the QR text decides: the chain cannot confirm or deny them.
_TEXT_ONLY = frozenset({"tampered", "malformed"})


@dataclass(frozen=True, slots=True)
class ChainCheck:
    """``verdict``: ``right`` (the chain's record at the receipt's block gives the receipt's status),
    ``wrong`` (it gives another), ``block_mismatch`` (the chain has no such block, or another block
    at that height), ``wrong_chain`` (another chain or registry), ``not_checkable`` (an answer only
    the QR text decides). ``chain_status`` is what the chain gives at the block, ``status_now`` what
    it gives at its head now."""

    verdict: str
    detail: str
    receipt_status: str
    chain_status: str | None = None
    status_now: str | None = None
    head: int | None = None

    @property
    def agrees(self) -> bool:
        return self.verdict == "right"


def check_receipt_against_chain(receipt: Receipt, client: RegistryClient, *, now: float | None = None) -> ChainCheck:
    """Rebuild the state at the receipt's block from ``client``'s chain and compare (see the module
    documentation). Reads the chain's events from the deployment block on."""
    deployment = client.deployment
    if receipt.chain_id != deployment.chain_id or receipt.registry.lower() != deployment.license_registry.lower():
        return ChainCheck(
            "wrong_chain",
            f"the receipt is for chain {receipt.chain_id}, registry {receipt.registry}; this client is for chain "
            f"{deployment.chain_id}, registry {deployment.license_registry}",
            receipt.status,
        )
    head = client.block_number()
    if not deployment.block_number <= receipt.block_number <= receipt.head_block <= head:
        return ChainCheck(
            "block_mismatch",
            f"the receipt's blocks {receipt.block_number}..{receipt.head_block} are not between the registry's "
            f"deployment block {deployment.block_number} and the chain's head {head}",
            receipt.status,
            head=head,
        )
    times: dict[int, int] = {}

    def block_time(number: int) -> int:
        if number not in times:
            times[number] = int(client.w3.eth.get_block(number)["timestamp"])
        return times[number]

    block = client.w3.eth.get_block(receipt.block_number)
    if "0x" + bytes(block["hash"]).hex() != receipt.block_hash:
        return ChainCheck(
            "block_mismatch",
            f"block {receipt.block_number} of this chain has hash 0x{bytes(block['hash']).hex()}, not the receipt's "
            f"{receipt.block_hash}: the block was reorganised away, or this is another chain",
            receipt.status,
            head=head,
        )
    index = EventIndex()
    for event in client.get_events(deployment.block_number, receipt.block_number):
        index.apply(event, block_time(event.meta.block_number))
    index.advance(receipt.block_number, int(block["timestamp"]))
    younger: list[RegistryEvent] = []
    if receipt.head_block > receipt.block_number:
        younger = client.get_events(receipt.block_number + 1, receipt.head_block)
        index.set_pending(
            [(e, block_time(e.meta.block_number)) for e in younger if isinstance(e, NEGATIVE_EVENTS)],
            receipt.head_block,
        )
    at_block = status_at(index, receipt, float(receipt.checked_at))
    failing: list[str] = []
    if receipt.kind == "bundle" and receipt.digest is not None:
        _, failing = joint_status_on_chain(index, bytes.fromhex(receipt.digest[2:]))
    # then on to the head: what the chain answers now
    index.set_pending([], 0)
    later = younger + (client.get_events(receipt.head_block + 1, head) if head > receipt.head_block else [])
    for event in later:
        index.apply(event, block_time(event.meta.block_number))
    index.advance(head, block_time(head))
    now_status = status_at(index, receipt, time.time() if now is None else now)
    if at_block is None:
        return ChainCheck(
            "not_checkable",
            f"{receipt.status!r} is decided by the QR text alone; the chain cannot confirm or deny it"
            + (
                " (every member is in order on chain; a member's validity window is not in the receipt)"
                if receipt.kind == "bundle"
                else ""
            ),
            receipt.status,
            None,
            now_status,
            head,
        )
    if at_block == receipt.status:
        detail = f"at block {receipt.block_number} the chain's record gives {at_block!r}, as the receipt says"
        verdict = "right"
    else:
        detail = f"at block {receipt.block_number} the chain's record gives {at_block!r}, not {receipt.status!r}"
        verdict = "wrong"
    if failing:
        detail += " (" + "; ".join(failing) + ")"
    if now_status is not None and now_status != at_block:
        detail += f"; at the head (block {head}) it gives {now_status!r}"
    return ChainCheck(verdict, detail, receipt.status, at_block, now_status, head)


def status_at(index: EventIndex, receipt: Receipt, checked_at: float) -> str | None:
    """The outcome the verification pipeline gives from ``index`` for the receipt's license (or the
    anchoring of its bundle), at ``checked_at``; None when the chain cannot decide it."""
    if receipt.status in _TEXT_ONLY or receipt.digest is None or receipt.subject is None:
        return None
    digest = bytes.fromhex(receipt.digest[2:])
    if receipt.kind == "bundle":
        found, _ = joint_status_on_chain(index, digest)
        if found == BundleOutcome.VALID and receipt.status == BundleOutcome.MEMBER_NOT_VALID:
            return None  # every member in order on chain: a member's validity window, which only the text holds
        return found
    try:
        license_id = LicenseIdentifier.parse(receipt.subject)
    except ValueError:
        return None
    issuer_id = license_id.issuer_id
    issuer = index.issuer(issuer_id)
    if issuer is None:
        return "unknown_issuer"
    signer = receipt.signer
    key = None if signer is None else index.key(signer)
    if key is None or key.issuer_id != issuer_id:
        return "tampered"
    anchor = index.anchor_of(issuer_id, digest, signer)
    if anchor is None:
        return "not_anchored" if key.contains(max(int(checked_at), index.block_time)) else "key_not_valid"
    if not anchor.valid:
        return "not_anchored"
    if anchor.key != signer or not key.contains(anchor.timestamp):
        return "key_not_valid"
    if receipt.valid_from is None:
        return None
    header = LicenseHeader(
        get_type(license_id.type_code),
        license_id,
        day_number(dt.date.fromisoformat(receipt.valid_from)),
        None if receipt.valid_to is None else day_number(dt.date.fromisoformat(receipt.valid_to)),
    )
    return standing(index, issuer, header, digest, anchor=anchor, checked_at=checked_at).outcome.value


def receipt_for_client_state(
    result: Mapping[str, Any], identity: VerifierIdentity, client: RegistryClient, state: EventIndex
) -> dict[str, Any]:
    """Sign a receipt of ``result``, answered from ``state`` kept by ``client``
    (:class:`~verifier.state.ChainClientState`: every event up to its block, none pending)."""
    number = state.block_number
    block = client.w3.eth.get_block(number)
    deployment = client.deployment
    return issue_receipt(
        result,
        identity,
        chain_id=deployment.chain_id,
        registry=deployment.license_registry,
        block_number=number,
        block_hash=bytes(block["hash"]),
        head_block=number,
        now=time.time(),
    )
