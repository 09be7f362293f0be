"""What a dashboard section receives (``ReportContext``) and returns (``Section``).

Each analysis area contributes one module in ``sqc/report/sections/`` exposing
``build(ctx: ReportContext) -> Section``. Sections only *present*: they call sqc's statistics and plotting
functions and lay the results out with Panel. Labels come from ``sqc/report/locale/<area>.json`` files of the form
``{"key": {"en": "...", "zh": "..."}}`` and are looked up with ``ctx.t("<area>.<key>")``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from ..diagnostics import QualityWarning

LOCALE_DIR = Path(__file__).with_name("locale")
LANGS = ("en", "zh")


@lru_cache(maxsize=None)
def _locale_file(area: str) -> dict:
    path = LOCALE_DIR / f"{area}.json"
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def translate(key: str, lang: str = "en", **fmt) -> str:
    """Look up ``"<area>.<key>"`` in ``locale/<area>.json``; falls back to English, then to the key itself."""
    area, _, name = key.partition(".")
    entry = _locale_file(area).get(name)
    if entry is None:
        text = name or key
    else:
        text = entry.get(lang) or entry.get("en") or name
    return text.format(**fmt) if fmt else text


@dataclass
class ReportContext:
    """Everything a section needs for one report.

    Attributes
    ----------
    data : sqc.io.NetworkData
        The validated tables (``data.hotline``, ``data.complaints``, ``data.survey``, ``data.audit_visits``,
        ``data.checklist``, ``data.incidents``, ``data.targets``, ``data.branches``; see ``sqc.tables``).
    period : str
        The report month, ``YYYY-MM``. Sections show data up to and including this month, never after it.
    branches : list of str
        Branch ids to include (all branches when the run did not restrict them).
    lang : {"en", "zh"}
    """

    data: Any
    period: str
    branches: list[str]
    lang: str = "en"

    @property
    def period_end(self) -> pd.Timestamp:
        """First instant after the report month (data with timestamps before this are in scope)."""
        return (pd.Period(self.period, "M") + 1).start_time

    def t(self, key: str, **fmt) -> str:
        return translate(key, self.lang, **fmt)

    def fmt_num(self, x: float, digits: int = 1) -> str:
        if x is None or pd.isna(x):
            return "—"
        return f"{x:,.{digits}f}"

    def fmt_pct(self, x: float, digits: int = 1) -> str:
        """``x`` is a proportion (0.123 → "12.3%")."""
        if x is None or pd.isna(x):
            return "—"
        return f"{100 * x:.{digits}f}%"

    def fmt_period(self, period: str) -> str:
        p = pd.Period(period, "M")
        return f"{p.year}年{p.month}月" if self.lang == "zh" else p.strftime("%b %Y")


@dataclass
class Section:
    """A dashboard section.

    Attributes
    ----------
    key : str
        Stable id (``"spc"``, ``"servqual"``, ``"audit"`` ...), used in the summary JSON.
    title : str
        Already translated.
    body : panel object
        What is shown (a ``pn.Column`` etc.). Must render offline: Bokeh figures, matplotlib figures,
        ``pn.pane.DataFrame``/HTML tables and Markdown only.
    headline : dict
        Machine-readable headline numbers for ``summary.json`` (plain floats/ints/strings; each number with its
        n and CI where it has them, e.g. ``{"nps": {"value": 31.2, "ci_low": 25.0, "ci_high": 37.1, "n": 412}}``).
    warnings : list of QualityWarning
        Shown in the data-quality panel and written to the summary.
    notes : list of str
        Plain-language "what changed" sentences, already translated, shown at the top of the dashboard.
    """

    key: str
    title: str
    body: Any
    headline: dict = field(default_factory=dict)
    warnings: list[QualityWarning] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0  # build time, filled in by the dashboard assembly (shown in the run log)
