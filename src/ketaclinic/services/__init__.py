"""Use cases over the store: one transaction each, audited. The CLI and the web app call
these and never the store.

So far: the audit trail (``Actor``, ``audited_transaction``, ``verify_audit``) and database
administration (start-up, upgrade, check, backup, restore). The clinical use cases (enrol,
plan, sign, document a session, evaluate a trial) build on ``audited_transaction``.
"""

from __future__ import annotations

from ketaclinic.services._admin import (
    BACKUP_FORMAT,
    BackupResult,
    RestoreResult,
    UpgradeResult,
    backup_database,
    check_database,
    open_clinic_database,
    restore_database,
    upgrade_database,
)
from ketaclinic.services._audit import (
    Actor,
    AuditReport,
    Clock,
    UseCase,
    audited_transaction,
    utc_now,
    verify_audit,
)

__all__ = [
    "BACKUP_FORMAT",
    "Actor",
    "AuditReport",
    "BackupResult",
    "Clock",
    "RestoreResult",
    "UpgradeResult",
    "UseCase",
    "audited_transaction",
    "backup_database",
    "check_database",
    "open_clinic_database",
    "restore_database",
    "upgrade_database",
    "utc_now",
    "verify_audit",
]
