"""Applications (秒批): decide, issue at once when accepted, and record every decision with its
evidence in the issuer store, for listing and audit export.

:func:`apply` evaluates an application with the verifier a counter would use
(:func:`registry.issuer.prerequisites.evaluate_application`); when every rule passes the department
signs the license there and then, and the license and its decision are written in one transaction
(a crash leaves both or neither). A refusal is recorded as well, with every rule's result.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from registry.document.catalog import get_type
from registry.document.licensetypes import from_day_number
from registry.document.schema import day_number
from registry.issuer.application_tables import application_prerequisites, applications
from registry.issuer.decisions import Decision
from registry.issuer.department import Department, IssueRequest
from registry.issuer.permission import check_standing
from registry.issuer.prerequisites import Verifying, evaluate_application
from registry.issuer.store import IssuerStore, LicenseRow, licenses

__all__ = ["ApplicationBook", "apply"]

#: Decisions listed per page at most.
MAX_PAGE = 1000


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _hex(value: bytes | None) -> str | None:
    return None if value is None else "0x" + bytes(value).hex()


def _day(value: int | None) -> str | None:
    return None if value is None else from_day_number(value).isoformat()


class ApplicationBook:
    """The decisions recorded in an issuer store."""

    def __init__(self, store: IssuerStore) -> None:
        self.store = store

    def record(self, decision: Decision, issued: LicenseRow | None = None) -> None:
        """Write ``decision`` with its evidence, and the license issued on it, all or nothing."""
        with self.store.engine.begin() as conn:
            self.write(conn, decision, issued)

    @staticmethod
    def write(conn: Connection, d: Decision, issued: LicenseRow | None = None) -> None:
        """Write ``d`` with its evidence, and the license issued on it, in the caller's transaction."""
        if issued is not None:
            conn.execute(insert(licenses), [issued.to_db()])
        conn.execute(
            insert(applications).values(
                decision_id=d.decision_id,
                issuer_uscc=d.issuer_uscc,
                type_code=d.request.license_type.upper(),
                outcome=d.outcome,
                decided_at=int(d.decided_at),
                block_number=d.block_number,
                block_hash=d.block_hash or None,
                block_time=d.block_time,
                license_id=d.license_id,
                digest=d.digest,
                request=_json(d.request.to_dict()),
                rules=_json([r.to_dict() for r in d.rules]),
            )
        )
        if d.presented:
            conn.execute(
                insert(application_prerequisites),
                [
                    {
                        "decision_id": d.decision_id,
                        "position": p.index,
                        "status": p.status,
                        "checked_block": p.checked_block,
                        "digest": p.digest,
                        "license_id": p.license_id,
                        "license_type": p.license_type,
                        "issuer_uscc": p.issuer_uscc,
                        "issuer_region": p.issuer_region,
                        "valid_from": None if p.valid_from is None else day_number(p.valid_from),
                        "valid_to": None if p.valid_to is None else day_number(p.valid_to),
                        "anchor_block": p.anchor_block,
                        "filled": _json(list(p.filled)),
                        "text": p.text,
                    }
                    for p in d.presented
                ],
            )

    def list_decisions(
        self, *, issuer_uscc: str | None = None, limit: int = 100, offset: int = 0, texts: bool = False
    ) -> list[dict[str, Any]]:
        """Decisions in the order they were recorded, as JSON-ready records (the QR texts presented
        only with ``texts``)."""
        query = select(applications).order_by(applications.c.id).limit(min(limit, MAX_PAGE)).offset(offset)
        if issuer_uscc is not None:
            query = query.where(applications.c.issuer_uscc == issuer_uscc)
        with self.store.engine.connect() as conn:
            rows = conn.execute(query).all()
            ids = [r.decision_id for r in rows]
            evidence: dict[str, list[Any]] = {i: [] for i in ids}
            if ids:
                found = conn.execute(
                    select(application_prerequisites)
                    .where(application_prerequisites.c.decision_id.in_(ids))
                    .order_by(application_prerequisites.c.decision_id, application_prerequisites.c.position)
                )
                for p in found:
                    evidence[p.decision_id].append(p)
        return [_record(r, evidence[r.decision_id], texts=texts) for r in rows]

    def export_records(self, *, issuer_uscc: str | None = None, page: int = MAX_PAGE) -> Iterator[dict[str, Any]]:
        """Every decision (of ``issuer_uscc``, or all) with its evidence and the QR texts presented,
        in the order recorded, read ``page`` at a time: the audit export."""
        offset = 0
        while records := self.list_decisions(issuer_uscc=issuer_uscc, limit=page, offset=offset, texts=True):
            yield from records
            offset += len(records)

    def citing(self, digest: bytes) -> list[str]:
        """The decisions that were shown the license of ``digest`` (to review them when it is
        revoked later)."""
        query = (
            select(application_prerequisites.c.decision_id)
            .where(application_prerequisites.c.digest == digest)
            .order_by(application_prerequisites.c.decision_id)
        )
        with self.store.engine.connect() as conn:
            return list(dict.fromkeys(str(v) for v in conn.execute(query).scalars()))


def _record(row: Any, evidence: Sequence[Any], *, texts: bool) -> dict[str, Any]:
    presented = []
    for p in evidence:
        item = {
            "index": p.position,
            "status": p.status,
            "digest": _hex(p.digest),
            "license_id": p.license_id,
            "license_type": p.license_type,
            "issuer_uscc": p.issuer_uscc,
            "issuer_region": p.issuer_region,
            "valid_from": _day(p.valid_from),
            "valid_to": _day(p.valid_to),
            "anchor_block": p.anchor_block,
            "checked_block": p.checked_block,
            "filled": json.loads(p.filled),
        }
        if texts:
            item["text"] = p.text
        presented.append(item)
    return {
        "decision_id": row.decision_id,
        "outcome": row.outcome,
        "issuer_uscc": row.issuer_uscc,
        "request": json.loads(row.request),
        "rules": json.loads(row.rules),
        "presented": presented,
        "chain": {"block_number": row.block_number, "block_hash": _hex(row.block_hash), "block_time": row.block_time},
        "decided_at": row.decided_at,
        "license_id": row.license_id,
        "digest": _hex(row.digest),
    }


def apply(
    department: Department,
    verifier: Verifying,
    request: IssueRequest,
    prerequisite_qr_texts: Sequence[object],
    *,
    now: float | None = None,
) -> Decision:
    """Decide an application to ``department``; when accepted, sign the license at once. The
    department's own standing is read on chain first (:mod:`registry.issuer.permission`: registered,
    active, key valid and the type permitted now, at the head and at the verifier state's block), then
    the prerequisites. The decision, with its evidence and the license issued on it, is recorded in
    the department's store either way. Raises :class:`~registry.document.identifiers.FieldValueError`
    only for a request that is not one, :class:`~registry.errors.ConfigurationError` for a department
    without a chain client, and the chain's errors when it cannot be read (nothing is recorded then)."""
    decision = evaluate_application(
        verifier, request, prerequisite_qr_texts, issuer_uscc=department.issuer_uscc, now=now
    )
    standing = check_standing(
        department.client,
        issuer_id=department.issuer_id,
        key=department.address,
        license_type=get_type(request.license_type),
        at=int(decision.decided_at),
        confirmed_block=decision.block_number,
        confirmed_hash=decision.block_hash,
    )
    decision = decision.checked(standing.rule())
    with department.store.engine.begin() as conn:  # the serial, the license and the decision: all or none
        row = None
        if decision.accepted:
            row = department.prepare(request, conn=conn)
            decision = decision.issued(row.license_id, row.digest)
        ApplicationBook.write(conn, decision, row)
    return decision
