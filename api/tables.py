"""The HTTP service's own tables: API keys of the departments and idempotency records.

They live in the issuer store's database and are declared on its SQLAlchemy ``metadata``, so the
store's Alembic migrations (``registry/issuer/migrations``) create them with the rest of its
schema; only the service reads and writes them.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Integer, String, Table, Text

from registry.issuer.store import metadata

__all__ = ["api_keys", "idempotency"]

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("issuer_uscc", String(18), nullable=False, index=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("label", String(100), nullable=False, default=""),
    Column("created_at", Integer, nullable=False),
    Column("revoked", Boolean, nullable=False, default=False),
)

idempotency = Table(
    "idempotency_keys",
    metadata,
    Column("issuer_uscc", String(18), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer, nullable=True),  # null while the first request is in progress
    Column("response", Text, nullable=True),
    Column("created_at", Integer, nullable=False),
)
