"""Alembic environment: migrations run on a connection the store hands over (see _migrate)."""

from __future__ import annotations

from alembic import context

from ketaclinic.store._tables import METADATA


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations with `ketaclinic db upgrade`, not the alembic command")
    context.configure(connection=connection, target_metadata=METADATA, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


# Alembic sets ``context.config`` only while it runs this file; an import from elsewhere
# (the doctest collector) finds nothing to run.
if getattr(context, "config", None) is not None:
    run_migrations()
