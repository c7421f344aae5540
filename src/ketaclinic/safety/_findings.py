"""Findings: what a safety rule says about an order, and the report that gathers them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

__all__ = ["Finding", "SafetyReport", "Severity", "apply_overrides", "sort_findings"]


class Severity(StrEnum):
    """How a finding affects an order, like a smart pump's dose error reduction system.

    ``HARD_STOP`` cannot be overridden; ``OVERRIDABLE`` blocks unless a physician records a
    reason; ``WARNING`` and ``INFO`` never block.
    """

    HARD_STOP = "HARD_STOP"
    OVERRIDABLE = "OVERRIDABLE"
    WARNING = "WARNING"
    INFO = "INFO"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Severity.HARD_STOP: 0, Severity.OVERRIDABLE: 1, Severity.WARNING: 2, Severity.INFO: 3}


@dataclass(frozen=True)
class Finding:
    """One rule's verdict. The message names the value, the limit, the unit and the source.

    >>> f = Finding(Severity.OVERRIDABLE, "dose.bolus.soft", "bolus 0.5 mg/kg > 0.35 mg/kg", "S")
    >>> f.blocks, f.replace(override_reason="titrated").blocks
    (True, False)
    """

    severity: Severity
    code: str
    message: str
    source: str
    override_reason: str | None = None

    @property
    def blocks(self) -> bool:
        if self.severity is Severity.HARD_STOP:
            return True
        return self.severity is Severity.OVERRIDABLE and not self.override_reason

    def replace(self, **changes: Any) -> Finding:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": str(self.severity),
            "code": self.code,
            "message": self.message,
            "source": self.source,
            "override_reason": self.override_reason,
        }


@dataclass(frozen=True)
class SafetyReport:
    """All findings for one order, most severe first; ``allowed`` when nothing blocks."""

    findings: tuple[Finding, ...]
    drug_library_version: str = ""
    interaction_tables_version: str = ""

    @property
    def allowed(self) -> bool:
        return not any(f.blocks for f in self.findings)

    @property
    def blocking(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.blocks)

    def codes(self, severity: Severity | None = None) -> set[str]:
        return {f.code for f in self.findings if severity is None or f.severity is severity}

    def to_dict(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "drug_library_version": self.drug_library_version,
            "interaction_tables_version": self.interaction_tables_version,
            "findings": [f.to_dict() for f in self.findings],
        }


def apply_overrides(findings: Iterable[Finding], overrides: Mapping[str, str]) -> list[Finding]:
    """Clear OVERRIDABLE findings whose code has a non-empty reason; hard stops stay.

    Overrides that clear nothing are reported, so a mistyped code is noticed.

    >>> f = Finding(Severity.OVERRIDABLE, "x", "m", "s")
    >>> [g.override_reason for g in apply_overrides([f], {"x": " reviewed "})]
    ['reviewed']
    >>> [g.code for g in apply_overrides([f], {"x": "  "})]
    ['x', 'override.without_reason']
    """
    out: list[Finding] = []
    used: set[str] = set()
    for finding in findings:
        reason = (overrides.get(finding.code) or "").strip()
        if finding.severity is Severity.OVERRIDABLE and reason:
            out.append(finding.replace(override_reason=reason))
            used.add(finding.code)
        else:
            out.append(finding)
    present = {f.code: f for f in findings}
    for code, raw in overrides.items():
        if code in used:
            continue
        target = present.get(code)
        if target is None:
            out.append(
                Finding(
                    Severity.INFO,
                    "override.unused",
                    f"override for {code!r} cleared nothing: no such finding for this order",
                    "ketaclinic safety engine",
                )
            )
        elif target.severity is Severity.HARD_STOP:
            out.append(
                Finding(
                    Severity.WARNING,
                    "override.refused",
                    f"{code!r} is a hard stop and cannot be overridden (reason given: "
                    f"{raw.strip()!r})",
                    "ketaclinic safety engine: hard limits cannot be overridden (DESIGN.md)",
                )
            )
        elif not raw.strip():
            out.append(
                Finding(
                    Severity.WARNING,
                    "override.without_reason",
                    f"override for {code!r} has no reason: an override needs a written reason",
                    "ketaclinic safety engine",
                )
            )
    return sort_findings(out)


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.severity.rank, f.code))
