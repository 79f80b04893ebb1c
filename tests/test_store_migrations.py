"""The issuer store's schema comes from its Alembic migrations, identical to the models, on SQLite
and on the real PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import api.subscription_tables  # the status subscriptions too (imported for their tables)
import api.tables  # noqa: F401 - the HTTP service's tables are part of the store's schema
import registry.issuer.application_tables  # the applications (秒批) are part of it too
import registry.issuer.joint_tables  # noqa: F401 - the joint applications are part of it too
from registry.issuer.migrations import current
from registry.issuer.store import IssuerStore, metadata


def _differences(store: IssuerStore) -> list[object]:
    with store.engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn), metadata))


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migrations_build_the_models_schema(backend, tmp_path, request):
    url = f"sqlite:///{tmp_path / 'store.db'}" if backend == "sqlite" else request.getfixturevalue("postgres_url")
    store = IssuerStore(url)
    assert current(store.engine) == "0007"
    assert _differences(store) == []
    again = IssuerStore(url)  # opening again applies nothing
    assert current(again.engine) == "0007"
    store.close()
    again.close()
