"""What a dashboard section receives and returns: compute once per run, render once per language.

A section module in ``sqc/report/sections/<area>.py`` exposes two functions:

``compute(ctx: ComputeContext) -> SectionResult``
    Everything that does not depend on the reader's language: the statistics (result objects, small frames),
    the machine-readable headline numbers (each number with its n and CI where it has them), the
    ``QualityWarning`` objects, the findings as ``Note`` codes with parameters (each with a severity, an effect
    size, a subject and a plain-language key, from which the page ranks its "needs action" list)
    (``Note("complaints.surge", {"category": Label("complaints.cat_billing"), "start": Month("2026-08"),
    "ratio": Formatted(2.48, ",.2f"), ...})``), and anything else the page needs, kept in
    ``SectionResult.values``. It holds codes and numbers, never display text: no ``translate`` call and no
    formatted number strings. Expensive inputs shared by several sections (the tidy KPI frame of
    ``sqc.kpi.network_kpis``, the KPI scorecard) come from the per-run cache of the context (``ctx.shared(key, fn)``, ``ctx.scorecard()``, ``ctx.kpis()``),
    so they are computed once per run whatever the number of sections and languages.

``render(result: SectionResult, lang: str) -> Section``
    Turns the result into what one language's reader sees: translated title and notes, the Panel body, the
    figures (a matplotlib figure carries text, so it is drawn once per language, and only once: use
    ``sqc.report.panes.figure_pane``). ``result.context.in_language(lang)`` gives a ``ReportContext`` with
    ``t`` (labels from ``sqc/report/locale/<area>.json`` of the form ``{"key": {"en": "...", "zh": "..."}}``,
    looked up as ``t("<area>.<key>")``) and the number/period formatters. Render must not recompute a
    statistic; ``result.to_section(ctx, title, body)`` makes the Section with the result's headline and
    warnings, unchanged (so every language shows the same numbers), its notes rendered by ``ctx.note_text`` and
    their codes (``Note.to_dict``, written to ``summary.json`` as ``note_codes``).

A module whose ``compute`` reads only the tables loaded in memory (``ctx.data.survey``, never the store or
``ctx.scorecard()``) says so with ``LOADED_TABLES_ONLY = True``: a parallel run computes such sections in a
forked process beside the others.

``sqc.report.dashboard.write_report`` calls ``compute`` once per section and period and ``render`` once per
section and language. ``build(ctx) = render(compute(ctx), ctx.lang)`` is kept in each module for callers that
want one language (tests, the served app through ``build_sections``). A section module that only has the older
``build(ctx: ReportContext) -> Section`` still works: the dashboard then builds it once per language.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

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


# ---- findings as codes with parameters (rendered per language by ReportContext.note_text)

@dataclass(frozen=True)
class Month:
    """A report month ``YYYY-MM``; rendered as "Aug 2026" / "2026年8月"."""

    period: str


@dataclass(frozen=True)
class Formatted:
    """A number rendered with a format spec (``"+.2f"``, ``",.1f"``, ``".3g"``, ``".1%"`` for a proportion as a
    percentage); ``—`` when missing."""

    value: Any
    spec: str


@dataclass(frozen=True)
class Label:
    """A locale key ``"<area>.<key>"``, rendered translated; ``fallback`` (e.g. the raw code) when the key is
    missing from the locale file."""

    key: str
    fallback: str | None = None


@dataclass(frozen=True)
class ByLang:
    """Text the data carries in both languages (a questionnaire item, a branch name)."""

    en: str
    zh: str


@dataclass(frozen=True)
class Joined:
    """Parts rendered one by one and joined (a list of KPI names, "B07 Service level")."""

    parts: tuple
    sep: Any = ", "
    suffix: str = ""


NOTE_SEVERITIES = ("critical", "warning", "info")


@dataclass(frozen=True)
class Note:
    """A finding as a locale key and parameters (plain values or the wrappers above), with what ranks it.

    ``compute`` returns these; ``ReportContext.note_text`` renders one in a language; ``to_dict`` is its
    language-free form for ``summary.json``.

    Attributes
    ----------
    key : str
        The complete sentence (with the method's name and its numbers), shown in the dashboard's details list.
    params : dict
        Its parameters; the plain sentence uses the same ones.
    severity : {"critical", "warning", "info"}
        How urgently a manager must act: ``critical`` (act now: a surge, a fix that made things worse, a veto),
        ``warning`` (a signal or a target that needs action), ``info`` (context; never in "needs action").
    effect : float, optional
        A unit-free size for ranking within a severity, larger first: a relative change ``|ratio − 1|`` or a
        relative distance from the target or expectation ``|value / target − 1|``.
    subject : str, optional
        What the finding is about (``"B07"``, ``"ALL"`` for the network, ``"complaints:billing"``,
        ``"item:20"``); findings with the same subject make one action item.
    plain_key : str, optional
        The same finding in a manager's words (no test names, p-values or symbols); ``key`` when missing.
    """

    key: str
    params: dict = field(default_factory=dict)
    severity: str = "info"
    effect: float | None = None
    subject: str | None = None
    plain_key: str | None = None

    def __post_init__(self):
        if self.severity not in NOTE_SEVERITIES:
            from ..errors import ParameterError

            raise ParameterError(f"Note {self.key!r}: severity {self.severity!r} is not one of {NOTE_SEVERITIES}")

    def to_dict(self) -> dict:
        out = {"key": self.key, "params": {k: _plain(v) for k, v in self.params.items()}, "severity": self.severity}
        effect = None if self.effect is None or not math.isfinite(float(self.effect)) else float(self.effect)
        out.update(effect=effect, subject=self.subject, plain_key=self.plain_key or self.key)
        return out


def _plain(value: Any) -> Any:
    if isinstance(value, Month):
        return value.period
    if isinstance(value, Formatted):
        return value.value
    if isinstance(value, Label):
        return value.key
    if isinstance(value, ByLang):
        return {"en": value.en, "zh": value.zh}
    if isinstance(value, Joined):
        return [_plain(v) for v in value.parts]
    return value


@dataclass
class ComputeContext:
    """What a section's ``compute`` receives: one report (period, branches) of one data set, any language.

    Attributes
    ----------
    data : sqc.io.NetworkData
        The validated tables (``data.hotline``, ``data.complaints``, ``data.survey``, ``data.audit_visits``,
        ``data.checklist``, ``data.incidents``, ``data.targets``, ``data.branches``; see ``sqc.tables``).
    period : str
        The report month, ``YYYY-MM``. Sections show data up to and including this month, never after it.
    branches : list of str
        Branch ids to include (all branches when the run did not restrict them).
    cache : dict
        Per-run store of shared, language-independent inputs (see :meth:`shared`). Contexts made from this one by
        :meth:`in_language` share it.
    """

    data: Any
    period: str
    branches: list[str]
    cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def period_end(self) -> pd.Timestamp:
        """First instant after the report month (data with timestamps before this are in scope)."""
        return (pd.Period(self.period, "M") + 1).start_time

    def shared(self, key: str, compute: Callable[[], Any]) -> Any:
        """``compute()`` the first time ``key`` is asked for in this run, the stored value afterwards."""
        if key not in self.cache:
            self.cache[key] = compute()
        return self.cache[key]

    def scorecard(self):
        """The KPI scorecard of the report month (``sqc.scorecard.kpi_scorecard``), computed once per run. The
        report shows the waiting-time quantiles of the report month only, so only those are computed."""
        from ..scorecard import kpi_scorecard

        return self.shared("kpi_scorecard", lambda: kpi_scorecard(self.data, period=self.period,
                                                                  branches=self.branches,
                                                                  stages=self.limit_stages(),
                                                                  quantile_history=False))

    def limit_stages(self) -> pd.DataFrame:
        """The analyst's stage table (data folder's optional ``limit_stages``) as it applies to this report."""
        from ..scorecard import stages_from_table

        tables = getattr(self.data, "tables", {}) or {}
        known = tables["branches"]["branch"] if "branches" in tables else self.branches
        return stages_from_table(tables.get("limit_stages"), period=self.period, branches=self.branches,
                                 known_branches=known)

    def kpis(self, start: str | None = None) -> pd.DataFrame:
        """The tidy monthly KPI frame (hotline KPIs and complaint rates, per branch and ``ALL``, with the
        wait/handle-time quantiles of the report month) up to the report month, from ``start`` (``YYYY-MM``) on. It
        is the frame the scorecard was computed from, so ``sqc.kpi.network_kpis`` runs once per run. ``attrs["conventions"]`` holds the KPI
        conventions."""
        sc = self.scorecard()
        hist = sc.history
        if start is not None:
            hist = hist.loc[hist["period"].astype(str) >= start]
        hist = hist.reset_index(drop=True)
        hist.attrs["conventions"] = dict(sc.conventions)
        return hist

    def in_language(self, lang: str) -> "ReportContext":
        """A ``ReportContext`` for rendering in ``lang`` that shares this context's data and cache."""
        ctx = ReportContext(data=self.data, period=self.period, branches=self.branches, lang=lang)
        ctx.cache = self.cache
        return ctx


@dataclass
class ReportContext(ComputeContext):
    """A ``ComputeContext`` plus the reader's language: what ``render`` (and the one-language ``build``) use.

    Attributes
    ----------
    lang : {"en", "zh"}
    """

    lang: str = "en"

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

    def text(self, value: Any) -> str:
        """A note parameter in this language (see ``Note``); other values are shown as they are."""
        if isinstance(value, Month):
            return self.fmt_period(value.period)
        if isinstance(value, Formatted):
            return "—" if value.value is None or pd.isna(value.value) else format(value.value, value.spec)
        if isinstance(value, Label):
            area, _, name = value.key.partition(".")
            text = self.t(value.key)
            return value.fallback if value.fallback is not None and text == name else text
        if isinstance(value, ByLang):
            return value.zh if self.lang == "zh" else value.en
        if isinstance(value, Joined):
            return self.text(value.sep).join(self.text(v) for v in value.parts) + value.suffix
        return value if isinstance(value, str) else str(value)

    def display_names(self, text: str | None, *, subject: bool = False) -> str:
        """``text`` (a warning's message, or with ``subject=True`` what it is about, as a statistics module wrote
        it) with the data's codes replaced by their names in this language: KPI column ids (``asa_s``), ``ALL`` for
        the network, complaint categories (``billing``), survey dimensions (``empathy``), assessor bodies
        (``city``). In a message only KPI ids, ``ALL``, quoted categories and a leading ``dimension:`` are
        replaced; a subject is looked up whole (``report.subject_<words>``) and then word by word."""
        if not text:
            return ""
        names = {code: self.t(f"kpi.{code}") for code in _locale_file("kpi") if code != "network"}
        names["ALL"] = self.t("kpi.network")
        codes = {key.partition("_")[2]: self.t(f"{area}.{key}") for area, prefix in (
            ("complaints", "cat_"), ("servqual", "dim_"), ("audit", "body_")) for key in _locale_file(area)
            if key.startswith(prefix)}
        codes.update({k[8:]: self.t(f"report.{k}") for k in _locale_file("report") if k.startswith("subject_")})
        if subject:
            whole = re.sub(r"\W+", "_", text.strip())
            if whole in codes:
                return codes[whole]
            words = {**codes, **names}
            return re.sub(r"[A-Za-z][A-Za-z0-9_]*", lambda m: words.get(m.group(0), m.group(0)), text)
        text = re.sub(r"(?<![\w.])[A-Za-z][A-Za-z0-9_]*(?![\w])", lambda m: names.get(m.group(0), m.group(0)), text)
        text = re.sub(r"[“\"']([a-z_]+)[”\"']", lambda m: m.group(0).replace(m.group(1), codes.get(m.group(1), m.group(1))),
                      text)
        lead = re.match(r"([a-z_ ]+)(?=[:：])", text)
        if lead and lead.group(1).replace(" ", "_") in codes:
            text = codes[lead.group(1).replace(" ", "_")] + text[lead.end():]
        if self.lang != "en":  # a translated message has no English words of its own: every code left is a name
            text = re.sub(r"(?<![A-Za-z_])[a-z][a-z_]*(?![A-Za-z_])", lambda m: codes.get(m.group(0), m.group(0)),
                          text)
        return text

    def note_text(self, note: Note, *, plain: bool = False) -> str:
        """The sentence of ``note`` in this language (``plain=True``: in a manager's words, ``Note.plain_key``)."""
        key = (note.plain_key or note.key) if plain else note.key
        return self.t(key, **{k: self.text(v) for k, v in note.params.items()})


@dataclass
class SectionResult:
    """What a section's ``compute`` returns: everything its pages need, in no particular language.

    Attributes
    ----------
    key : str
        The section's stable id (``"spc"``, ``"servqual"`` ...).
    context : ComputeContext
        The context it was computed for (period, branches, data; ``render`` makes its language context from it).
    headline : dict
        Machine-readable headline numbers for ``summary.json`` (see ``Section.headline``).
    warnings : list of QualityWarning
    notes : list of Note
        The findings as codes with parameters; ``render`` turns them into ``Section.notes``.
    values : dict
        The computed objects ``render`` lays out (statistics results, small frames, codes, further ``Note``
        objects for the section's own text). No display text.
    seconds : float
        Compute time, filled in by the dashboard assembly.
    """

    key: str
    context: ComputeContext
    headline: dict = field(default_factory=dict)
    warnings: list[QualityWarning] = field(default_factory=list)
    values: dict = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)
    seconds: float = 0.0

    def to_section(self, ctx: ReportContext, title: str, body: Any) -> "Section":
        """The ``Section`` of ``ctx.lang``: this result's headline and warnings, its notes rendered."""
        return Section(self.key, title, body, self.headline, self.warnings, [ctx.note_text(n) for n in self.notes],
                       [n.to_dict() for n in self.notes], result=self)


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
        The findings' complete sentences, already translated, listed under "details" at the top of the dashboard.
    note_codes : list of dict
        The same notes as locale keys with parameters (``Note.to_dict``), the same in every language.
    """

    key: str
    title: str
    body: Any
    headline: dict = field(default_factory=dict)
    warnings: list[QualityWarning] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    note_codes: list[dict] = field(default_factory=list)  # the notes' language-free form (Note.to_dict)
    seconds: float = 0.0  # compute + render time, filled in by the dashboard assembly (shown in the run log)
    # the language-free result it was rendered from (its Note objects and values feed the page's summary); None
    # for a section module that only has build(ctx)
    result: "SectionResult | None" = field(default=None, repr=False, compare=False)
