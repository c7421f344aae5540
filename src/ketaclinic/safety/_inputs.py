"""The two inputs of a safety check: the patient context and the order (pydantic models).

Their JSON Schemas are what ``ketaclinic schema patient|order`` prints; ranges come from
:mod:`ketaclinic.ranges` so that they are declared once. The patient's covariates are the
pharmacology engine's own :class:`~ketaclinic.pharmacology.Patient` (one covariate type for
every layer); doses are :class:`~ketaclinic.pharmacology.Dose` values, parsed once here from
the dose grammar or from their JSON form.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from ketaclinic.errors import RefusedRouteError
from ketaclinic.pharmacology import (
    ChildPugh,
    Dose,
    Ethnicity,
    Patient,
    Route,
    Sex,
    parse_dose,
    route_of,
)
from ketaclinic.ranges import CLINIC_DATE, DOSE_MG, TIME_MIN
from ketaclinic.safety._clock_times import resolve_clock_starts
from ketaclinic.safety._medicines import PainTreatment, interaction_tables

__all__ = [
    "Diagnosis",
    "DoseField",
    "Medication",
    "Order",
    "PainTreatment",
    "PatientContext",
    "PreviousSession",
    "PriorTreatment",
    "RefusedDose",
    "SubstanceUse",
    "Vitals",
    "as_utc",
    "format_validation_error",
]


def as_utc(moment: datetime) -> datetime:
    """Timezone-aware UTC; a naive time is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


When = TypeVar("When", date, datetime, date | None, datetime | None)


def _in_clinic_dates(value: When) -> When:
    if isinstance(value, date | datetime) and not CLINIC_DATE.contains(value):
        raise ValueError(
            f"{value.isoformat()} is outside the accepted dates {CLINIC_DATE.describe()}"
        )
    return value


def _parse_moment(value: Any) -> datetime | None:
    """A start given as a datetime or ISO text (None when absent or unreadable: the field's
    own validation reports that)."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _with_clock_starts(doses: Any, start: Any, where: str) -> Any:
    """Dose texts with clock-time or date-time starts resolved against ``start``."""
    items = [doses] if isinstance(doses, str) else doses
    if not isinstance(items, list | tuple):
        return doses
    moment = _parse_moment(start)
    resolved = [
        resolve_clock_starts(item, moment, where) if isinstance(item, str) else item
        for item in items
    ]
    return resolved if not isinstance(doses, str) else resolved[0]


def _to_dose(value: Any) -> Dose:
    if isinstance(value, Dose):
        return value
    if isinstance(value, str):
        return parse_dose(value)
    if isinstance(value, dict):
        return Dose.from_json(value)
    raise ValueError(
        f"a dose is dose-grammar text such as 'iv-bolus 35 mg at 0 min' or its JSON object, "
        f"got {type(value).__name__}"
    )


_DOSE_SCHEMA = {
    "description": "a dose in the dose grammar (`ketaclinic simulate --help`), e.g. "
    "'iv-infusion 0.5 mg/kg over 40 min at 0 min', or its JSON object (Dose.to_json)",
    "anyOf": [{"type": "string"}, {"type": "object"}],
}
# A Dose inside a pydantic model: validated from text or JSON, serialised as JSON.
DoseField = Annotated[
    Dose,
    BeforeValidator(_to_dose),
    PlainSerializer(lambda d: d.to_json(), return_type=dict),
    WithJsonSchema(_DOSE_SCHEMA),
]


def _to_patient(value: Any) -> Patient:
    if isinstance(value, Patient):
        return value
    if not isinstance(value, dict):
        raise ValueError("covariates must be a mapping of weight_kg, age_years, sex, ...")
    unknown = sorted(set(value) - set(_COVARIATE_FIELDS))
    if unknown:
        raise ValueError(
            f"unknown covariate {', '.join(unknown)}; accepted: {', '.join(_COVARIATE_FIELDS)}"
        )
    if "weight_kg" not in value:
        raise ValueError("weight_kg is missing (required)")
    return Patient(**value)


_COVARIATE_FIELDS = ("weight_kg", "age_years", "sex", "height_cm", "child_pugh", "ethnicity")
_COVARIATE_SCHEMA = {
    "type": "object",
    "description": "the covariates the pharmacology engine uses",
    "properties": {
        "weight_kg": {"type": "number", "minimum": 2, "maximum": 300},
        "age_years": {"type": "number", "minimum": 0, "maximum": 120},
        "sex": {"enum": [s.value for s in Sex]},
        "height_cm": {"type": "number", "minimum": 40, "maximum": 250},
        "child_pugh": {"enum": [c.value for c in ChildPugh]},
        "ethnicity": {
            "enum": [e.value for e in Ethnicity],
            "description": "optional; only models with an ethnicity covariate use it "
            "(perez-ruixo: Asian)",
        },
    },
    "required": ["weight_kg", "age_years", "sex"],
    "additionalProperties": False,
}
CovariatesField = Annotated[
    Patient,
    BeforeValidator(_to_patient),
    PlainSerializer(lambda p: p.as_dict(), return_type=dict),
    WithJsonSchema(_COVARIATE_SCHEMA),
]


class Diagnosis(StrEnum):
    """Coded conditions the rules know about (DOMAIN.md section 3). Others go in ``notes``."""

    UNCONTROLLED_CARDIOVASCULAR_DISEASE = "uncontrolled_cardiovascular_disease"
    UNCONTROLLED_PSYCHOSIS = "uncontrolled_psychosis"
    PSYCHOSIS_HISTORY = "psychosis_history"
    SEVERE_HEPATIC_DISEASE = "severe_hepatic_disease"
    MODERATE_HEPATIC_DISEASE = "moderate_hepatic_disease"
    RAISED_INTRACRANIAL_PRESSURE = "raised_intracranial_pressure"
    RAISED_INTRAOCULAR_PRESSURE = "raised_intraocular_pressure"
    ANEURYSMAL_VASCULAR_DISEASE = "aneurysmal_vascular_disease"
    ARTERIOVENOUS_MALFORMATION = "arteriovenous_malformation"
    INTRACEREBRAL_HAEMORRHAGE_HISTORY = "intracerebral_haemorrhage_history"
    KETAMINE_HYPERSENSITIVITY = "ketamine_hypersensitivity"
    LOWER_URINARY_TRACT_SYMPTOMS = "lower_urinary_tract_symptoms"
    CANCER = "cancer"
    CRPS = "crps"
    DEPRESSION = "depression"
    TREATMENT_RESISTANT_DEPRESSION = "treatment_resistant_depression"
    CHRONIC_PAIN = "chronic_pain"
    NEUROPATHIC_PAIN = "neuropathic_pain"
    OPIOID_TOLERANCE = "opioid_tolerance"


@dataclass(frozen=True)
class PriorTreatment:
    """A pain treatment tried before: the class (``tricyclic``) or a drug of it
    (``amitriptyline``), kept as given, with the class it stands for."""

    given: str
    treatment_class: PainTreatment

    def __str__(self) -> str:
        return self.given


def _to_prior_treatment(value: Any) -> PriorTreatment:
    if isinstance(value, PriorTreatment):
        return value
    if isinstance(value, PainTreatment):
        return PriorTreatment(value.value, value)
    if not isinstance(value, str) or not value.strip():
        raise ValueError("a prior pain treatment is a class such as 'tricyclic' or a drug name")
    given = " ".join(value.split())
    found = interaction_tables().pain_class(given)
    if found is None:
        classes = ", ".join(p.value for p in PainTreatment)
        raise ValueError(
            f"{given!r} is not a pain-treatment class or a drug the tables place in one; "
            f"accepted: {classes}, or a drug name such as amitriptyline (tricyclic)"
        )
    return PriorTreatment(given, found)


PriorTreatmentField = Annotated[
    PriorTreatment,
    BeforeValidator(_to_prior_treatment),
    PlainSerializer(lambda t: t.given, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "description": "a class ("
            + ", ".join(p.value for p in PainTreatment)
            + ") or a drug name of one, e.g. amitriptyline (tricyclic)",
        }
    ),
]


class SubstanceUse(StrEnum):
    NONE = "none"
    HISTORY = "history"
    ACTIVE = "active"


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Medication(_Strict):
    """A current medication: generic name, and its total daily dose in mg where known."""

    name: str = Field(
        min_length=1, description="generic or brand name, e.g. 'lorazepam' or 'Ativan'"
    )
    dose_mg_per_day: float | None = Field(default=None, gt=0, le=DOSE_MG.high)
    route: str | None = Field(default=None, description="e.g. 'oral'")

    @field_validator("name")
    @classmethod
    def _normalise(cls, value: str) -> str:
        return " ".join(value.split())  # kept as given; matched case-insensitively


class Vitals(_Strict):
    """The latest vital signs. Without ``measured_at`` the check takes them to be measured at
    the order's start and says so."""

    measured_at: datetime | None = None
    systolic_mmhg: float = Field(ge=40, le=300)
    diastolic_mmhg: float = Field(ge=20, le=200)
    heart_rate_per_min: float | None = Field(default=None, ge=20, le=250)
    spo2_percent: float | None = Field(default=None, ge=50, le=100)

    @field_validator("measured_at")
    @classmethod
    def _date(cls, value: datetime | None) -> datetime | None:
        return _in_clinic_dates(value)


class PreviousSession(_Strict):
    """A ketamine session already given: when, which protocol, and the doses given (in mg
    or mg/h as given; per-kg doses are refused because the weight of that day is not known)."""

    start: datetime
    protocol: str = Field(min_length=1)
    doses: tuple[DoseField, ...] = Field(min_length=1, description="the doses given, as given")

    @field_validator("doses", mode="before")
    @classmethod
    def _clock_starts(cls, doses: Any, info: ValidationInfo) -> Any:
        return _with_clock_starts(doses, info.data.get("start"), "the session")

    @field_validator("start")
    @classmethod
    def _date(cls, value: datetime) -> datetime:
        return _in_clinic_dates(value)

    @field_validator("doses")
    @classmethod
    def _absolute(cls, doses: tuple[Dose, ...]) -> tuple[Dose, ...]:
        for dose in doses:
            if dose.per_kg:
                raise ValueError(
                    f"{dose}: give what was given in mg or mg/h, not per kg (the weight of that "
                    "day is not known here)"
                )
            if not DOSE_MG.contains(dose.total_mg(1.0)):
                raise ValueError(f"{dose}: outside the accepted range {DOSE_MG.describe()}")
        return doses

    @property
    def route(self) -> Route:
        return self.doses[0].route

    @property
    def total_mg(self) -> float:
        return sum(d.total_mg(1.0) for d in self.doses)


class PatientContext(_Strict):
    """Everything the safety rules and the planner need to know about one patient."""

    covariates: CovariatesField = Field(
        description="weight_kg, age_years, sex, height_cm, child_pugh, ethnicity: the engine's "
        "covariates"
    )
    weight_measured_on: date
    diagnoses: tuple[Diagnosis, ...] = ()
    notes: str = ""
    medications: tuple[Medication, ...] = ()
    vitals: Vitals | None = None
    pregnant: bool = False
    substance_use: SubstanceUse = SubstanceUse.NONE
    prior_pain_treatments: tuple[PriorTreatmentField, ...] = ()
    previous_sessions: tuple[PreviousSession, ...] = ()
    _height_recorded: bool = PrivateAttr(default=True)

    @model_validator(mode="wrap")
    @classmethod
    def _remember_height(cls, data: Any, handler: Any) -> PatientContext:
        """Record whether a height was given: the engine's covariates default to 170 cm,
        which must not pass for a measured height (BMI, ideal body weight)."""
        model: PatientContext = handler(data)
        covariates = data.get("covariates") if isinstance(data, dict) else None
        if isinstance(covariates, dict):
            model._height_recorded = covariates.get("height_cm") is not None
        return model

    @field_validator("weight_measured_on")
    @classmethod
    def _date(cls, value: date) -> date:
        return _in_clinic_dates(value)

    @property
    def height_recorded(self) -> bool:
        """True when the file gave ``height_cm`` (False: the covariates hold the engine's
        170 cm default). Covariates given as a ``Patient`` value count as recorded."""
        return self._height_recorded

    @property
    def pain_treatment_classes(self) -> frozenset[PainTreatment]:
        return frozenset(t.treatment_class for t in self.prior_pain_treatments)

    # read-only views of the covariates, so rules read what they mean
    @property
    def weight_kg(self) -> float:
        return self.covariates.weight_kg

    @property
    def age_years(self) -> float:
        return self.covariates.age_years

    @property
    def sex(self) -> Sex:
        return Sex(self.covariates.sex)

    @property
    def child_pugh(self) -> ChildPugh:
        return ChildPugh(self.covariates.child_pugh)


def _neuraxial(word: str) -> RefusedRouteError | None:
    try:
        route_of(word)
    except RefusedRouteError as error:
        return error
    except ValueError:
        return None
    return None


@dataclass(frozen=True)
class RefusedDose:
    """A dose (or an order route) refused on clinical grounds before any check: the text as
    given and why. The engine reports it as a HARD_STOP."""

    text: str
    reason: str


def _refused(value: Any) -> tuple[RefusedDose, ...]:
    if isinstance(value, RefusedDose):
        return (value,)
    if isinstance(value, list | tuple):
        return tuple(v if isinstance(v, RefusedDose) else RefusedDose(**v) for v in value)
    raise ValueError("refused must be a list of refused doses")


class Order(_Strict):
    """A ketamine order: protocol, doses and overrides.

    ``doses`` take dose-grammar strings, their JSON objects or :class:`Dose` values. ``route``
    is optional: every dose names its route, and a route given here must agree with them.
    A neuraxial route or dose is not a validation error but is kept in ``refused``, so that the
    check reports it as a hard stop. ``start`` is the order's time zero (default: the check's
    ``as_of``): each dose starts ``at N min`` after it, or at a clock time or date-time in
    files (:mod:`ketaclinic.safety._clock_times`). ``overrides`` map a finding code to the
    physician's reason.
    """

    protocol: str = Field(min_length=1)
    route: Route | None = Field(
        default=None, description="optional; iv, sc, im, oral, intranasal, sublingual, rectal"
    )
    start: datetime | None = None
    doses: tuple[DoseField, ...] = Field(
        default=(),
        description="dose grammar or dose JSON, one dose per item; in files a dose may start "
        "at a clock time ('at 09:30', on the start's day, in the start's time zone) or a "
        "date-time ('at 2026-12-01T09:30:00Z'), counted from `start`",
    )
    overrides: dict[str, str] = Field(default_factory=dict)
    refused: Annotated[tuple[RefusedDose, ...], BeforeValidator(_refused)] = Field(
        default=(), description="filled in by validation: neuraxial routes or doses given"
    )

    @field_validator("protocol")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.strip().lower()

    @field_validator("start")
    @classmethod
    def _date(cls, value: datetime | None) -> datetime | None:
        return _in_clinic_dates(value)

    @field_validator("doses", mode="before")
    @classmethod
    def _clock_starts(cls, doses: Any, info: ValidationInfo) -> Any:
        return _with_clock_starts(doses, info.data.get("start"), "the order")

    @model_validator(mode="before")
    @classmethod
    def _set_aside_refused(cls, data: Any) -> Any:
        """Neuraxial doses and routes become ``refused`` entries instead of errors."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        given = data.get("refused", ())
        refused = [given] if isinstance(given, RefusedDose | dict) else list(given)
        route = data.get("route")
        if isinstance(route, str):
            data["route"] = route.strip().lower() or None
            if _neuraxial(route) is not None:
                refused.append(RefusedDose(route, str(_neuraxial(route))))
                data["route"] = None
        doses = data.get("doses", ())
        if isinstance(doses, str | Dose | dict):
            doses = [doses]
        kept = []
        for item in doses if isinstance(doses, list | tuple) else [doses]:
            if isinstance(item, str) and item.split():
                error = _neuraxial(item.split()[0])
                if error is not None:
                    refused.append(RefusedDose(item, str(error)))
                    continue
            kept.append(item)  # every other problem is the field's validation error
        data["doses"] = kept
        data["refused"] = refused
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Order:
        if not self.doses and not self.refused:
            raise ValueError("an order needs at least one dose")
        wrong = sorted({str(d.route) for d in self.doses if self.route and d.route != self.route})
        if wrong:
            raise ValueError(
                f"route {self.route} disagrees with the doses' route {', '.join(wrong)}: "
                "one order takes one route (leave route out, or correct it)"
            )
        for dose in self.doses:
            if dose.end_min > TIME_MIN.high:
                raise ValueError(f"{dose}: ends after {TIME_MIN.describe()}")
        return self

    @property
    def dose_route(self) -> Route | None:
        """The route every dose uses (None when there are none or they differ)."""
        routes = {d.route for d in self.doses}
        if self.route is not None:
            routes.add(self.route)
        return routes.pop() if len(routes) == 1 else None


def format_validation_error(exc: ValidationError, what: str) -> str:
    """One readable line: field, value given and what is accepted.

    >>> try:
    ...     PatientContext.model_validate({"covariates": {"weight_kg": 700, "age_years": 40,
    ...                                   "sex": "male"}, "weight_measured_on": "2026-11-01"})
    ... except ValidationError as e:
    ...     print(format_validation_error(e, "patient"))
    patient: covariates: weight 700 kg is outside the accepted range 2-300 kg
    """
    parts = []
    for error in exc.errors():
        field = ".".join(str(p) for p in error["loc"]) or "(top level)"
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "missing":
            parts.append(f"{field} is missing (required)")
            continue
        if error["type"] == "extra_forbidden":
            parts.append(f"{field} is not a known field")
            continue
        if error["type"] == "value_error":
            parts.append(f"{field}: {message}")
            continue
        if (error["type"] == "enum" and "expected" in error.get("ctx", {})) or (
            error["type"] == "literal_error" and "expected" in error.get("ctx", {})
        ):
            message = f"accepted: {error['ctx']['expected']}"
        parts.append(f"{field} = {error.get('input')!r} is not accepted: {message}")
    return f"{what}: " + "; ".join(parts)
