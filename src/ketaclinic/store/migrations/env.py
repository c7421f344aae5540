"""Alembic environment: migrations run on a connection the store hands over (see _migrate)."""

from __future__ import annotations

from alembic import context

from ketaclinic.store._tables import METADATA

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable through the alembic CLI
    raise RuntimeError("run migrations with `ketaclinic db upgrade`, not the alembic command")

context.configure(connection=connection, target_metadata=METADATA, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
