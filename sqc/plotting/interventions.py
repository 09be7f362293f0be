"""Intervention charts, drawn from sqc.interventions / sqc.blueprint results; nothing is recomputed.

* :func:`effect_spec` - observed counts against the counterfactual (what the model expects without the
  intervention), with the counterfactual's interval when the design gives one and the start marked: one chart
  description (:mod:`sqc.plotting.spec`) drawn by matplotlib or Bokeh; :func:`effect_figure` draws it with
  matplotlib, and the result objects' ``.plot()`` uses it through :func:`its_spec` and friends.
* :func:`blueprint_figure` - the service blueprint: steps in four lanes with the lines of interaction, visibility
  and internal interaction, failure points with the month's complaint and defect counts, and the fail-safes
  guarding them.

The blueprint (matplotlib only) takes labels already translated; call it inside
``matplotlib.rc_context(sqc.plotting.scorecard.cjk_rc())`` when they contain Chinese.
"""
from __future__ import annotations

import textwrap

import numpy as np

from .generic import label
from .spec import Chart, to_matplotlib

OBSERVED = "#1f2933"
START = "#52606d"
COUNTERFACTUAL = "#c0392b"
BAND = "#f5b7b1"
AFTER_SHADE = "#eef2f7"
FAILURE = "#c0392b"
GUARD = "#1e8449"
LANE_COLORS = {"customer": "#fdf2e9", "onstage": "#eaf2f8", "backstage": "#f4f6f6", "support": "#fbfcfc"}


def effect_spec(series, *, lang: str = "en", title: str = "", labels: dict | None = None) -> Chart:
    """Observed against counterfactual for one intervention, as a chart description both back-ends draw.

    ``series`` has ``period``, ``observed``, ``counterfactual``, ``after`` (0..1) and optionally ``cf_low``/
    ``cf_high`` (e.g. :attr:`sqc.interventions.InterventionEffect.series`). ``labels`` may override
    ``{"observed", "counterfactual", "after", "y"}``; by default they come from the ``charts`` locale in ``lang``.
    The start is marked by a vertical rule before the first month with any share after it.
    """
    lab = {"observed": label("observed", lang), "counterfactual": label("counterfactual", lang),
           "after": label("intervention_start", lang), "y": label("count_per_period", lang), **(labels or {})}
    x = _months(series["period"])
    dates = x is not None  # a date axis: ticks spaced and named in the chart's language by the back-end
    if not dates:
        x = np.arange(len(series))
    chart = Chart(title, y_label=lab["y"], x_label=label("month", lang), x_dates=dates, legend=True,
                  x_categories=None if dates else [str(p) for p in series["period"]], size=(9.5, 3.4), lang=lang)
    if "cf_low" in series:
        chart.band(x, series["cf_low"].to_numpy(float), series["cf_high"].to_numpy(float), colour=BAND, alpha=0.6)
    chart.line(x, series["counterfactual"].to_numpy(float), colour=COUNTERFACTUAL, dash="dashed", width=1.3,
               label=lab["counterfactual"])
    chart.line(x, series["observed"].to_numpy(float), colour=OBSERVED, marker="o", label=lab["observed"])
    after = series["after"].to_numpy(float) > 0
    if after.any():
        first = int(np.flatnonzero(after)[0])
        # between the last month before the start and the first one after it
        start = x[first] - (x[first] - x[first - 1]) / 2 if first > 0 else x[first]
        chart.rule(start, axis="x", colour=START, label=lab["after"])
    return chart


def _months(periods):
    """The first day of each month of ``periods`` (``YYYY-MM`` strings or periods) as datetime64, or None when
    they are not months."""
    import pandas as pd

    try:
        return pd.PeriodIndex([str(p) for p in periods], freq="M").to_timestamp().to_numpy()
    except (ValueError, TypeError):
        return None


def effect_figure(series, *, title: str | None = None, labels: dict | None = None, figsize=(6.4, 3.0),
                  lang: str = "en"):
    """:func:`effect_spec` drawn with matplotlib (a ``Figure``), for the report section."""
    return to_matplotlib(effect_spec(series, lang=lang, title=title or "", labels=labels), figsize=figsize)


def _rate_ratio(row) -> str:
    """``RR 0.64 [0.50, 0.82]`` from anything with ``rate_ratio``, ``ci_low`` and ``ci_high``."""
    return f"RR {row['rate_ratio']:.2f} [{row['ci_low']:.2f}, {row['ci_high']:.2f}]"


def _series(result):
    return result.series.rename(columns={"time": "period"})


def its_spec(result, lang: str = "en") -> Chart:
    """An :class:`sqc.interventions.ITSResult` or :class:`~sqc.interventions.StaggeredResult` (summed over the
    treated units): observed against the fitted model with the intervention terms set to zero."""
    return effect_spec(_series(result), lang=lang, title=f"{result.chart_title(lang)}: {_rate_ratio(result.headline)}")


def before_after_spec(result, lang: str = "en") -> Chart:
    """A :class:`sqc.interventions.BeforeAfterResult`: its staged control chart (own centre line and limits
    before and after the start)."""
    chart = result.chart.chart_spec(lang=lang)
    chart.title = f"{result.chart_title(lang)}: {_rate_ratio(result.to_frame().iloc[0])}"
    return chart


def intervention_effect_spec(result, lang: str = "en") -> Chart:
    """An :class:`sqc.interventions.InterventionEffect`: observed against counterfactual for its measure."""
    iv = result.intervention
    name = iv.name.get(lang) or iv.name.get("en", "")
    title = f"{result.chart_title(lang)} {iv.intervention_id} {name}: {_rate_ratio(result.effect)}"
    return effect_spec(result.series, lang=lang, title=title)


def _wrap(text: str, width: int) -> str:
    """Wrap Latin text at spaces and CJK text (no spaces) every ``width // 2`` characters."""
    if not text:
        return ""
    if any("\u4e00" <= ch <= "\u9fff" for ch in text):
        n = max(4, width // 2)
        return "\n".join(text[i:i + n] for i in range(0, len(text), n))
    return textwrap.fill(text, width)


def blueprint_figure(steps, failures=None, *, lang: str = "en", title: str | None = None, labels: dict | None = None,
                     figsize=None):
    """Draw the service blueprint.

    Parameters
    ----------
    steps : DataFrame
        The ``blueprint_steps`` table (``step_id, stage, lane, text_<lang>, failure_<lang>``).
    failures : DataFrame, optional
        :func:`sqc.blueprint.failure_counts` for the month (index ``step_id``): complaints, defects/checks and
        ``guarded_by`` are written under each failure point.
    lang : {"en", "zh"}
        Which text columns to show.
    labels : dict, optional
        Translations of ``{"lanes": {lane: label}, "lines": {line: label}, "complaints", "defects",
        "guarded"}``.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    from ..blueprint import LANES, LINES, check_blueprint

    lab = {"lanes": {"customer": "Customer actions", "onstage": "Onstage", "backstage": "Backstage",
                     "support": "Support processes"},
           "lines": {"interaction": "line of interaction", "visibility": "line of visibility",
                     "internal_interaction": "line of internal interaction"},
           "complaints": "complaints", "defects": "failed checks", "guarded": "fail-safe", **(labels or {})}
    steps = check_blueprint(steps)
    text_col = f"text_{lang}" if f"text_{lang}" in steps.columns else "text_en"
    fail_col = f"failure_{lang}" if f"failure_{lang}" in steps.columns else "failure_en"
    stages = sorted(steps["stage"].unique())
    # a stage is as wide as its busiest lane (several steps of one lane and stage sit side by side)
    width = steps.groupby(["stage", "lane"]).size().groupby(level=0).max().reindex(stages).to_numpy()
    x_of = dict(zip(stages, np.concatenate(([0], np.cumsum(width)[:-1]))))
    n_st = float(width.sum())
    figsize = figsize or (max(8.0, 1.6 * n_st + 1.6), 8.5)
    fig, ax = plt.subplots(figsize=figsize)
    lane_h = 1.0
    left = 1.3                                  # room for the lane names
    for li, lane in enumerate(LANES):
        y0 = (len(LANES) - 1 - li) * lane_h
        ax.add_patch(plt.Rectangle((0, y0), left + n_st, lane_h, color=LANE_COLORS[lane], zorder=0))
        ax.text(0.08, y0 + lane_h / 2, _wrap(lab["lanes"][lane], 12), va="center", ha="left", fontsize=9.5,
                fontweight="bold")
        if li < len(LINES):
            ax.axhline(y0, xmin=0, xmax=1, color="#7b8794", lw=1.0, ls=(0, (6, 3)) if li == 1 else "-")
            ax.text(left + n_st - 0.02, y0 + 0.03, lab["lines"][LINES[li]], ha="right", va="bottom", fontsize=8,
                    color="#52606d", style="italic")
    for (stage, lane), g in steps.groupby(["stage", "lane"], sort=False):
        y0 = (len(LANES) - 1 - LANES.index(lane)) * lane_h
        for j, (_, r) in enumerate(g.iterrows()):
            x0 = left + x_of[stage] + j + 0.05
            w = 0.9
            has_fp = isinstance(r.get(fail_col), str) and r.get(fail_col) != ""
            ax.add_patch(FancyBboxPatch((x0, y0 + 0.51), w, 0.40, boxstyle="round,pad=0.01",
                                        fc="white", ec=FAILURE if has_fp else "#9aa5b1", lw=1.2 if has_fp else 0.8))
            ax.text(x0 + w / 2, y0 + 0.71, _wrap(str(r[text_col]), 20), ha="center", va="center", fontsize=8.5)
            if not has_fp:
                continue
            lines = [_wrap("⚠ " + str(r[fail_col]), 24)]
            if failures is not None and r["step_id"] in failures.index:
                f = failures.loc[r["step_id"]]
                if np.isfinite(f.get("complaints", np.nan)):
                    lines.append(f"{lab['complaints']}: {int(f['complaints'])}"
                                 + (f" (×{int(f['shared'])})" if f.get("shared", 1) > 1 else ""))
                if np.isfinite(f.get("checks", np.nan)) and f["checks"] > 0:
                    lines.append(f"{lab['defects']}: {int(f['defects'])}/{int(f['checks'])}")
            ax.text(x0 + w / 2, y0 + 0.47, "\n".join(lines), ha="center", va="top", fontsize=8, color=FAILURE)
            guard = "" if failures is None or r["step_id"] not in failures.index else \
                failures.loc[r["step_id"], "guarded_by"]
            if guard:
                ax.text(x0, y0 + 0.985, f"✔ {lab['guarded']} {guard.replace(';', ', ')}", ha="left",
                        va="top", fontsize=7.5, color=GUARD, fontweight="bold")
    for s in stages[1:]:
        ax.axvline(left + x_of[s], color="#cbd2d9", lw=0.6, ls=":", zorder=0.5)
    for s in stages:
        ax.text(left + x_of[s] + width[stages.index(s)] / 2, len(LANES) * lane_h + 0.05, str(s), ha="center",
                va="bottom", fontsize=8, color="#52606d")
    ax.set_xlim(0, left + n_st)
    ax.set_ylim(0, len(LANES) * lane_h + 0.3)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


__all__ = ["effect_spec", "effect_figure", "its_spec", "before_after_spec", "intervention_effect_spec",
           "blueprint_figure"]
