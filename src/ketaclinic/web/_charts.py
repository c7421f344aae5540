"""Plotly figures of the clinical pages, as plain JSON for ``static/charts.js``.

Pages carry no inline script (the CSP forbids it): a figure travels as JSON in a
``<script type="application/json">`` block (data, never executed) next to its ``<div>``, and
the page's script file draws it with Plotly's JavaScript, served from the installed package.
Every chart also has its numbers as a table, for screen readers and print.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ketaclinic.pharmacology import bands_for

__all__ = ["concentration_figure", "mme_figure", "outcome_figure"]

_BAND_COLOURS = {"analgesic": "#2ca02c", "dissociative": "#ff7f0e", "anaesthetic": "#d62728"}
_FONT = {"family": "system-ui, sans-serif", "size": 14, "color": "#1a1a1a"}


def _layout(title: str, x_title: str, y_title: str, **extra: Any) -> dict[str, Any]:
    return {
        "title": {"text": title},
        "font": _FONT,
        "xaxis": {"title": {"text": x_title}},
        "yaxis": {"title": {"text": y_title}, "rangemode": "tozero"},
        "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
        "height": 360,
        "legend": {"orientation": "h", "y": -0.25},
        **extra,
    }


def _hline(y: float, text: str, colour: str, dash: str) -> tuple[dict[str, Any], dict[str, Any]]:
    shape = {
        "type": "line",
        "xref": "paper",
        "x0": 0,
        "x1": 1,
        "y0": y,
        "y1": y,
        "line": {"color": colour, "dash": dash, "width": 2},
    }
    note = {
        "xref": "paper",
        "x": 1,
        "xanchor": "right",
        "y": y,
        "yanchor": "bottom",
        "text": text,
        "showarrow": False,
        "font": {"color": colour},
    }
    return shape, note


def outcome_figure(series: Mapping[str, Any]) -> dict[str, Any]:
    """One score over time with its baseline and the instrument's response threshold."""
    shapes, notes = [], []
    baseline = series.get("baseline_points")
    if baseline is not None:
        s, n = _hline(baseline, f"baseline {baseline:g}", "#555555", "dot")
        shapes.append(s)
        notes.append(n)
    response = series.get("response_points")
    if response is not None:
        s, n = _hline(
            response, f"response: {series['response_rule']} ({response:g})", "#1f6f3f", "dash"
        )
        shapes.append(s)
        notes.append(n)
    low, high = series.get("range_points", (0, 0))
    title = f"{series['instrument_name']}: {series['label']}"
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": series["label"],
                "x": list(series["administered_at"]),
                "y": list(series["value_points"]),
                "line": {"color": "#1f4e9c"},
            }
        ],
        "layout": _layout(
            title,
            "date (UTC)",
            "points",
            shapes=shapes,
            annotations=notes,
            yaxis={"title": {"text": "points"}, "range": [low, high]},
        ),
    }


def mme_figure(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Opioid use in morphine milligram equivalents per day, a step per recorded period
    (for tracking only, never for converting one opioid to another: CDC 2022)."""
    traces: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row.get("mme_mg_per_day") is None:
            continue
        trace = traces.setdefault(
            row["drug"],
            {"type": "scatter", "mode": "lines+markers", "name": row["drug"], "x": [], "y": []},
        )
        end = row.get("period_end_on") or row["period_start_on"]
        trace["x"] += [row["period_start_on"], end, None]
        trace["y"] += [row["mme_mg_per_day"], row["mme_mg_per_day"], None]
    return {
        "data": list(traces.values()),
        "layout": _layout("Opioid use (MME, mg/day)", "date", "MME mg/day"),
    }


def concentration_figure(
    prediction: Mapping[str, Any], drug: str, ceilings: Sequence[Mapping[str, Any]] = ()
) -> dict[str, Any]:
    """The predicted plasma concentration of the first session with the drug's own effect
    bands (``pharmacology.bands_for``: racemic or S-ketamine studies, each with its source)
    and the protocol's concentration ceilings."""
    times = list(prediction.get("times_min", ()))
    values = list(prediction.get("ketamine_ng_per_ml", ()))
    peak = max([*values, 1.0])
    # Show the curve while it matters: until it falls below 5 % of its peak (at least 2 h),
    # and up to the lowest ceiling (the pages list every ceiling in words beside the chart).
    shown = [t for t, c in zip(times, values, strict=True) if c >= 0.05 * peak]
    last = max([120.0, *shown[-1:]])
    kept = [(t, c) for t, c in zip(times, values, strict=True) if t <= last]
    times, values = [t for t, _ in kept], [c for _, c in kept]
    lowest = min((c["conc_ng_per_ml"] for c in ceilings), default=peak)
    top = max(peak, lowest) * 1.15
    shapes, notes = [], []
    for band in bands_for(drug):
        if band.low_ng_per_ml >= top:
            continue
        colour = _BAND_COLOURS.get(band.name, "#888888")
        shapes.append(
            {
                "type": "rect",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "y0": band.low_ng_per_ml,
                "y1": min(band.high_ng_per_ml, top),
                "fillcolor": colour,
                "opacity": 0.12,
                "line": {"width": 0},
                "layer": "below",
            }
        )
        notes.append(
            {
                "xref": "paper",
                "x": 0.01,
                "xanchor": "left",
                "y": band.low_ng_per_ml,
                "yanchor": "bottom",
                "text": f"{band.name} {band.low_ng_per_ml:g}-{band.high_ng_per_ml:g} ng/mL",
                "showarrow": False,
                "font": {"color": "#333333", "size": 12},
            }
        )
    for ceiling in [c for c in ceilings if c["conc_ng_per_ml"] <= top]:
        colour = "#b00020" if ceiling["kind"] == "hard" else "#8a5a00"
        s, n = _hline(
            ceiling["conc_ng_per_ml"],
            f"{ceiling['kind']} ceiling {ceiling['conc_ng_per_ml']:g} ng/mL",
            colour,
            "dash",
        )
        shapes.append(s)
        notes.append(n)
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines",
                "name": f"ketamine, plasma ({prediction.get('model', 'model')})",
                "x": list(times),
                "y": list(values),
                "line": {"color": "#1f4e9c", "width": 3},
            }
        ],
        "layout": _layout(
            "Predicted concentration, first session",
            "time since the first dose (min)",
            "ketamine (ng/mL)",
            shapes=shapes,
            annotations=notes,
            yaxis={"title": {"text": "ketamine (ng/mL)"}, "range": [0, top]},
            xaxis={"title": {"text": "time since the first dose (min)"}, "range": [0, last]},
        ),
    }
