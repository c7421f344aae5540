"""A patient's schedule as an iCalendar file (RFC 5545), written with the ``icalendar``
package.

Each booked session is a VEVENT whose UID stays the same when it is rescheduled (the entry's
original id), with SEQUENCE counting the reschedules, so that a calendar application updates
the event instead of adding another; a cancelled session is sent as STATUS:CANCELLED (RFC 5545
section 3.8.1.11). Times are UTC. The text carries no diagnosis or drug name: a calendar is
often shared or synchronised to other services.
"""

from __future__ import annotations

from icalendar import Calendar, Event

from ketaclinic.protocols import get_protocol
from ketaclinic.services._audit import Actor, Clock, audited_transaction, utc_now
from ketaclinic.services._calendars import read_patient_entries
from ketaclinic.services._inputs import authorize
from ketaclinic.services._permissions import Permission
from ketaclinic.store import Database, TreatmentCourse, get, get_patient

__all__ = ["PRODID", "patient_ical"]

PRODID = "-//ketaclinic//patient schedule//EN"
_KIND = {"series": "treatment session", "maintenance": "maintenance session", "other": "session"}


def patient_ical(
    db: Database,
    actor: Actor,
    *,
    clock: Clock = utc_now,
    patient_id: int,
    clinic_name: str = "ketaclinic",
    domain: str = "ketaclinic.invalid",
) -> bytes:
    """The patient's booked sessions (cancelled ones as cancelled) as an ``.ics`` file.
    An audited read."""
    with audited_transaction(db, actor, clock) as uc:
        authorize(uc, Permission.SCHEDULE_READ, "exporting a patient's schedule")
        get_patient(uc.session, patient_id)
        entries = read_patient_entries(uc, patient_id, include_cancelled=True)
        calendar = Calendar()
        calendar.add("prodid", PRODID)
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        calendar.add("method", "PUBLISH")
        calendar.add("x-wr-calname", f"{clinic_name}: your sessions")
        for entry in entries:
            course = get(uc.session, TreatmentCourse, entry.course_id)
            monitoring = get_protocol(course.protocol_id).monitoring
            advice = [a for a in monitoring.other if "driving" in a.lower()]
            event = Event()
            event.add("uid", f"schedule-entry-{entry.entry_id}@{domain}")
            event.add("dtstamp", uc.now)
            event.add("dtstart", entry.starts_at)
            event.add("dtend", entry.ends_at)
            event.add("sequence", entry.version - 1)
            event.add("summary", f"{clinic_name}: {_KIND[entry.kind]}")
            event.add("location", f"{clinic_name}, {entry.chair_name}")
            lines = [
                f"Planned chair time {int((entry.ends_at - entry.starts_at).total_seconds() // 60)}"
                " min, including the observation after the dose.",
                *(f"{a[0].upper()}{a[1:]}." for a in advice),
            ]
            event.add("description", " ".join(lines))
            event.add("status", "CANCELLED" if entry.cancelled else "CONFIRMED")
            event.add("transp", "OPAQUE")
            calendar.add_component(event)
        uc.audit(
            "schedule.ical.export",
            record_type="schedule_entries",
            patient_id=patient_id,
            details={"events": len(entries)},
        )
        return bytes(calendar.to_ical())
