"""The chart a result gets when it has none of its own: its estimates with their intervals, else bars.

:func:`estimate_chart` reads ``result.to_frame()``: with ``ci_low``/``ci_high`` columns it draws one point per row
with its interval (a forest plot); otherwise bars of the first numeric column. :func:`label` translates chart
labels from the ``charts`` locale file.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .spec import Chart

VALUE_COLUMNS = ("value", "estimate", "mean", "nps", "score", "kappa", "alpha", "ICC", "rate", "share")
ESTIMATE_COLOUR = "#1f4e79"


def label(key: str, lang: str = "en", **fmt) -> str:
    """A chart text from ``sqc/report/locale/charts.json``."""
    from ..report.context import translate

    return translate(f"charts.{key}", lang, **fmt)


def _categories(frame: pd.DataFrame) -> list[str]:
    for col in ("statistic", "form", "measure", "metric", "label", "name", "period", "item", "dimension", "branch",
                "category"):
        if col in frame.columns:
            return [str(v) for v in frame[col]]
    return [str(v) for v in frame.index]


def estimate_chart(result, lang: str = "en") -> Chart:
    """Estimates with intervals (or bars) from ``result.to_frame()``; titled by the result's locale entry."""
    frame = result.to_frame().reset_index(drop=False)
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])
               and not pd.api.types.is_bool_dtype(frame[c]) and c not in ("index", "n", "ci_low", "ci_high")]
    value = next((c for c in VALUE_COLUMNS if c in frame.columns), numeric[0] if numeric else None)
    cats = _categories(frame)
    if cats == [str(i) for i in range(len(frame))] and len(frame) == 1 and value is not None:
        cats = [str(value)]  # one unnamed row: name it by what it is
    chart = Chart(result.chart_title(lang), x_categories=cats, y_label=str(value or ""), lang=lang)
    if value is None:
        return chart
    x = np.arange(len(frame))
    y = pd.to_numeric(frame[value], errors="coerce").to_numpy(dtype=float)
    if {"ci_low", "ci_high"} <= set(frame.columns):
        chart.whiskers(x, frame["ci_low"].to_numpy(dtype=float), frame["ci_high"].to_numpy(dtype=float))
        tips = {"n": frame["n"].to_numpy()} if "n" in frame.columns else None
        chart.points(x, y, colour=ESTIMATE_COLOUR, size=6, tips=tips)
    else:
        chart.bars(x, np.nan_to_num(y), colour=ESTIMATE_COLOUR)
    return chart
