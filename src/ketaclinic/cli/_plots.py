"""Concentration-time plots: PNG (matplotlib) or self-contained HTML (Plotly, no CDN)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ketaclinic.errors import UserInputError
from ketaclinic.pharmacology import CONCENTRATION_BANDS

__all__ = ["Curve", "check_plot_path", "write_concentration_plot"]

_BAND_COLOURS = {"analgesic": "#2ca02c", "dissociative": "#ff7f0e", "anaesthetic": "#d62728"}
_SUFFIXES = (".png", ".html", ".svg", ".pdf")


@dataclass(frozen=True)
class Curve:
    label: str
    times_min: NDArray[np.float64]
    conc_ng_per_ml: NDArray[np.float64]
    dash: bool = False


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


def _axis_hours(times_min: NDArray[np.float64]) -> tuple[NDArray[np.float64], str]:
    if times_min[-1] > 360:
        return times_min / 60.0, "time (h)"
    return times_min, "time (min)"


def write_concentration_plot(
    path: str | Path,
    curves: Sequence[Curve],
    title: str,
    thresholds_ng_per_ml: Sequence[float] = (),
    bands: Sequence[tuple[NDArray[np.float64], NDArray[np.float64], str]] = (),
) -> Path:
    """Write curves with the effect bands of DOMAIN.md section 7 and threshold lines.

    ``bands``: optional shaded ranges (low curve, high curve, label), e.g. population
    percentiles, on the same time axis as the first curve.
    """
    out = check_plot_path(path)
    if not out.parent.exists():
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise UserInputError(
                f"plot file {str(path)!r}: folder {str(out.parent)!r} cannot be created: "
                f"{error.strerror or type(error).__name__}"
            ) from None
    peak = max(float(np.max(c.conc_ng_per_ml)) for c in curves)
    peak = max([peak, *(float(np.max(high)) for _, high, _ in bands)])
    # show thresholds up to twice the peak; farther ones would flatten the curve
    near = [t for t in thresholds_ng_per_ml if t <= 2.0 * peak]
    top = max(peak * 1.15, max(near, default=0.0) * 1.1, 1.0)
    thresholds_ng_per_ml = near
    if out.suffix.lower() == ".html":
        _write_html(out, curves, title, thresholds_ng_per_ml, bands, top)
    else:
        _write_static(out, curves, title, thresholds_ng_per_ml, bands, top)
    return out


def _write_static(
    out: Path,
    curves: Sequence[Curve],
    title: str,
    thresholds: Sequence[float],
    bands: Sequence[tuple[NDArray[np.float64], NDArray[np.float64], str]],
    top: float,
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 5), dpi=110)
    for band in CONCENTRATION_BANDS:
        if band.low_ng_per_ml < top:
            ax.axhspan(
                band.low_ng_per_ml,
                min(band.high_ng_per_ml, top),
                color=_BAND_COLOURS.get(band.name, "grey"),
                alpha=0.10,
                label=f"{band.name} {band.low_ng_per_ml:g}-{band.high_ng_per_ml:g} ng/mL",
            )
    for low, high, label in bands:
        x, xlabel = _axis_hours(curves[0].times_min)
        ax.fill_between(x, low, high, alpha=0.25, label=label, color="#1f77b4", linewidth=0)
    for curve in curves:
        x, xlabel = _axis_hours(curve.times_min)
        ax.plot(x, curve.conc_ng_per_ml, "--" if curve.dash else "-", label=curve.label, lw=1.8)
    for t in thresholds:
        ax.axhline(t, color="black", lw=0.8, ls=":")
        ax.annotate(f"{t:g} ng/mL", (0, t), textcoords="offset points", xytext=(4, 3), fontsize=8)
    ax.set_ylim(0, top)
    ax.set_xlim(left=0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("plasma concentration (ng/mL)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    fig.text(
        0.01,
        0.01,
        "ketaclinic estimate from published population models; not medical advice",
        fontsize=7,
        color="grey",
    )
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def _write_html(
    out: Path,
    curves: Sequence[Curve],
    title: str,
    thresholds: Sequence[float],
    bands: Sequence[tuple[NDArray[np.float64], NDArray[np.float64], str]],
    top: float,
) -> None:
    import plotly.graph_objects as go

    fig = go.Figure()
    for band in CONCENTRATION_BANDS:
        if band.low_ng_per_ml < top:
            fig.add_hrect(
                y0=band.low_ng_per_ml,
                y1=min(band.high_ng_per_ml, top),
                fillcolor=_BAND_COLOURS.get(band.name, "grey"),
                opacity=0.10,
                line_width=0,
                annotation_text=f"{band.name} {band.low_ng_per_ml:g}-{band.high_ng_per_ml:g}",
                annotation_position="top left",
            )
    xlabel = "time (min)"
    for low, high, label in bands:
        x, xlabel = _axis_hours(curves[0].times_min)
        fig.add_scatter(x=x, y=high, mode="lines", line_width=0, showlegend=False)
        fig.add_scatter(x=x, y=low, mode="lines", line_width=0, fill="tonexty", name=label)
    for curve in curves:
        x, xlabel = _axis_hours(curve.times_min)
        fig.add_scatter(
            x=x,
            y=curve.conc_ng_per_ml,
            mode="lines",
            name=curve.label,
            line={"dash": "dash" if curve.dash else "solid"},
        )
    for t in thresholds:
        fig.add_hline(y=t, line_dash="dot", annotation_text=f"{t:g} ng/mL")
    fig.update_layout(
        title=title,
        xaxis_title=xlabel,
        yaxis_title="plasma concentration (ng/mL)",
        yaxis_range=[0, top],
        template="plotly_white",
    )
    # include_plotlyjs=True embeds plotly.js from the installed package: nothing is fetched.
    fig.write_html(out, include_plotlyjs=True, full_html=True)
