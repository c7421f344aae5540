"""Outcome instruments, scoring, response and remission, MME, and the trial decision. Pure:
the data files are loaded once (importlib.resources, validated by pydantic), no clock is read
(times are arguments), no other domain package is imported.

- :func:`score` scores an instrument (PHQ-9, GAD-7, pain NRS, BPI-SF, PEG, CADSS-6, MOAA/S)
  into a frozen :class:`Score` (scores, bands, alerts, instrument version);
- :func:`compare_scores` compares a follow-up with its baseline under sourced rules;
- :func:`mme` gives morphine milligram equivalents from a versioned CDC table (for tracking,
  never for converting one opioid to another);
- :func:`evaluate_trial` applies machine-readable trial criteria (:class:`TrialRule`) to a
  course and recommends continue / stop / taper / not yet due / insufficient data.
"""

from ketaclinic.outcomes._change import Change, RuleOutcome, compare_scores, score_rules
from ketaclinic.outcomes._loader import (
    get_instrument,
    get_mme_table,
    instruments,
    load_instrument_text,
    load_mme_table_text,
    mme_tables,
)
from ketaclinic.outcomes._mme import (
    DAILY_DOSE_MG,
    DEFAULT_MME_TABLE,
    PATCH_RATE_MCG_PER_H,
    DailyDose,
    MmeResult,
    converts,
    mme,
    parse_daily_dose,
)
from ketaclinic.outcomes._mme_schema import MmeDrug, MmeTable, MmeTier, Unconverted
from ketaclinic.outcomes._schema import (
    LEVELS,
    AlertRule,
    AnswerSet,
    Band,
    Instrument,
    Item,
    Level,
    Metric,
    ScoreRule,
    Threshold,
)
from ketaclinic.outcomes._scoring import Alert, Score, ScoreValue, score
from ketaclinic.outcomes._trial import (
    Assessment,
    DecisionPoint,
    MinimumData,
    Recommendation,
    TrialDecision,
    TrialRule,
    evaluate_trial,
)

__all__ = [
    "DAILY_DOSE_MG",
    "DEFAULT_MME_TABLE",
    "LEVELS",
    "PATCH_RATE_MCG_PER_H",
    "Alert",
    "AlertRule",
    "AnswerSet",
    "Assessment",
    "Band",
    "Change",
    "DailyDose",
    "DecisionPoint",
    "Instrument",
    "Item",
    "Level",
    "Metric",
    "MinimumData",
    "MmeDrug",
    "MmeResult",
    "MmeTable",
    "MmeTier",
    "Recommendation",
    "RuleOutcome",
    "Score",
    "ScoreRule",
    "ScoreValue",
    "Threshold",
    "TrialDecision",
    "TrialRule",
    "Unconverted",
    "compare_scores",
    "converts",
    "evaluate_trial",
    "get_instrument",
    "get_mme_table",
    "instruments",
    "load_instrument_text",
    "load_mme_table_text",
    "mme",
    "mme_tables",
    "parse_daily_dose",
    "score",
    "score_rules",
]
