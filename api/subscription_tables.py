"""The status subscriptions' tables: the subscriptions, the delivery outbox, and the producer's
cursor over the mirror's events. Declared on the issuer store's ``metadata`` and created by its
Alembic migrations (revisions 0005, 0006), like the service's other tables (:mod:`api.tables`)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from registry.issuer.store import metadata

__all__ = ["deliveries", "subscriptions", "webhook_cursor"]

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", String(24), primary_key=True),
    Column("subscriber", String(18), nullable=False, index=True),  # the API key's department
    Column("target_kind", String(10), nullable=False),  # digest | license | issuer
    Column("target", String(66), nullable=False),  # 0x digest, or the issuer's credit code
    Column("license_id", String(40), nullable=True),
    Column("callback_url", Text, nullable=False),
    # plain text only in databases made by revision 0005, until the service's first start seals it
    Column("secret", String(64), nullable=True),
    Column("secret_box", LargeBinary, nullable=True),  # sealed (api.subscription_secrets)
    Column("after_event", BigInteger, nullable=False),  # mirror events up to this id are older
    Column("created_at", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("uid", String(32), nullable=False, unique=True),
    Column("subscription_id", String(24), nullable=False),
    Column("digest", LargeBinary(32), nullable=False),
    Column("license_id", String(40), nullable=True),
    Column("event", String(16), nullable=False),
    Column("block_number", BigInteger, nullable=False),
    Column("block_hash", LargeBinary(32), nullable=False),
    Column("log_index", Integer, nullable=False),
    Column("tx_hash", LargeBinary(32), nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("state", String(10), nullable=False),  # pending | delivered | failed | cancelled
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", Float, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("delivered_at", Float, nullable=True),
    # one delivery per subscription and chain fact: the transaction, the event, the license (a
    # transaction re-included after a reorganisation keeps its hash)
    UniqueConstraint("subscription_id", "tx_hash", "event", "digest", name="uq_deliveries_fact"),
    Index("ix_deliveries_due", "state", "next_attempt_at"),
    Index("ix_deliveries_subscription", "subscription_id", "id"),
    sqlite_autoincrement=True,
)

webhook_cursor = Table(
    "webhook_cursor",
    metadata,
    Column("name", String(16), primary_key=True),
    Column("event_id", BigInteger, nullable=False),  # the last mirror event id produced from
    Column("epoch", String(32), nullable=False),  # the mirror's epoch it was read in
)
