"""The two reads a clinic does all day: one patient's full chart, and a cohort summary.

Every clinical row carries ``patient_id`` (indexed), so a chart is one indexed query per
table; a cohort summary by indication aggregates in SQL from ``treatment_courses.indication``
(indexed) through the course and session indexes.

A read-only use case that shows several views of one patient loads the chart once and serves
the repositories' reads of that patient from it (``serving_chart``): ``current_records``,
``course_status`` and ``history`` then answer from the loaded rows instead of a query each.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from sqlalchemy import String, bindparam, false, func, literal, null, select, union_all
from sqlalchemy.orm import Session

from ketaclinic.errors import RecordNotFoundError
from ketaclinic.store._base import ClinicalRecord, newer_version
from ketaclinic.store._tables import (
    CLINICAL_RECORDS,
    METADATA,
    AdverseEvent,
    CourseStatusEvent,
    Patient,
    TreatmentCourse,
    TreatmentSession,
    table_of,
)

__all__ = [
    "ChartRow",
    "CohortSummary",
    "PatientChart",
    "chart_served",
    "cohort_summary",
    "course_status_rank",
    "load_chart",
    "serving_chart",
]

#: a read-only row with attribute access (SQLAlchemy's ``Row``, or the same values in a
#: plain tuple with field names when the chart was read in one round trip)
ChartRow = Any


@dataclass(frozen=True)
class PatientChart:
    """A patient's records as read-only rows (attribute access by column name, like the
    records): the current version of each record, and every version for history.

    Rows rather than ORM objects: a chart is a view, never edited, and reading 27 tables as
    rows costs about 40 % less than as ORM objects (see ``benchmarks/bench_store.py``)."""

    patient: ChartRow
    current: dict[str, tuple[ChartRow, ...]]
    versions: dict[str, tuple[ChartRow, ...]]
    #: the newest version of each record, withdrawn ones included
    newest: dict[str, tuple[ChartRow, ...]] = field(default_factory=dict)

    def of(self, model: type[ClinicalRecord]) -> tuple[ChartRow, ...]:
        """The current records of ``model`` (withdrawn ones excluded), oldest first."""
        return self.current.get(table_of(model).name, ())

    def newest_of(self, model: type[ClinicalRecord]) -> tuple[ChartRow, ...]:
        """The newest version of each record of ``model``, withdrawn ones included."""
        return self.newest.get(table_of(model).name, ())

    def all_versions(self, model: type[ClinicalRecord]) -> tuple[ChartRow, ...]:
        return self.versions.get(table_of(model).name, ())

    @property
    def record_count(self) -> int:
        return sum(len(rows) for rows in self.versions.values())


# One statement per table, built once: building a statement costs as much as running it.
_PATIENT_QUERY = select(table_of(Patient)).where(table_of(Patient).c.id == bindparam("patient_id"))
_CHART_QUERIES = tuple(
    (
        table_of(model).name,
        select(table_of(model))
        .where(table_of(model).c.patient_id == bindparam("patient_id"))
        .order_by(table_of(model).c.id),
    )
    for model in CLINICAL_RECORDS
)


class _Row(tuple[Any, ...]):
    """A read-only row with attribute access by column name, like SQLAlchemy's ``Row``."""

    __slots__ = ()
    _fields: tuple[str, ...] = ()

    @property
    def _mapping(self) -> dict[str, Any]:
        return dict(zip(self._fields, self, strict=True))


_ROW_TYPES: dict[str, type[_Row]] = {}
_DRIVER_SQL: dict[str, tuple[str, tuple[str, ...] | None]] = {}


def _row_type(table: str, fields: tuple[str, ...]) -> type[_Row]:
    found = _ROW_TYPES.get(table)
    if found is None or found._fields != fields:
        columns = {f: property(itemgetter(i)) for i, f in enumerate(fields)}
        found = _ROW_TYPES[table] = type(
            f"{table}_row", (_Row,), {"__slots__": (), "_fields": fields, **columns}
        )
    return found


def _compiled(name: str, query: Any, dialect: Any) -> tuple[str, tuple[str, ...] | None]:
    """The SQL text of ``query`` for ``dialect`` and, for a positional paramstyle (SQLite's
    ``?``), the order of its parameters; compiled once per statement and dialect."""
    key = f"{dialect.name}:{name}"
    found = _DRIVER_SQL.get(key)
    if found is None:
        compiled = query.compile(dialect=dialect)
        order = tuple(compiled.positiontup or ()) if dialect.positional else None
        found = _DRIVER_SQL[key] = (str(compiled), order)
    return found


def _driver_rows(session: Session, patient_id: int) -> tuple[Any, dict[str, list[Any]]]:
    """The patient row and each table's rows, through the driver's own cursor: the 28
    statements sent together in psycopg's pipeline mode on PostgreSQL (one round trip), one
    after the other on SQLite (in process); each value then through its column's SQLAlchemy
    type, as a ``select`` would return it (``tests/store/test_chart_and_cohort.py`` compares
    them). SQLAlchemy's per-statement machinery cost more CPU than SQLite's reading."""
    conn = session.connection()
    driver = conn.connection.driver_connection
    if driver is None:
        raise RuntimeError("the database connection has no driver connection")
    dialect = conn.dialect
    statements = (("patients", _PATIENT_QUERY), *_CHART_QUERIES)
    values = {"patient_id": patient_id}
    cursors = []
    with driver.pipeline() if dialect.name == "postgresql" else nullcontext():
        for name, query in statements:
            sql, order = _compiled(name, query, dialect)
            cursor = driver.cursor()
            cursor.execute(sql, values if order is None else tuple(values[k] for k in order))
            cursors.append((name, cursor))
    out: dict[str, list[Any]] = {}
    for name, cursor in cursors:
        columns = METADATA.tables[name].c
        described = cursor.description or []  # made anew on each access: read once
        fields = tuple(d[0] for d in described)
        processors = [
            columns[f].type._cached_result_processor(dialect, d[1])
            for f, d in zip(fields, described, strict=True)
        ]
        make = _row_type(name, fields)
        out[name] = [
            make(
                value if process is None else process(value)
                for value, process in zip(raw, processors, strict=True)
            )
            for raw in cursor.fetchall()
        ]
        cursor.close()
    patients = out.pop("patients")
    return (patients[0] if patients else None), out


def load_chart(session: Session, patient_id: int) -> PatientChart:
    """Everything recorded about one patient (raises ``RecordNotFoundError`` if unknown)."""
    patient, tables = _driver_rows(session, patient_id)
    if patient is None:
        raise RecordNotFoundError(f"no patients record has id {patient_id}")
    current: dict[str, tuple[ChartRow, ...]] = {}
    versions: dict[str, tuple[ChartRow, ...]] = {}
    newest: dict[str, tuple[ChartRow, ...]] = {}
    for name, rows in tables.items():
        versions[name] = tuple(rows)
        amended = {row.amends_id for row in rows if row.amends_id is not None}
        newest[name] = tuple(row for row in rows if row.id not in amended)
        current[name] = tuple(row for row in newest[name] if not row.entered_in_error)
    return PatientChart(patient, current, versions, newest)


_SERVED = "ketaclinic.served_chart"


@contextmanager
def serving_chart(session: Session, chart: PatientChart) -> Iterator[PatientChart]:
    """Within the block, the repositories read ``chart``'s patient from ``chart`` (one
    loaded chart instead of a query per table and call). For reads only: the store refuses
    to add or amend a record while a chart is served, since the chart would not show it."""
    if _SERVED in session.info:
        raise RuntimeError("a chart is already served in this transaction")
    session.info[_SERVED] = chart
    try:
        yield chart
    finally:
        del session.info[_SERVED]


def chart_served(session: Session) -> PatientChart | None:
    """The chart ``serving_chart`` serves in this session, if any."""
    found: PatientChart | None = session.info.get(_SERVED)
    return found


@dataclass(frozen=True)
class CohortSummary:
    """Counts for one indication: patients, courses by current status, sessions, harms."""

    indication: str
    patients: int
    courses: int
    courses_by_status: dict[str, int] = field(default_factory=dict)
    sessions: int = 0
    sessions_per_course_mean: float | None = None
    adverse_events_by_severity: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "indication": self.indication,
            "patients": self.patients,
            "courses": self.courses,
            "courses_by_status": dict(self.courses_by_status),
            "sessions": self.sessions,
            "sessions_per_course_mean": self.sessions_per_course_mean,
            "adverse_events_by_severity": dict(self.adverse_events_by_severity),
        }


def _is_current(model: type[ClinicalRecord]) -> Any:
    """Not withdrawn and not amended. The amended ids are few (corrections are rare), so they
    are read once per statement (``NOT IN``: a list on SQLite, a hashed subplan on PostgreSQL)
    rather than probed once per row."""
    newer = newer_version(model)
    amended = select(newer.amends_id).where(newer.amends_id.is_not(None))
    return (model.entered_in_error == false()) & model.id.not_in(amended)


# The summary is one statement (one round trip) over the indication's current courses:
# labelled counts, ("courses", None, n), ("patients", None, n), ("status", status, n) of
# each course's latest current status event, ("sessions", None, n) and ("harm", severity, n).
_INDICATION = bindparam("indication", type_=String())


def _cohort_courses() -> Any:
    """The indication's current courses, as a subquery of its own in each part: a shared CTE
    would be materialized first on SQLite, which then drives the joins from the wrong side."""
    return (
        select(TreatmentCourse.id.label("course_id"), TreatmentCourse.patient_id)
        .where(TreatmentCourse.indication == _INDICATION)
        .where(_is_current(TreatmentCourse))
        .subquery()
    )


def course_status_rank() -> Any:
    """``rank``: each status event's place in its course, newest first (by effective time,
    then id); the course's status now is its current event of rank 1. The one ordering the
    cohort summary and the dashboard both use."""
    return (
        func.row_number()
        .over(
            partition_by=CourseStatusEvent.course_id,
            order_by=(CourseStatusEvent.effective_at.desc(), CourseStatusEvent.id.desc()),
        )
        .label("rank")
    )


def _summary_query() -> Any:
    courses, patients, for_events, for_sessions, for_harms = (_cohort_courses() for _ in range(5))
    none = null().cast(String())
    ranked = (
        select(
            CourseStatusEvent.status,
            course_status_rank(),
        )
        .join(for_events, for_events.c.course_id == CourseStatusEvent.course_id)
        .where(_is_current(CourseStatusEvent))
        .subquery()
    )
    return union_all(
        select(literal("courses"), none, func.count()).select_from(courses),
        select(literal("patients"), none, func.count(func.distinct(patients.c.patient_id))),
        select(literal("status"), ranked.c.status, func.count())
        .where(ranked.c.rank == 1)
        .group_by(ranked.c.status),
        select(literal("sessions"), none, func.count())
        .select_from(TreatmentSession)
        .join(for_sessions, for_sessions.c.course_id == TreatmentSession.course_id)
        .where(_is_current(TreatmentSession)),
        select(literal("harm"), AdverseEvent.severity, func.count())
        .join(TreatmentSession, TreatmentSession.id == AdverseEvent.session_id)
        .join(for_harms, for_harms.c.course_id == TreatmentSession.course_id)
        .where(_is_current(AdverseEvent))
        .where(_is_current(TreatmentSession))
        .group_by(AdverseEvent.severity),
    )


_SUMMARY_QUERY = _summary_query()


def cohort_summary(session: Session, indication: str) -> CohortSummary:
    """Summary of the current courses for ``indication`` (counts only, no identifiers)."""
    counts: dict[str, int] = {}
    by_status: dict[str, int] = {}
    harms: dict[str, int] = {}
    for kind, key, n in session.execute(_SUMMARY_QUERY, {"indication": indication}):
        if kind == "status":
            by_status[key] = int(n)
        elif kind == "harm":
            harms[key] = int(n)
        else:
            counts[kind] = int(n)
    n_courses, n_sessions = counts["courses"], counts["sessions"]
    with_status = sum(by_status.values())
    if n_courses > with_status:
        by_status["no status"] = n_courses - with_status
    return CohortSummary(
        indication=indication,
        patients=counts["patients"],
        courses=n_courses,
        courses_by_status=dict(sorted(by_status.items())),
        sessions=n_sessions,
        sessions_per_course_mean=(n_sessions / n_courses) if n_courses else None,
        adverse_events_by_severity=dict(sorted(harms.items())),
    )
