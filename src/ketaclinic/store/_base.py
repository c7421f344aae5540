"""The declarative base and the shape every clinical record shares.

A clinical record is never updated or deleted (triggers refuse it, see ``_guards``). A
correction is a new row whose ``amends_id`` points to the row it corrects; a record has at
most one amendment (``amends_id`` is unique), so the versions of a record form one line and
the current version is the only row of that line that nothing amends. ``entered_in_error``
on an amendment withdraws the record while keeping every version readable.
"""

from __future__ import annotations

import threading
from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    false,
    inspect,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, aliased, declared_attr, mapped_column

from ketaclinic.store._types import JSONText, UTCDateTime

__all__ = ["Base", "ClinicalRecord", "newer_version", "vocabulary"]

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every table. ``insert_only`` tables get the triggers that refuse change."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        date: Date(),
        str: Text(),
        int: Integer(),
        bool: Boolean(),
        Any: JSONText(),
    }
    insert_only: ClassVar[bool] = False


def vocabulary(column: str, values: tuple[str, ...], name: str | None = None) -> CheckConstraint:
    """A CHECK constraint that keeps a text column inside a closed list of values."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({quoted})", name=name or column)


class ClinicalRecord:
    """Columns of every clinical row: who recorded it and when, the patient, the amendment."""

    insert_only: ClassVar[bool] = True

    id: Mapped[int] = mapped_column(primary_key=True)
    recorded_at: Mapped[datetime]
    amendment_reason: Mapped[str | None]
    entered_in_error: Mapped[bool] = mapped_column(default=False, server_default=false())

    @declared_attr
    def patient_id(cls) -> Mapped[int]:  # noqa: N805 - declared_attr receives the class
        return mapped_column(ForeignKey("patients.id"), index=True)

    @declared_attr
    def recorded_by_id(cls) -> Mapped[int]:  # noqa: N805
        return mapped_column(ForeignKey("staff_users.id"))

    @declared_attr
    def amends_id(cls) -> Mapped[int | None]:  # noqa: N805
        table = cls.__tablename__  # type: ignore[attr-defined]
        return mapped_column(ForeignKey(f"{table}.id"), unique=True)


def amendment_rule() -> CheckConstraint:
    """An original has no reason and cannot be in error; an amendment always says why."""
    return CheckConstraint(
        "(amends_id IS NULL AND amendment_reason IS NULL AND NOT entered_in_error)"
        " OR (amends_id IS NOT NULL AND amendment_reason IS NOT NULL"
        " AND length(amendment_reason) > 0)",
        name="amendment",
    )


def short(length: int = 200) -> String:
    return String(length)


_NEWER: dict[type[Any], Any] = {}
_NEWER_LOCK = threading.Lock()


def newer_version(model: type[Any]) -> Any:
    """The alias of ``model`` that "a newer version of this row" subqueries read
    (``~exists().where(newer.amends_id == model.id)``): one per model, built once. Building an
    alias proxies every column of the table (and registers its foreign keys' events), which
    was most of the CPU of a page's statements when each statement built its own; an alias is
    immutable once built, so statements and threads share it, and SQLAlchemy's
    compiled-statement cache then sees the same statement each time.

    An alias builds its column proxies lazily, and that is not thread-safe: two requests
    touching a fresh alias at once can leave one of them with the model's own column instead
    of the alias' (SQLAlchemy warns "Did not locate an expression in selectable"), which
    turns "no newer version of this row" into "this row does not amend itself" and would
    show amended records as current. So the alias is built under a lock with every column
    attribute and its expression resolved before any other thread can see it.
    """
    found = _NEWER.get(model)
    if found is not None:
        return found
    with _NEWER_LOCK:
        found = _NEWER.get(model)
        if found is None:
            alias = aliased(model)
            for attribute in inspect(model).column_attrs:
                getattr(alias, attribute.key).__clause_element__()
            _NEWER[model] = found = alias
    return found
