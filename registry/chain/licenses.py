"""The license registry's half of the chain client: anchoring batches of license digests, their
status changes, and what the registry says of an anchor, a status or a presented license."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address

from registry.chain import _args as check
from registry.chain._contracts import ContractCalls
from registry.chain.events import BatchAnchored
from registry.chain.records import Anchor, LicenseStatus, Status
from registry.chain.transport import TxResult
from registry.errors import ConfigurationError, TransactionError
from signer import MerkleTree

__all__ = ["AnchorResult", "LicenseRegistryCalls"]


@dataclass(frozen=True, slots=True)
class AnchorResult:
    """An anchored batch."""

    tx: TxResult
    root: bytes
    issuer_id: bytes
    key: str
    count: int

    @property
    def gas_per_license(self) -> float:
        return self.tx.gas_used / self.count


class LicenseRegistryCalls(ContractCalls):
    """Writes and reads of ``LicenseRegistry``."""

    # -- writes ------------------------------------------------------------------------------------

    def anchor(self, sender: LocalAccount, digests: Sequence[bytes]) -> AnchorResult:
        """Anchor a batch of license digests (any order, no duplicates) as one Merkle root."""
        checked = check.digests("digests", digests)
        if len(set(checked)) != len(checked):
            raise ConfigurationError("digests hold duplicates; each license is anchored once per batch")
        tree = MerkleTree(sorted(checked))
        n = len(tree)
        calldata = 4 + 32 * 3 + 32 * n
        # enough for the EIP-7623 floor (40 gas per calldata byte, charged at the end) and for the
        # execution (about 550 gas per digest) after the standard calldata cost (16 per byte)
        gas = int(max(21_000 + 40 * calldata, 21_000 + 16 * calldata + 120_000 + 700 * n) * 1.1)
        tx = self._transact(sender, self.licenses.functions.anchor(tree.root, list(tree.digests)), gas)
        anchored = [e for e in tx.events if isinstance(e, BatchAnchored)]
        if len(anchored) != 1 or anchored[0].root != tree.root:
            raise TransactionError("the anchor transaction did not emit the expected BatchAnchored event")
        return AnchorResult(tx=tx, root=tree.root, issuer_id=anchored[0].issuer_id, key=anchored[0].key, count=n)

    def suspend(self, sender: LocalAccount, issuer_id: bytes, digests: Sequence[bytes], *, reason: int) -> TxResult:
        return self._status_change(sender, "suspend", issuer_id, digests, reason)

    def reinstate(
        self, sender: LocalAccount, issuer_id: bytes, digests: Sequence[bytes], *, reason: int = 0
    ) -> TxResult:
        return self._status_change(sender, "reinstate", issuer_id, digests, reason)

    def revoke(self, sender: LocalAccount, issuer_id: bytes, digests: Sequence[bytes], *, reason: int) -> TxResult:
        return self._status_change(sender, "revoke", issuer_id, digests, reason)

    def supersede(
        self,
        sender: LocalAccount,
        issuer_id: bytes,
        digests: Sequence[bytes],
        replacements: Sequence[bytes],
        *,
        reason: int,
    ) -> TxResult:
        checked = check.digests("digests", digests, maximum=check.MAX_STATUS_BATCH // 2)
        repl = check.digests("replacements", replacements, maximum=check.MAX_STATUS_BATCH // 2)
        if len(checked) != len(repl):
            raise ConfigurationError(
                f"supersede needs one replacement per digest: {len(checked)} digests, {len(repl)} replacements"
            )
        args = (check.bytes32("issuer_id", issuer_id), checked, repl, check.uint("reason", reason, check.UINT16_MAX))
        gas = 80_000 + 55_000 * len(checked)
        return self._transact(sender, self.licenses.functions.supersede(*args), gas)

    def void_status_changes(self, sender: LocalAccount, issuer_id: bytes, digests: Sequence[bytes]) -> TxResult:
        """Make licenses active again whose status was set by a key since declared compromised from
        an earlier time (region authorities only)."""
        checked = check.digests("digests", digests, maximum=check.MAX_STATUS_BATCH)
        args = (check.bytes32("issuer_id", issuer_id), checked)
        gas = 80_000 + 20_000 * len(checked)
        return self._transact(sender, self.licenses.functions.voidStatusChanges(*args), gas)

    def _status_change(
        self, sender: LocalAccount, function: str, issuer_id: bytes, digests: Sequence[bytes], reason: int
    ) -> TxResult:
        checked = check.digests("digests", digests, maximum=check.MAX_STATUS_BATCH)
        args = (check.bytes32("issuer_id", issuer_id), checked, check.uint("reason", reason, check.UINT16_MAX))
        gas = 80_000 + 30_000 * len(checked)
        return self._transact(sender, getattr(self.licenses.functions, function)(*args), gas)

    # -- reads -------------------------------------------------------------------------------------

    def get_anchor(self, issuer_id: bytes, root: bytes) -> Anchor | None:
        """The anchor of ``root`` by ``issuer_id`` (``None`` when that issuer did not anchor it, even
        if another issuer anchored the same root)."""
        issuer_id = check.bytes32("issuer_id", issuer_id)
        key, timestamp, block_number, count = self._call(
            self.licenses.functions.getAnchor(issuer_id, check.bytes32("root", root))
        )
        if int(key, 16) == 0:
            return None
        return Anchor(
            root=root,
            issuer_id=issuer_id,
            key=to_checksum_address(key),
            timestamp=timestamp,
            block_number=block_number,
            count=count,
        )

    def get_status(self, issuer_id: bytes, digest: bytes) -> LicenseStatus:
        status, reason, set_by, set_at, replacement = self._call(
            self.licenses.functions.getStatus(check.bytes32("issuer_id", issuer_id), check.bytes32("digest", digest))
        )
        return LicenseStatus(
            status=Status(status),
            reason=reason,
            replacement=None if replacement == b"\x00" * 32 else replacement,
            set_by=None if int(set_by, 16) == 0 else to_checksum_address(set_by),
            set_at=set_at,
        )

    def check_license(
        self, issuer_id: bytes, digest: bytes, signature: bytes, root: bytes, proof: Sequence[bytes]
    ) -> dict[str, Any]:
        """What ``LicenseRegistry.checkLicense`` says of a presented license (the on-chain check other
        contracts use): anchored, signer, key valid at anchoring, anchoring time, status."""
        if not isinstance(signature, bytes) or len(signature) != 64:
            raise ConfigurationError("signature must be 64 bytes (EIP-2098 compact form)")
        anchored, signer, checked_issuer, key_valid, anchored_at, status = self._call(
            self.licenses.functions.checkLicense(
                check.bytes32("issuer_id", issuer_id),
                check.bytes32("digest", digest),
                signature[:32],
                signature[32:],
                check.bytes32("root", root),
                [check.bytes32(f"proof[{i}]", p) for i, p in enumerate(proof)],
            )
        )
        return {
            "anchored": anchored,
            "signer": to_checksum_address(signer),
            "issuer_id": checked_issuer,
            "key_valid_at_anchor": key_valid,
            "anchored_at": anchored_at,
            "status": Status(status),
        }
