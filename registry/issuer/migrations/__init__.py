"""Alembic migrations of the issuer store (SQLite by default, PostgreSQL by URL).

:func:`upgrade` brings a database to the newest schema; :class:`~registry.issuer.store.IssuerStore` calls
it when it opens a database, and ``elicense db upgrade`` does it explicitly. New migrations go in
``versions/`` (``alembic -c registry/issuer/migrations/alembic.ini revision -m "..."``).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine

HERE = Path(__file__).resolve().parent


def config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply every migration up to ``revision`` (idempotent)."""
    command.upgrade(config(engine), revision)


def current(engine: Engine) -> str | None:
    """The revision the database is at (``None`` before the first migration)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
