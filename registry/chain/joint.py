"""Joint issuance's part of the chain client: the departments' co-signing keys (BLS12-381, with a
proof of possession the trust registry checks), co-approval policies, and joint anchors (a bundle
of licenses whose aggregate co-signature the license registry checks on chain). See docs/joint.md.

Keys and signatures are taken in their standard compressed form (48 and 96 bytes) and sent in the
form the EVM's precompiles read (EIP-2537: 128 and 256 bytes).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount

from registry.chain import _args as check
from registry.chain._contracts import ContractCalls
from registry.chain.events import JointAnchored
from registry.chain.records import OPEN_END, JointMember, KeyWindow, co_signing_key_ref
from registry.chain.transport import TxResult
from registry.errors import ConfigurationError, TransactionError
from signer import co_signing_key_id, public_key_to_eip2537, signature_to_eip2537

__all__ = ["MAX_JOINT_DEPARTMENTS", "MAX_JOINT_MEMBERS", "JointAnchorResult", "JointCalls"]

MAX_JOINT_MEMBERS = 64
MAX_JOINT_DEPARTMENTS = 16


@dataclass(frozen=True, slots=True)
class JointAnchorResult:
    """An anchored bundle."""

    tx: TxResult
    bundle_digest: bytes
    event: JointAnchored


def _ascending(name: str, values: Sequence[bytes], most: int) -> list[bytes]:
    checked = check.digests(name, values, maximum=most)
    if any(a >= b for a, b in itertools.pairwise(checked)):
        raise ConfigurationError(f"{name} must be in ascending order without repeats")
    return checked


def _bytes(name: str, value: object, size: int) -> bytes:
    if not isinstance(value, bytes) or len(value) != size:
        raise ConfigurationError(f"{name} must be {size} bytes, got {value!r:.80}")
    return value


class JointCalls(ContractCalls):
    """Co-signing keys, co-approval policies and joint anchors."""

    # -- co-signing keys (region authorities) ------------------------------------------------------

    def add_co_signing_key(
        self,
        sender: LocalAccount,
        issuer_id: bytes,
        public_key: bytes,
        proof: bytes,
        *,
        valid_from: int,
        valid_until: int = OPEN_END,
    ) -> TxResult:
        """Add the co-signing key ``public_key`` (48 bytes) to ``issuer_id`` with its proof of
        possession ``proof`` (96 bytes), valid within ``[valid_from, valid_until)``."""
        args = (
            check.bytes32("issuer_id", issuer_id),
            public_key_to_eip2537(_bytes("public_key", public_key, 48)),
            signature_to_eip2537(_bytes("proof", proof, 96)),
            check.uint("valid_from", valid_from, check.UINT64_MAX),
            check.uint("valid_until", valid_until, check.UINT64_MAX),
        )
        return self._transact(sender, self.trust.functions.addCoSigningKey(*args), 500_000)

    def rotate_co_signing_key(
        self, sender: LocalAccount, issuer_id: bytes, old_key_id: bytes, public_key: bytes, proof: bytes
    ) -> TxResult:
        """End ``old_key_id``'s window now and add ``public_key`` from now (region authorities)."""
        args = (
            check.bytes32("issuer_id", issuer_id),
            check.bytes32("old_key_id", old_key_id),
            public_key_to_eip2537(_bytes("public_key", public_key, 48)),
            signature_to_eip2537(_bytes("proof", proof, 96)),
        )
        return self._transact(sender, self.trust.functions.rotateCoSigningKey(*args), 550_000)

    def retire_co_signing_key(self, sender: LocalAccount, issuer_id: bytes, key_id: bytes) -> TxResult:
        """End a co-signing key's window now (an authority, or a signing key of the issuer valid now)."""
        args = (check.bytes32("issuer_id", issuer_id), check.bytes32("key_id", key_id))
        return self._transact(sender, self.trust.functions.retireCoSigningKey(*args), 120_000)

    def declare_co_signing_key_compromised(
        self, sender: LocalAccount, issuer_id: bytes, key_id: bytes, *, compromised_at: int
    ) -> TxResult:
        args = (
            check.bytes32("issuer_id", issuer_id),
            check.bytes32("key_id", key_id),
            check.uint("compromised_at", compromised_at, check.UINT64_MAX),
        )
        return self._transact(sender, self.trust.functions.declareCoSigningKeyCompromised(*args), 120_000)

    def get_co_signing_key(self, key_id: bytes) -> KeyWindow | None:
        """The co-signing key's issuer and window (None when unknown)."""
        record = self._call(self.trust.functions.getCoSigningKey(check.bytes32("key_id", key_id)))
        issuer_id, valid_from, valid_until = record[0], record[1], record[2]
        if issuer_id == b"\x00" * 32:
            return None
        return KeyWindow(co_signing_key_ref(key_id), issuer_id, valid_from, valid_until)

    # -- co-approval policies (region authorities) -------------------------------------------------

    def set_co_approval_policy(
        self, sender: LocalAccount, region: int, license_type: bytes, departments: Sequence[bytes]
    ) -> TxResult:
        """Require the co-signatures of ``departments`` (issuer ids; empty: end the policy) for the
        licenses of ``license_type`` issued in ``region``."""
        listed = list(departments)
        if listed:
            listed = sorted(check.digests("departments", listed, maximum=MAX_JOINT_DEPARTMENTS))
            _ascending("departments", listed, MAX_JOINT_DEPARTMENTS)
        args = (check.region(region), check.bytes32("license_type", license_type), listed)
        return self._transact(sender, self.trust.functions.setCoApprovalPolicy(*args), 120_000 + 45_000 * len(listed))

    def get_co_approval_policy(self, region: int, license_type: bytes) -> tuple[bytes, ...]:
        fn = self.trust.functions.getCoApprovalPolicy(check.region(region), check.bytes32("license_type", license_type))
        return tuple(bytes(d) for d in self._call(fn))

    # -- joint anchors -----------------------------------------------------------------------------

    @staticmethod
    def _bundle(
        application_id: bytes, applicant: bytes, members: Sequence[JointMember], departments: Sequence[bytes]
    ) -> tuple[bytes, bytes, list[bytes], list[bytes], list[bytes], list[bytes]]:
        ordered = sorted(members, key=lambda m: m.digest)
        digests = _ascending("member digests", [m.digest for m in ordered], MAX_JOINT_MEMBERS)
        return (
            check.bytes32("application_id", application_id),
            check.bytes32("applicant", applicant),
            digests,
            [check.bytes32("license_type", m.license_type) for m in ordered],
            [check.bytes32("issuer_id", m.issuer_id) for m in ordered],
            _ascending("departments", departments, MAX_JOINT_DEPARTMENTS),
        )

    def joint_bundle_digest(
        self, application_id: bytes, applicant: bytes, members: Sequence[JointMember], departments: Sequence[bytes]
    ) -> bytes:
        """The bundle digest the departments co-sign, as the license registry computes it."""
        bundle = self._bundle(application_id, applicant, members, departments)
        return bytes(self._call(self.licenses.functions.jointBundleDigest(bundle)))

    def anchor_joint(
        self,
        sender: LocalAccount,
        *,
        application_id: bytes,
        applicant: bytes,
        members: Sequence[JointMember],
        departments: Sequence[bytes],
        public_keys: Sequence[bytes],
        aggregate: bytes,
    ) -> JointAnchorResult:
        """Anchor a bundle: ``public_keys`` are the departments' co-signing keys (48 bytes each, in
        the departments' order), ``aggregate`` their aggregate signature of the bundle digest (96
        bytes). The sender is a signing key, valid now, of one of the departments."""
        bundle = self._bundle(application_id, applicant, members, departments)
        if len(public_keys) != len(bundle[5]):
            raise ConfigurationError(
                f"{len(bundle[5])} departments need as many co-signing keys, got {len(public_keys)}"
            )
        keys = b"".join(public_key_to_eip2537(_bytes(f"public_keys[{i}]", k, 48)) for i, k in enumerate(public_keys))
        signature = signature_to_eip2537(_bytes("aggregate", aggregate, 96))
        n, k = len(bundle[2]), len(bundle[5])
        # the pairing check (103,416 gas), hashing to G2 (about 61,000) and per member a policy and a
        # permission lookup in the trust registry, per department a key lookup
        gas = 420_000 + 40_000 * n + 25_000 * k
        tx = self._transact(sender, self.licenses.functions.anchorJoint(bundle, keys, signature), gas)
        anchored = [e for e in tx.events if isinstance(e, JointAnchored)]
        if len(anchored) != 1:
            raise TransactionError("the joint anchor transaction did not emit one JointAnchored event")
        expected = [co_signing_key_id(k) for k in public_keys]
        if list(anchored[0].key_ids) != expected:
            raise TransactionError("the joint anchor's event names other co-signing keys than those sent")
        return JointAnchorResult(tx=tx, bundle_digest=anchored[0].bundle_digest, event=anchored[0])

    def get_joint_anchor(self, bundle_digest: bytes) -> tuple[int, int] | None:
        """(time, block number) of the bundle's joint anchor, None when not anchored."""
        record = self._call(self.licenses.functions.getJointAnchor(check.bytes32("bundle_digest", bundle_digest)))
        submitter, timestamp, block_number = record[0], int(record[1]), int(record[2])
        return None if int(submitter, 16) == 0 else (timestamp, block_number)
