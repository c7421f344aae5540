"""Database-side guards: triggers that refuse UPDATE and DELETE on insert-only tables, and
(PostgreSQL) the application role's privileges. Called by the migrations.

The triggers hold for every connection, including a person with a SQL prompt; the role's
missing UPDATE/DELETE privileges make sure the application's own role cannot even disable
them (only the tables' owner can).
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "ADMIN_TABLES",
    "grant_statements",
    "refuse_change_statements",
]

#: Tables the application may update (accounts and chairs are not clinical records).
ADMIN_TABLES = ("staff_users", "chairs")

_REFUSAL = "{table} is insert-only: a record is corrected by an amendment row, never {verb}"

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION ketaclinic_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is insert-only: a record is corrected by an amendment row, never %',
        TG_TABLE_NAME, lower(TG_OP)
        USING ERRCODE = 'integrity_constraint_violation';
END
$$
"""


def refuse_change_statements(dialect: str, tables: Iterable[str]) -> list[str]:
    """SQL that makes ``tables`` insert-only on ``dialect`` (``sqlite`` or ``postgresql``)."""
    statements: list[str] = []
    if dialect == "postgresql":
        statements.append(_PG_FUNCTION)
    for table in tables:
        if dialect == "sqlite":
            for op, verb in (("UPDATE", "updated"), ("DELETE", "deleted")):
                message = _REFUSAL.format(table=table, verb=verb)
                statements.append(
                    f"CREATE TRIGGER {table}_refuse_{op.lower()} BEFORE {op} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
                )
        elif dialect == "postgresql":
            statements.append(
                f"CREATE TRIGGER {table}_refuse_change BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION ketaclinic_refuse_change()"
            )
            statements.append(
                f"CREATE TRIGGER {table}_refuse_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION ketaclinic_refuse_change()"
            )
        else:
            raise ValueError(f"no guards for dialect {dialect!r}")
    return statements


def grant_statements(
    role: str, insert_only: Iterable[str], updatable: Iterable[str], chain_head: str
) -> list[str]:
    """PostgreSQL: create ``role`` if missing (no login) and grant it what the app needs.

    Insert-only tables: SELECT and INSERT, never UPDATE, DELETE or TRUNCATE.
    """
    if not role.replace("_", "").isalnum() or not role.islower():
        raise ValueError(f"role {role!r} is not a plain lower-case identifier")
    insert_only = list(insert_only)
    statements = [
        f"""DO $$ BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
                CREATE ROLE {role} NOLOGIN;
            END IF;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END $$""",
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        f"GRANT SELECT ON alembic_version TO {role}",
        f"GRANT SELECT, UPDATE ON {chain_head} TO {role}",
    ]
    for table in insert_only:
        statements.append(f"REVOKE ALL ON {table} FROM {role}")
        statements.append(f"GRANT SELECT, INSERT ON {table} TO {role}")
    for table in updatable:
        statements.append(f"GRANT SELECT, INSERT, UPDATE ON {table} TO {role}")
    return statements
