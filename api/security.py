"""API keys of issuing departments (stored only as SHA-256 hashes) and idempotency records.

Both live in the issuer store's database. A key is shown once, when created
(``elicense apikey create``); a department can act only for itself.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from api.errors import IdempotencyConflictError, IdempotencyKeyReusedError, InvalidApiKeyLabelError
from api.tables import api_keys, idempotency
from registry.document.identifiers import validate_uscc
from registry.errors import ConfigurationError

__all__ = ["KEY_PREFIX", "ApiKeys", "Idempotency", "Replay"]

KEY_PREFIX = "elk_"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class ApiKeyInfo:
    key_id: str
    issuer_uscc: str
    label: str
    created_at: int
    revoked: bool


class ApiKeys:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine  # the issuer store's engine: its migrations create the tables

    def create(self, issuer_uscc: str, label: str = "") -> tuple[str, str]:
        """A new key for ``issuer_uscc``: returns (key id, the key). Only the hash is stored."""
        uscc = validate_uscc(issuer_uscc, field="issuer")
        if len(label) > 100:
            raise InvalidApiKeyLabelError("a label is at most 100 characters")
        key_id = secrets.token_hex(4)
        key = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        with self.engine.begin() as conn:
            conn.execute(
                insert(api_keys).values(
                    id=key_id, issuer_uscc=uscc, key_hash=_hash(key), label=label, created_at=int(time.time())
                )
            )
        return key_id, key

    def revoke(self, key_id: str) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(update(api_keys).where(api_keys.c.id == key_id).values(revoked=True))
        return bool(result.rowcount)

    def list(self) -> list[ApiKeyInfo]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(api_keys).order_by(api_keys.c.created_at)).all()
        return [ApiKeyInfo(r.id, r.issuer_uscc, r.label, r.created_at, r.revoked) for r in rows]

    def issuer_of(self, key: str) -> str | None:
        """The department a presented key belongs to (``None`` when unknown or revoked)."""
        if not isinstance(key, str) or not key.startswith(KEY_PREFIX) or len(key) > 200:
            return None
        digest = _hash(key)
        with self.engine.connect() as conn:
            row = conn.execute(select(api_keys).where(api_keys.c.key_hash == digest)).first()
        if row is None or row.revoked or not hmac.compare_digest(row.key_hash, digest):
            return None
        return str(row.issuer_uscc)


@dataclass(frozen=True, slots=True)
class Replay:
    """The first response to a request, returned to a retry with the same Idempotency-Key."""

    status_code: int
    body: Any


class Idempotency:
    """At-most-once execution of issuer requests keyed by their ``Idempotency-Key`` header.

    A claim whose request has not finished after ``claim_seconds`` (its process crashed or was
    killed mid-way, so it never recorded an answer nor released the claim) can be taken over by a
    retry; before that, a retry is told the request is still in progress.
    """

    def __init__(self, engine: Engine, *, claim_seconds: float = 60.0) -> None:
        if not claim_seconds > 0:
            raise ConfigurationError("claim_seconds must be positive")
        self.engine = engine  # the issuer store's engine: its migrations create the tables
        self.claim_seconds = claim_seconds

    @staticmethod
    def request_hash(body: Any) -> str:
        return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    def begin(self, issuer_uscc: str, key: str, request_hash: str) -> Replay | None:
        """Claim the key: ``None`` when this request is to run, the first response (:class:`Replay`)
        when the key was used already. Raises :class:`IdempotencyConflictError` while the first request
        is still running (claimed less than ``claim_seconds`` ago) and :class:`IdempotencyKeyReusedError`
        when the key was used for a different request."""
        now = int(time.time())
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(idempotency).values(
                        issuer_uscc=issuer_uscc, key=key, request_hash=request_hash, created_at=now
                    )
                )
            return None
        except IntegrityError:
            pass
        with self.engine.connect() as conn:
            row = conn.execute(
                select(idempotency).where((idempotency.c.issuer_uscc == issuer_uscc) & (idempotency.c.key == key))
            ).first()
        if row is None:  # released by the first request's failure between the insert and the read
            raise self._in_progress()
        if row.request_hash != request_hash:
            raise IdempotencyKeyReusedError("this Idempotency-Key was used for a different request")
        if row.status_code is None:
            if now - int(row.created_at) < self.claim_seconds or not self._take_over(row, now):
                raise self._in_progress()
            return None
        return Replay(int(row.status_code), json.loads(row.response))

    def _in_progress(self) -> IdempotencyConflictError:
        return IdempotencyConflictError(
            "a request with this Idempotency-Key is still running; retry after it finishes "
            f"(an unfinished claim expires after {self.claim_seconds:.0f} s)",
            headers={"Retry-After": str(max(1, round(self.claim_seconds)))},
        )

    def _take_over(self, row: Any, now: int) -> bool:
        """Claim an expired, unfinished key; only one of several concurrent retries wins (the
        update matches the claim's old time)."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(idempotency)
                .where(
                    (idempotency.c.issuer_uscc == row.issuer_uscc)
                    & (idempotency.c.key == row.key)
                    & (idempotency.c.created_at == row.created_at)
                    & idempotency.c.status_code.is_(None)
                )
                .values(created_at=now)
            )
        return bool(result.rowcount)

    def finish(self, issuer_uscc: str, key: str, status_code: int, body: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(idempotency)
                .where((idempotency.c.issuer_uscc == issuer_uscc) & (idempotency.c.key == key))
                .values(status_code=status_code, response=json.dumps(body, ensure_ascii=False))
            )

    def abandon(self, issuer_uscc: str, key: str) -> None:
        """Release a claim whose request failed, so a retry can run."""
        with self.engine.begin() as conn:
            conn.execute(
                delete(idempotency).where(
                    (idempotency.c.issuer_uscc == issuer_uscc)
                    & (idempotency.c.key == key)
                    & idempotency.c.status_code.is_(None)
                )
            )
