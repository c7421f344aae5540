"""The sessions of the demo clinic: doses and rate changes, vitals, scores, adverse events,
the discharge after the protocol's observation, charges and payments (rates: see
``_demo_clinic``)."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import datetime, timedelta

from ketaclinic.pharmacology import Dose, Route
from ketaclinic.protocols import Protocol
from ketaclinic.services._charges import session_items
from ketaclinic.services._prices import PriceList

__all__ = ["SessionRows"]

_AE = [
    ("nausea", 0.06, "mild"),
    ("dizziness", 0.05, "mild"),
    ("dysphoria or anxiety", 0.03, "moderate"),
    ("headache", 0.03, "mild"),
]


class SessionRows:
    """Row makers for one session (mixed into ``DemoClinic``)."""

    rng: random.Random
    sessions: int
    # ``DemoClinic._put``: adds one row to ``table`` and returns its id
    _put: Callable[..., int]
    #: the clinic's current price list and its version (0: the built-in DEMO list)
    prices: PriceList = PriceList()
    price_list_version: int = 0

    # -- a session -----------------------------------------------------------------------------
    @staticmethod
    def _length_min(protocol: Protocol, doses: list[Dose]) -> float:
        minutes = max(d.end_min for d in doses) + protocol.monitoring.min_observation_min
        return float(max(30, 15 * math.ceil(minutes / 15)))

    def _session(
        self,
        pid: int,
        course: int,
        order: int,
        entry: int,
        chair: int,
        protocol: Protocol,
        doses: list[Dose],
        weight: float,
        starts: datetime,
        k: int,
        nurse: int,
    ) -> datetime:
        """One session's rows; returns when it started."""
        rng = self.rng
        t0 = starts + timedelta(minutes=rng.randint(0, 15))
        multi_day = max(d.end_min for d in doses) >= 24 * 60
        given = self._doses(protocol, doses, weight, t0)
        end = max(at + timedelta(minutes=minutes) for at, _, _, minutes in given)
        observed = protocol.monitoring.min_observation_min + rng.randint(10, 30)
        leaves = end + timedelta(minutes=observed)
        sid = self._put(
            "treatment_sessions",
            course_id=course,
            order_id=order,
            schedule_entry_id=entry,
            chair_id=chair,
            scheduled_start_at=starts,
            actual_start_at=t0,
            actual_end_at=leaves,
            route=str(protocol.route),
            lot_number=f"LOT{starts:%y%m}-{rng.randint(1, 40):02d}",
            multi_day=multi_day,
            patient_id=pid,
            recorded_at=leaves,
            recorded_by_id=nurse,
            entered_in_error=False,
        )
        self.sessions += 1
        who = {
            "session_id": sid,
            "patient_id": pid,
            "recorded_at": leaves,
            "recorded_by_id": nurse,
            "entered_in_error": False,
        }
        mg = 0.0
        for at, kind, dose, minutes in given:
            rate = dose.rate_mg_per_h(weight) if dose.is_infusion else None
            amount = float(dose.amount_mg(weight))
            mg += amount * (minutes / dose.duration_min if dose.is_infusion else 1.0)
            self._put(
                "doses_given",
                given_at=at,
                kind=kind,
                dose=dose.to_json(),
                amount_mg=round(amount, 3),
                rate_mg_per_h=None if rate is None else round(rate, 3),
                **who,
            )
        severe = protocol.category == "depression" and k < 3 and rng.random() < 0.025
        times = [
            t0 - timedelta(minutes=10),
            t0 + timedelta(minutes=40),
            leaves - timedelta(minutes=5),
        ]
        if multi_day:
            times[1:2] = [
                t0 + timedelta(hours=h)
                for h in range(4, int((end - t0).total_seconds() // 3600), 4)
            ]
        for i, at in enumerate(times):
            peak = i == 1 and not multi_day
            sys_ = rng.randint(112, 138) + (16 if peak else 0)
            dia = rng.randint(68, 84) + (10 if peak else 0)
            if peak and severe:
                sys_, dia = rng.randint(181, 196), rng.randint(100, 114)
            self._put(
                "vital_signs",
                measured_at=at,
                systolic_mmhg=sys_,
                diastolic_mmhg=dia,
                heart_rate_per_min=rng.randint(60, 92),
                respiratory_rate_per_min=rng.randint(12, 18),
                spo2_percent=float(rng.choice((96, 97, 98, 99))),
                **who,
            )
        if severe:
            self._put(
                "adverse_events",
                onset_at=times[1],
                term="hypertension (severe)",
                severity="moderate",
                outcome="resolved",
                action_taken="infusion paused; BP rechecked; physician review",
                **who,
            )
        self._put(
            "session_scores",
            measured_at=t0 + timedelta(minutes=40),
            instrument_id="moaas",
            instrument_version="1",
            score=rng.choice((3, 4, 4, 5, 5)),
            **who,
        )
        self._put(
            "session_scores",
            measured_at=leaves - timedelta(minutes=5),
            instrument_id="moaas",
            instrument_version="1",
            score=5,
            **who,
        )
        if protocol.setting == "outpatient":
            self._put(
                "session_scores",
                measured_at=t0 + timedelta(minutes=40),
                instrument_id="cadss6",
                instrument_version="1",
                score=max(0, round(rng.gauss(5 if k < 3 else 3, 3))),
                **who,
            )
        if any("CADSS-6" in scale for scale in protocol.monitoring.scales):
            self._put(  # dissociation resolved before discharge (the discharge gate's rule)
                "session_scores",
                measured_at=leaves - timedelta(minutes=5),
                instrument_id="cadss6",
                instrument_version="1",
                score=0,
                **who,
            )
        for term, rate, severity in _AE:
            if rng.random() < rate:
                self._put(
                    "adverse_events",
                    onset_at=t0 + timedelta(minutes=rng.randint(10, 60)),
                    term=term,
                    severity=severity,
                    outcome="resolved",
                    action_taken=None,
                    **who,
                )
        self._put(
            "discharges",
            decided_at=leaves,
            decision="discharged",
            observation_min=float(observed),
            reason=None,
            **who,
        )
        chair_min = (leaves - t0).total_seconds() / 60.0
        for item in session_items(str(protocol.route), round(mg, 3), chair_min, self.prices):
            self._put(
                "charges",
                currency=self.prices.currency,
                price_list_id=self.price_list_version or None,
                **item,
                **who,
            )
        if rng.random() < 0.9:
            total = sum(
                i["amount_minor"]
                for i in session_items(str(protocol.route), mg, chair_min, self.prices)
            )
            self._put(
                "payments",
                received_at=leaves,
                amount_minor=int(total),
                currency=self.prices.currency,
                method=rng.choice(("card", "insurance", "transfer")),
                payer=None,
                reference=f"S{sid}",
                patient_id=pid,
                recorded_at=leaves,
                recorded_by_id=nurse,
                entered_in_error=False,
            )
        return t0

    def _doses(
        self, protocol: Protocol, doses: list[Dose], weight: float, t0: datetime
    ) -> list[tuple[datetime, str, Dose, float]]:
        """(given at, kind, dose, minutes it ran) of one session."""
        out: list[tuple[datetime, str, Dose, float]] = []
        for dose in doses:
            if dose.route is Route.INTRANASAL:
                devices = max(1, round(float(dose.amount_mg(weight)) / 28.0))
                device = dose.replace(value=28.0)
                out += [
                    (t0 + timedelta(minutes=5 * d), "device", device, 0.0) for d in range(devices)
                ]
            elif dose.count > 1:
                out += [
                    (t0 + timedelta(minutes=o.start_min), "bolus", o.replace(start_min=0.0), 0.0)
                    for o in dose.occurrences()
                ]
            elif not dose.is_infusion:
                out.append((t0, "bolus", dose, 0.0))
            elif dose.duration_min >= 24 * 60 and self.rng.random() < 0.6:
                # titration a day in: the rest of the infusion runs at a new rate
                step = 24 * 60.0 if dose.duration_min > 24 * 60 else dose.duration_min / 2
                rest = dose.duration_min - step
                faster = dose.replace(
                    value=round(dose.value * 1.25, 3),
                    duration_min=rest,
                    duration_unit=dose.duration_unit,
                )
                out.append((t0, "infusion_start", dose, step))
                out.append((t0 + timedelta(minutes=step), "rate_change", faster, rest))
            else:
                out.append((t0, "infusion_start", dose, dose.duration_min))
        return out
