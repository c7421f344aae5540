"""Concentration-time plots: PNG/SVG/PDF (matplotlib) or self-contained HTML (Plotly, no CDN).

What a plot shows is decided once, in :func:`plot_spec` (tested), and drawn by two renderers:

* effect bands are the drug's own (racemic or S-ketamine, each with its source, from
  ``ketaclinic.pharmacology.bands_for``) or none (norketamine has no sourced band); they are
  drawn as side-by-side strips at the right edge, so overlapping ranges never mix colours;
* a protocol's ceilings are labelled soft or hard; plain thresholds are labelled by value;
* the y-label names every site drawn (plasma, effect site); the legend sits outside the axes;
* a short dosing window on a long axis gets two panels: the dosing window and the decay;
* the title is kept short (a long regimen is summarised).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ketaclinic.errors import UserInputError
from ketaclinic.pharmacology import ConcentrationBand, Drug, bands_for

__all__ = [
    "Curve",
    "Line",
    "PlotSpec",
    "check_plot_path",
    "plot_spec",
    "short_title",
    "write_concentration_plot",
]

_BAND_COLOURS = {"analgesic": "#2ca02c", "dissociative": "#9467bd", "anaesthetic": "#d62728"}
_LINE_STYLES = {"soft": ("#ff7f0e", "--"), "hard": ("#d62728", "-"), "threshold": ("black", ":")}
_SUFFIXES = (".png", ".html", ".svg", ".pdf")
TITLE_MAX_CHARS = 100
# a dosing window shorter than this share of the axis gets its own panel
ZOOM_SHARE = 0.2
FOOTER = "ketaclinic estimate from published population models; not medical advice"


@dataclass(frozen=True)
class Curve:
    label: str
    times_min: NDArray[np.float64]
    conc_ng_per_ml: NDArray[np.float64]
    dash: bool = False
    site: str = "plasma"  # or "effect site"


@dataclass(frozen=True)
class Line:
    """A horizontal line: a protocol ceiling (``soft``/``hard``) or a plain threshold."""

    value_ng_per_ml: float
    kind: str = "threshold"

    @property
    def label(self) -> str:
        if self.kind in ("soft", "hard"):
            return f"{self.kind} ceiling {self.value_ng_per_ml:g} ng/mL"
        return f"threshold {self.value_ng_per_ml:g} ng/mL"


@dataclass(frozen=True)
class PlotSpec:
    """Everything a renderer draws, decided in one place."""

    title: str
    curves: tuple[Curve, ...]
    ylabel: str
    effect_bands: tuple[ConcentrationBand, ...]
    lines: tuple[Line, ...]
    panels: tuple[tuple[float, float], ...]  # x ranges in min: one panel, or window + all
    top_ng_per_ml: float
    notes: tuple[str, ...]
    ranges: tuple[tuple[NDArray[np.float64], NDArray[np.float64], str], ...] = ()


def check_plot_path(path: str | Path) -> Path:
    """Validate a plot path before any work: a known suffix, not a folder, and a place that
    can be written (missing folders below a writable one are created when the plot is
    written). Every problem is a one-line :class:`UserInputError`."""
    out = Path(path)
    shown = repr(str(path))
    if out.is_dir():
        raise UserInputError(
            f"plot file {shown} is a folder: give a file name ending in {', '.join(_SUFFIXES)}"
        )
    if out.suffix.lower() not in _SUFFIXES:
        raise UserInputError(f"plot file {shown} must end in one of {', '.join(_SUFFIXES)}")
    if out.exists() and not os.access(out, os.W_OK):
        raise UserInputError(f"plot file {shown} cannot be written: permission denied")
    folder = out.absolute().parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        raise UserInputError(
            f"plot file {shown} cannot be written: {str(folder)!r} is not a folder"
        )
    try:
        handle, probe = tempfile.mkstemp(dir=folder, prefix=".ketaclinic-probe-")
    except OSError as error:
        raise UserInputError(
            f"plot file {shown} cannot be written: folder {str(folder)!r}: "
            f"{error.strerror or type(error).__name__}"
        ) from None
    os.close(handle)
    os.unlink(probe)
    return out


def short_title(head: str, doses: Sequence[str], tail: str = "") -> str:
    """``head: dose; dose - tail`` when it fits in ``TITLE_MAX_CHARS``; else the doses are
    counted (``head: 3 dose lines, first oral 10 mg ... - tail``), never cut mid-word."""
    end = f" - {tail}" if tail else ""
    for middle in (
        "; ".join(doses),
        f"{len(doses)} dose lines, first {doses[0]}" if len(doses) > 1 else doses[0],
        f"{len(doses)} dose lines" if len(doses) > 1 else "1 dose line",
    ):
        text = f"{head}: {middle}{end}"
        if len(text) <= TITLE_MAX_CHARS:
            return text
    return _cut(f"{head}: {len(doses)} dose lines", TITLE_MAX_CHARS)


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 3].rsplit(" ", 1)[0] + "..."


def plot_spec(
    curves: Sequence[Curve],
    title: str,
    *,
    drug: Drug | str | None = None,
    thresholds_ng_per_ml: Sequence[float] = (),
    ceilings: Sequence[tuple[float, str]] = (),
    ranges: Sequence[tuple[NDArray[np.float64], NDArray[np.float64], str]] = (),
    dosing_end_min: float | None = None,
) -> PlotSpec:
    """What to draw for ``curves``: the drug's effect bands (none without a drug), labelled
    ceilings and thresholds within view, the y-label of the sites drawn and the panels."""
    peak = max(float(np.max(c.conc_ng_per_ml)) for c in curves)
    peak = max([peak, *(float(np.max(high)) for _, high, _ in ranges)], default=peak)
    lines = [Line(float(v), kind) for v, kind in ceilings] + [
        Line(float(t)) for t in thresholds_ng_per_ml
    ]
    # show lines up to twice the peak; farther ones would flatten the curve: say so instead
    near = [line for line in lines if line.value_ng_per_ml <= 2.0 * peak]
    notes = [f"{line.label} is above the plotted range" for line in lines if line not in near]
    top = max(peak * 1.15, max((x.value_ng_per_ml for x in near), default=0.0) * 1.1, 1.0)
    bands: tuple[ConcentrationBand, ...] = ()
    if drug is not None:
        every = bands_for(drug)
        bands = tuple(b for b in every if b.low_ng_per_ml < top)
        notes += [
            f"{b.name} band {b.low_ng_per_ml:g}-{b.high_ng_per_ml:g} ng/mL is above the "
            "plotted range"
            for b in every
            if b not in bands
        ]
        label = Drug(drug).label
        notes.append(
            f"effect bands: {label} (parent drug only), from {label} studies"
            if bands
            else f"no {label} effect band lies in the plotted range"
        )
    else:
        notes.append("no effect bands: none is sourced for what is drawn")
    sites = list(dict.fromkeys(c.site for c in curves))
    ylabel = " and ".join(sites) + " concentration (ng/mL)"
    end = float(max(c.times_min[-1] for c in curves))
    panels: tuple[tuple[float, float], ...] = ((0.0, end),)
    if dosing_end_min is not None and 0 <= dosing_end_min < ZOOM_SHARE * end:
        window = min(end, max(3.0 * dosing_end_min, dosing_end_min + 120.0))
        panels = ((0.0, window), (0.0, end))
    return PlotSpec(
        title=_cut(title, TITLE_MAX_CHARS),
        curves=tuple(curves),
        ylabel=ylabel[0].upper() + ylabel[1:],
        effect_bands=bands,
        lines=tuple(near),
        panels=panels,
        top_ng_per_ml=top,
        notes=tuple(notes),
        ranges=tuple(ranges),
    )


def write_concentration_plot(
    path: str | Path,
    curves: Sequence[Curve],
    title: str,
    thresholds_ng_per_ml: Sequence[float] = (),
    bands: Sequence[tuple[NDArray[np.float64], NDArray[np.float64], str]] = (),
    *,
    drug: Drug | str | None = None,
    ceilings: Sequence[tuple[float, str]] = (),
    dosing_end_min: float | None = None,
) -> Path:
    """Write ``curves`` as :func:`plot_spec` lays them out. ``bands``: shaded ranges (low
    curve, high curve, label), e.g. population percentiles, on the first curve's times."""
    out = check_plot_path(path)
    if not out.parent.exists():
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise UserInputError(
                f"plot file {str(path)!r}: folder {str(out.parent)!r} cannot be created: "
                f"{error.strerror or type(error).__name__}"
            ) from None
    spec = plot_spec(
        curves,
        title,
        drug=drug,
        thresholds_ng_per_ml=thresholds_ng_per_ml,
        ceilings=ceilings,
        ranges=bands,
        dosing_end_min=dosing_end_min,
    )
    if out.suffix.lower() == ".html":
        _write_html(out, spec)
    else:
        _write_static(out, spec)
    return out


def _band_label(band: ConcentrationBand) -> str:
    text = f"{band.name} {band.low_ng_per_ml:g}-{band.high_ng_per_ml:g} ng/mL"
    return f"{text} ({band.cite})" if band.cite else text


def _axis(times_min: NDArray[np.float64], span: tuple[float, float]) -> tuple[float, str]:
    """Divisor and label of the time axis of a panel (hours beyond 6 h)."""
    return (60.0, "time (h)") if span[1] > 360 else (1.0, "time (min)")


def _write_static(out: Path, spec: PlotSpec) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    count = len(spec.panels)
    fig, axes = plt.subplots(
        1,
        count,
        figsize=(11, 5),
        dpi=110,
        squeeze=False,
        gridspec_kw={"width_ratios": [1] * count},
        sharey=True,
    )
    palette = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, (ax, span) in enumerate(zip(axes[0], spec.panels, strict=True)):
        legend = k == count - 1
        for i, band in enumerate(spec.effect_bands):
            ax.axhspan(
                band.low_ng_per_ml,
                min(band.high_ng_per_ml, spec.top_ng_per_ml),
                xmin=1.0 - 0.025 * (i + 1),
                xmax=1.0 - 0.025 * i,
                color=_BAND_COLOURS.get(band.name, "grey"),
                alpha=0.55,
                lw=0,
                label=_band_label(band) if legend else None,
            )
        for low, high, label in spec.ranges:
            scale, _ = _axis(spec.curves[0].times_min, span)
            ax.fill_between(
                spec.curves[0].times_min / scale,
                low,
                high,
                alpha=0.25,
                color="#1f77b4",
                linewidth=0,
                label=label if legend else None,
            )
        for j, curve in enumerate(spec.curves):
            scale, _ = _axis(curve.times_min, span)
            ax.plot(
                curve.times_min / scale,
                curve.conc_ng_per_ml,
                "--" if curve.dash else "-",
                color=palette[j % len(palette)],
                label=curve.label if legend else None,
                lw=1.8,
            )
        for line in spec.lines:
            colour, style = _LINE_STYLES[line.kind]
            ax.axhline(
                line.value_ng_per_ml,
                color=colour,
                lw=1.0,
                ls=style,
                label=line.label if legend else None,
            )
        scale, xlabel = _axis(spec.curves[0].times_min, span)
        ax.set_xlim(span[0] / scale, span[1] / scale)
        ax.set_ylim(0, spec.top_ng_per_ml)
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
        if count == 2:
            ax.set_title("dosing window" if k == 0 else "whole course", fontsize=9)
    axes[0][0].set_ylabel(spec.ylabel)
    fig.suptitle(spec.title, fontsize=11)
    axes[0][-1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
    import textwrap

    footer = textwrap.fill("; ".join([FOOTER, *spec.notes]), width=190)
    fig.text(0.01, 0.01, footer, fontsize=7, color="grey", va="bottom")
    fig.tight_layout(rect=(0, 0.025 * (1 + footer.count("\n")) + 0.01, 1, 1))
    fig.savefig(out)
    plt.close(fig)


def _write_html(out: Path, spec: PlotSpec) -> None:
    from plotly.subplots import make_subplots

    count = len(spec.panels)
    titles = ("dosing window", "whole course") if count == 2 else None
    fig = make_subplots(rows=1, cols=count, shared_yaxes=True, subplot_titles=titles)
    for k, span in enumerate(spec.panels, start=1):
        legend = k == count
        scale, xlabel = _axis(spec.curves[0].times_min, span)
        axis = "x domain" if k == 1 else f"x{k} domain"
        for i, band in enumerate(spec.effect_bands):
            fig.add_shape(
                type="rect",
                xref=axis,
                yref="y",
                x0=1.0 - 0.025 * (i + 1),
                x1=1.0 - 0.025 * i,
                y0=band.low_ng_per_ml,
                y1=min(band.high_ng_per_ml, spec.top_ng_per_ml),
                fillcolor=_BAND_COLOURS.get(band.name, "grey"),
                opacity=0.55,
                line_width=0,
            )
            if legend:  # a legend entry for the strip
                fig.add_scatter(
                    x=[None],
                    y=[None],
                    mode="markers",
                    marker={"color": _BAND_COLOURS.get(band.name, "grey"), "symbol": "square"},
                    name=_band_label(band),
                    row=1,
                    col=k,
                )
        for low, high, label in spec.ranges:
            x = spec.curves[0].times_min / scale
            fig.add_scatter(x=x, y=high, mode="lines", line_width=0, showlegend=False, row=1, col=k)
            fig.add_scatter(
                x=x,
                y=low,
                mode="lines",
                line_width=0,
                fill="tonexty",
                name=label,
                showlegend=legend,
                row=1,
                col=k,
            )
        for curve in spec.curves:
            fig.add_scatter(
                x=curve.times_min / scale,
                y=curve.conc_ng_per_ml,
                mode="lines",
                name=curve.label,
                line={"dash": "dash" if curve.dash else "solid"},
                showlegend=legend,
                legendgroup=curve.label,
                row=1,
                col=k,
            )
        for line in spec.lines:
            colour, style = _LINE_STYLES[line.kind]
            fig.add_hline(
                y=line.value_ng_per_ml,
                line_color=colour,
                line_dash={"-": "solid", "--": "dash", ":": "dot"}[style],
                annotation_text=line.label if legend else None,
                row=1,
                col=k,
            )
        fig.update_xaxes(range=[span[0] / scale, span[1] / scale], title_text=xlabel, row=1, col=k)
    fig.update_yaxes(range=[0, spec.top_ng_per_ml], title_text=spec.ylabel, row=1, col=1)
    fig.update_layout(
        title=spec.title,
        template="plotly_white",
        annotations=[
            *fig.layout.annotations,
            {
                "text": "<br>".join([FOOTER, *spec.notes]),
                "xref": "paper",
                "yref": "paper",
                "x": 0,
                "y": -0.2,
                "yanchor": "top",
                "align": "left",
                "showarrow": False,
                "font": {"size": 10, "color": "grey"},
            },
        ],
    )
    # include_plotlyjs=True embeds plotly.js from the installed package: nothing is fetched.
    fig.write_html(out, include_plotlyjs=True, full_html=True)
