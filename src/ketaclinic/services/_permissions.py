"""Who may do what: the one table from role to permissions.

The web pages, the API and the command line all ask this table; nothing else decides access.
Roles (issue 12): a physician takes every clinical action, signs and overrides; a nurse
documents sessions and assessments and may be the second checker of an order, but never
signs or overrides; an admin manages accounts and reads the audit trail, never clinical
notes, and as the clinic's manager keeps the price list and the accounts (charges, payments,
costs; the clinicians charge and read costs too); a researcher sees de-identified cohort views
only.

Every use case of ``ketaclinic.services`` asks this table (``_inputs.authorize``); no
service keeps a list of roles of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from ketaclinic.errors import NotAllowedError, UnknownNameError

__all__ = [
    "OPERATOR_ROLE",
    "ROLE_PERMISSIONS",
    "Permission",
    "holders_of",
    "permissions_of",
    "require_permission",
]


class Permission(StrEnum):
    """One thing a signed-in user may do."""

    PATIENT_READ = "patient.read"  # identified charts, lists, search
    PATIENT_WRITE = "patient.write"  # enrol, facts (weights, labs, medicines)
    COURSE_PLAN = "course.plan"  # plan a course, draft an order
    ORDER_SIGN = "order.sign"  # sign an order
    ORDER_OVERRIDE = "order.override"  # override an overridable finding, with a reason
    ORDER_DOUBLE_CHECK = "order.double_check"  # second clinician's check before the first dose
    SESSION_DOCUMENT = "session.document"  # chair-side: doses, vitals, scores, discharge
    ASSESSMENT_RECORD = "assessment.record"  # PHQ-9, GAD-7, pain forms
    TRIAL_DECIDE = "trial.decide"  # record the trial decision
    SCHEDULE_READ = "schedule.read"
    SCHEDULE_WRITE = "schedule.write"
    COHORT_READ = "cohort.read"  # de-identified aggregates
    USERS_MANAGE = "users.manage"
    AUDIT_READ = "audit.read"
    CHARGES_RECORD = "charges.record"  # charge a session, add a charge, record a payment
    COSTS_READ = "costs.read"  # a patient's account, course costs, cost estimates
    PRICES_SET = "prices.set"  # a new version of the clinic's price list
    DATABASE_ADMIN = "database.admin"  # back up and restore the whole database


_CLINICAL_READ = {Permission.PATIENT_READ, Permission.SCHEDULE_READ, Permission.COHORT_READ}
_BILLING = {Permission.CHARGES_RECORD, Permission.COSTS_READ}

ROLE_PERMISSIONS: Mapping[str, frozenset[Permission]] = MappingProxyType(
    {
        "physician": frozenset(
            _CLINICAL_READ
            | _BILLING
            | {
                Permission.PATIENT_WRITE,
                Permission.COURSE_PLAN,
                Permission.ORDER_SIGN,
                Permission.ORDER_OVERRIDE,
                Permission.ORDER_DOUBLE_CHECK,
                Permission.SESSION_DOCUMENT,
                Permission.ASSESSMENT_RECORD,
                Permission.TRIAL_DECIDE,
                Permission.SCHEDULE_WRITE,
            }
        ),
        "nurse": frozenset(
            _CLINICAL_READ
            | _BILLING
            | {
                Permission.PATIENT_WRITE,
                Permission.ORDER_DOUBLE_CHECK,
                Permission.SESSION_DOCUMENT,
                Permission.ASSESSMENT_RECORD,
                Permission.SCHEDULE_WRITE,
            }
        ),
        "admin": frozenset(
            _BILLING
            | {
                Permission.USERS_MANAGE,
                Permission.AUDIT_READ,
                Permission.PRICES_SET,
                Permission.DATABASE_ADMIN,
            }
        ),
        "researcher": frozenset({Permission.COHORT_READ}),
    }
)


#: The command line's operator (``Actor.is_operator``: ``ketaclinic users add``, ``backup``,
#: ``restore``, the first admin at ``run --no-demo``) holds no staff account, since it makes
#: the first one; it acts with this role's permissions, and so with none of the clinical ones.
OPERATOR_ROLE = "admin"


def permissions_of(role: str) -> frozenset[Permission]:
    """The permissions of ``role``; an unknown role is an error, never "no permissions"."""
    try:
        return ROLE_PERMISSIONS[role]
    except KeyError:
        raise UnknownNameError(
            f"role {role!r} is not known; accepted: {', '.join(ROLE_PERMISSIONS)}"
        ) from None


def require_permission(role: str, permission: Permission) -> None:
    """Raise :class:`NotAllowedError` unless ``role`` holds ``permission``."""
    if permission not in permissions_of(role):
        raise NotAllowedError(f"the {role} role may not do this ({permission.value})")


def holders_of(permission: Permission) -> tuple[str, ...]:
    """The roles that hold ``permission``, in the table's order."""
    return tuple(role for role, granted in ROLE_PERMISSIONS.items() if permission in granted)
