"""Joint applications (联办件): one applicant, licenses from several departments, one bundle the
departments co-sign and anchor together (see docs/joint.md).

The lead department opens an application for an applicant (an enterprise's credit code and name)
and names any co-approving departments (联合审批) beyond the licenses' issuers; each department
adds the licenses it issued for the application; every department then co-signs the bundle
digest with its co-signing key (a BLS12-381 key registered on chain with its proof of
possession); a signing key of one of the departments anchors the bundle with the aggregate
co-signature, which the license registry checks on chain. Members added after a co-signature make
it stale (it signed another digest): it no longer counts and the department signs again.

Anchoring is recorded (``anchoring``, with the bundle digest) before the transaction is sent, and
a restart asks the chain whether that digest was anchored before sending again: a crash at any
point anchors nothing twice (the contract refuses a second anchor of a bundle anyway).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence

from eth_account.signers.local import LocalAccount
from sqlalchemy import delete, insert, select, update

from registry.chain.client import RegistryClient
from registry.chain.joint import JointAnchorResult
from registry.chain.records import JointMember as ChainMember
from registry.document.identifiers import issuer_id_from_uscc, validate_uscc
from registry.document.joint import (
    MAX_DEPARTMENTS,
    MAX_MEMBERS,
    Applicant,
    JointApplicationId,
    JointBundle,
    JointMember,
    present_bundle,
)
from registry.errors import ConfigurationError, ContractRevertError
from registry.issuer.department import Department
from registry.issuer.joint_records import ApplicationNotFoundError, Cosignature, JointApplication, JointStateError
from registry.issuer.joint_tables import joint_applications, joint_cosignatures, joint_members
from registry.issuer.store import IssuerStore, licenses
from signer import CoSigningKey, aggregate_signatures, co_signing_key_id, verify_co_signatures

__all__ = ["ApplicationNotFoundError", "Cosignature", "JointApplication", "JointDesk", "JointStateError"]


class JointDesk:
    """Joint applications in an issuer store, for the chain deployment whose license registry's
    EIP-712 domain is ``domain`` (the bundle digest the departments sign depends on it)."""

    def __init__(self, store: IssuerStore, *, domain: bytes, client: RegistryClient | None = None) -> None:
        self.store = store
        self.domain = domain
        self.client = client

    # -- the application ---------------------------------------------------------------------------

    def open(
        self, *, lead_uscc: str, applicant_uscc: str, applicant_name: str, co_approvers: Iterable[str] = ()
    ) -> JointApplication:
        lead = validate_uscc(lead_uscc, field="lead department")
        applicant = Applicant.create(applicant_uscc, applicant_name)
        extra = sorted({validate_uscc(c, field="co-approving department") for c in co_approvers} - {lead})
        if len(extra) + 1 > MAX_DEPARTMENTS:
            raise ConfigurationError(f"{len(extra) + 1} departments; a joint application has at most {MAX_DEPARTMENTS}")
        serial = self.store.allocate_serials(lead, "JA", 1)
        application_id = JointApplicationId(lead, serial)
        with self.store.engine.begin() as conn:
            conn.execute(
                insert(joint_applications).values(
                    application_id=str(application_id),
                    lead_uscc=lead,
                    applicant_uscc=applicant.credit_code,
                    applicant_name=applicant.name,
                    applicant_salt=applicant.salt,
                    co_approvers=json.dumps(extra),
                    state="open",
                    created_at=int(time.time()),
                )
            )
        return self.get(str(application_id))

    def add(self, application_id: str, license_ids: Sequence[str]) -> JointApplication:
        """Add licenses of this store to an open application (all or none). The bundle's bounds
        (64 members, 16 departments) are checked in the same transaction as the insert, with the
        application's row locked, so concurrent additions cannot together pass them."""
        key = self._open(application_id).application_id
        wanted = list(dict.fromkeys(str(i).strip().upper() for i in license_ids))
        if len(wanted) > MAX_MEMBERS:
            raise ConfigurationError(f"{len(wanted)} licenses given; a joint application holds at most {MAX_MEMBERS}")
        with self.store.engine.begin() as conn:
            row = conn.execute(
                select(joint_applications).where(joint_applications.c.application_id == key).with_for_update()
            ).first()
            if row is None or row.state != "open":
                raise JointStateError(f"joint application {key} is {'gone' if row is None else row.state}")
            found = {
                str(r[0]) for r in conn.execute(select(licenses.c.license_id).where(licenses.c.license_id.in_(wanted)))
            }
            unknown = sorted(set(wanted) - found)
            if unknown:
                raise ConfigurationError(f"no license {', '.join(unknown)} in this store")
            present = {
                str(r[0])
                for r in conn.execute(select(joint_members.c.license_id).where(joint_members.c.application_id == key))
            }
            new = [i for i in wanted if i not in present]
            members = present | set(new)
            departments = {i[2:20] for i in members} | set(json.loads(row.co_approvers)) | {row.lead_uscc}
            if len(members) > MAX_MEMBERS:
                raise ConfigurationError(
                    f"joint application {key} would hold {len(members)} licenses; at most {MAX_MEMBERS}"
                )
            if len(departments) > MAX_DEPARTMENTS:
                raise ConfigurationError(
                    f"joint application {key} would have {len(departments)} departments; at most {MAX_DEPARTMENTS}"
                )
            if new:
                now = int(time.time())
                conn.execute(
                    insert(joint_members),
                    [{"application_id": key, "license_id": i, "added_at": now} for i in new],
                )
        return self.get(key)

    def add_co_approvers(self, application_id: str, co_approvers: Iterable[str]) -> JointApplication:
        """Name more co-approving departments of an open application (联合审批, for instance the
        departments a co-approval policy requires); the co-signatures made so far go stale."""
        application = self._open(application_id)
        extra = {validate_uscc(c, field="co-approving department") for c in co_approvers}
        merged = sorted(set(application.co_approvers) | extra)
        with self.store.engine.begin() as conn:
            conn.execute(
                update(joint_applications)
                .where(joint_applications.c.application_id == application.application_id)
                .values(co_approvers=json.dumps(merged))
            )
        return self.get(application_id)

    def reopen(self, application_id: str) -> JointApplication:
        """Put an application whose anchoring the chain refused (a contract error: nothing was
        anchored) back to ``open``, so its members, co-approvers and co-signatures can be fixed.
        Refused when the chain holds the anchor of its bundle (it is then marked anchored)."""
        if self.client is None:
            raise ConfigurationError("reopening needs a chain client (to see that nothing was anchored)")
        application = self.get(application_id)
        if application.state != "anchoring" or application.bundle_digest is None:
            return application
        recorded = self.client.get_joint_anchor(application.bundle_digest)
        if recorded is not None:
            return self._mark_anchored(application.application_id, None, recorded[1], recorded[0], 0)
        with self.store.engine.begin() as conn:
            conn.execute(
                update(joint_applications)
                .where(joint_applications.c.application_id == application.application_id)
                .values(state="open", bundle_digest=None)
            )
        return self.get(application_id)

    def get(self, application_id: str) -> JointApplication:
        key = JointApplicationId.parse(application_id).text
        with self.store.engine.connect() as conn:
            row = conn.execute(select(joint_applications).where(joint_applications.c.application_id == key)).first()
            if row is None:
                raise ApplicationNotFoundError(f"no joint application {key} in this store")
            ids = tuple(
                str(r[0])
                for r in conn.execute(
                    select(joint_members.c.license_id)
                    .where(joint_members.c.application_id == key)
                    .order_by(joint_members.c.license_id)
                )
            )
            signatures = tuple(
                Cosignature(r.issuer_uscc, bytes(r.bundle_digest), bytes(r.public_key), bytes(r.signature), r.signed_at)
                for r in conn.execute(select(joint_cosignatures).where(joint_cosignatures.c.application_id == key))
            )
        data = row._mapping
        applicant = Applicant(data["applicant_uscc"], data["applicant_name"], bytes(data["applicant_salt"]))
        co_approvers = tuple(json.loads(data["co_approvers"]))
        bundle = self._bundle(key, applicant, ids, co_approvers) if ids else None
        if data["bundle_digest"] is not None:
            digest: bytes | None = bytes(data["bundle_digest"])
        else:
            digest = None if bundle is None else bundle.digest(self.domain)
        return JointApplication(
            application_id=key,
            lead_uscc=data["lead_uscc"],
            applicant=applicant,
            co_approvers=co_approvers,
            state=data["state"],
            created_at=data["created_at"],
            license_ids=ids,
            cosignatures=signatures,
            bundle=bundle,
            bundle_digest=digest,
            tx_hash=None if data["tx_hash"] is None else bytes(data["tx_hash"]),
            block_number=data["block_number"],
        )

    def list(self, *, lead_uscc: str | None = None, limit: int = 100) -> list[str]:
        query = select(joint_applications.c.application_id).order_by(joint_applications.c.created_at).limit(limit)
        if lead_uscc is not None:
            query = query.where(joint_applications.c.lead_uscc == lead_uscc)
        with self.store.engine.connect() as conn:
            return [str(r[0]) for r in conn.execute(query)]

    def _bundle(
        self, application_id: str, applicant: Applicant, license_ids: Sequence[str], co_approvers: Sequence[str]
    ) -> JointBundle:
        members = []
        for license_id in license_ids:
            row = self.store.get(license_id)
            if row is None:
                raise ConfigurationError(f"license {license_id} of application {application_id} left the store")
            members.append(JointMember.from_license(Department.license_of(row)))
        app_id = JointApplicationId.parse(application_id)
        # the lead is always a department (it co-signs), whether or not it adds a license of its own
        return JointBundle.create(app_id, applicant, members, (*co_approvers, app_id.lead_uscc))

    def _open(self, application_id: str) -> JointApplication:
        application = self.get(application_id)
        if application.state != "open":
            raise JointStateError(f"joint application {application.application_id} is {application.state}")
        return application

    # -- co-signing --------------------------------------------------------------------------------

    def cosign(self, application_id: str, issuer_uscc: str, key: CoSigningKey) -> Cosignature:
        """``issuer_uscc`` co-signs the bundle as it stands with its co-signing key."""
        application = self._open(application_id)
        if application.bundle_digest is None:
            raise JointStateError(f"joint application {application.application_id} has no license yet")
        signature = key.sign(application.bundle_digest)
        return self.add_cosignature(application_id, issuer_uscc, key.public_key, signature)

    def add_cosignature(
        self, application_id: str, issuer_uscc: str, public_key: bytes, signature: bytes
    ) -> Cosignature:
        """Record a co-signature made elsewhere (checked against the bundle digest first)."""
        application = self._open(application_id)
        department = validate_uscc(issuer_uscc, field="department")
        if department not in application.departments:
            raise ConfigurationError(
                f"{department} is not a department of application {application.application_id} "
                f"(its departments: {', '.join(application.departments)})"
            )
        digest = application.bundle_digest
        if digest is None:
            raise JointStateError(f"joint application {application.application_id} has no license yet")
        if not verify_co_signatures([public_key], digest, signature):
            raise ConfigurationError("the co-signature does not verify with that key over the application's bundle")
        if self.client is not None:
            window = self.client.get_co_signing_key(co_signing_key_id(public_key))
            now = self.client.w3.eth.get_block("latest")["timestamp"]
            if window is None or window.issuer_id != issuer_id_from_uscc(department) or not window.contains(now):
                raise ConfigurationError(
                    f"that key is not a co-signing key of {department} valid now on chain: register it "
                    "(elicense issuer add-co-signing-key) or use the department's current key"
                )
        cosignature = Cosignature(department, digest, public_key, signature, int(time.time()))
        with self.store.engine.begin() as conn:
            key = (joint_cosignatures.c.application_id == application.application_id) & (
                joint_cosignatures.c.issuer_uscc == department
            )
            conn.execute(delete(joint_cosignatures).where(key))
            conn.execute(
                insert(joint_cosignatures).values(
                    application_id=application.application_id,
                    issuer_uscc=department,
                    bundle_digest=digest,
                    public_key=public_key,
                    signature=signature,
                    signed_at=cosignature.signed_at,
                )
            )
        return cosignature

    # -- anchoring ---------------------------------------------------------------------------------

    def anchor(self, application_id: str, sender: LocalAccount) -> JointApplication:
        """Aggregate the co-signatures and anchor the bundle (``sender``: a signing key, valid now,
        of one of the departments). Resumes an anchoring a crash interrupted."""
        if self.client is None:
            raise ConfigurationError("anchoring needs a chain client")
        application = self.get(application_id)
        if application.state == "anchored":
            return application
        bundle, digest = application.bundle, application.bundle_digest
        if bundle is None or digest is None:
            raise JointStateError(f"joint application {application.application_id} has no license yet")
        if application.state == "anchoring":
            recorded = self.client.get_joint_anchor(digest)
            if recorded is not None:
                return self._mark_anchored(application.application_id, None, recorded[1], recorded[0], 0)
        missing = application.missing_cosignatures
        if missing:
            raise JointStateError(
                f"joint application {application.application_id} lacks the co-signature of {', '.join(missing)}"
            )
        current = application.current_cosignatures
        departments = application.departments
        with self.store.engine.begin() as conn:
            conn.execute(
                update(joint_applications)
                .where(joint_applications.c.application_id == application.application_id)
                .values(state="anchoring", bundle_digest=digest)
            )
        try:
            result: JointAnchorResult = self.client.anchor_joint(
                sender,
                application_id=bundle.application_id.chain_id,
                applicant=bundle.applicant.commitment,
                members=[ChainMember(m.digest, m.license_type.type_id, m.issuer_id) for m in bundle.members],
                departments=[issuer_id_from_uscc(d) for d in departments],
                public_keys=[current[d].public_key for d in departments],
                aggregate=aggregate_signatures([current[d].signature for d in departments]),
            )
        except ContractRevertError:
            # the contract refused it (its dry run or the mined transaction): nothing was anchored,
            # so the application goes back to open, to be fixed and anchored again
            self.reopen(application.application_id)
            raise
        tx = result.tx
        return self._mark_anchored(application.application_id, tx.tx_hash, tx.block_number, tx.timestamp, tx.gas_used)

    def _mark_anchored(
        self, application_id: str, tx_hash: bytes | None, block_number: int, block_time: int, gas_used: int
    ) -> JointApplication:
        with self.store.engine.begin() as conn:
            conn.execute(
                update(joint_applications)
                .where(joint_applications.c.application_id == application_id)
                .values(
                    state="anchored",
                    tx_hash=tx_hash,
                    block_number=block_number,
                    block_time=block_time,
                    gas_used=gas_used,
                )
            )
        return self.get(application_id)

    def presentation(self, application_id: str) -> str:
        """The bundle's QR text (``LB1:``)."""
        application = self.get(application_id)
        if application.bundle is None:
            raise JointStateError(f"joint application {application.application_id} has no license yet")
        return present_bundle(application.bundle)
