"""Audit plots drawn from sqc.audit / sqc.agreement result objects; nothing is recomputed here.

Static (matplotlib, return a Figure):

* :func:`league_figure` — branch league: final score with its bootstrap interval, grade colour, rank and rank
  interval printed beside each branch.
* :func:`funnel_figure` — branch mean vs number of visits with 95 % / 99.8 % limits.
* :func:`bland_altman_figure` — difference vs mean of two assessor bodies, bias and limits with their CIs.
* :func:`section_profile_figure` — heat-map of mean section scores per branch.
* :func:`g_curve_figure` — generalizability coefficient against visits per branch, target and current n.

Interactive (Bokeh): :func:`league_bokeh`, :func:`funnel_bokeh`, :func:`bland_altman_bokeh`,
:func:`section_profile_bokeh`. Each pair draws one description (``*_spec``, a :class:`sqc.plotting.spec.Chart`).

``labels`` dicts let the dashboard pass translated axis texts.
"""
from __future__ import annotations

import re

import numpy as np

from .generic import label
from .spec import Chart, to_bokeh, to_matplotlib

GRADE_COLOURS = {"A": "#1a9850", "B": "#91cf60", "C": "#fee08b", "D": "#fc8d59", "E": "#d73027"}
OTHER = "#4c72b0"
LIMIT95 = "#888888"
LIMIT998 = "#444444"


def _grade_colour(g) -> str:
    return GRADE_COLOURS.get(str(g), OTHER)


def _ba(result):
    """Accept an AssessorBiasResult or a BlandAltmanResult."""
    return getattr(result, "bland_altman", result)


# ------------------------------------------------------------------------------------------ chart descriptions
def league_spec(rank_result, lang: str = "en", *, title: str | None = None, labels: dict | None = None,
                names: dict | None = None) -> Chart:
    """Branch league of a :class:`sqc.audit.RankResult` (best at the top): final score with its bootstrap
    interval, grade colour, and the rank with its interval printed beside each branch."""
    lab = {"x": label("audit_score", lang), "rank": label("rank", lang), **(labels or {})}
    t = rank_result.table.iloc[::-1]
    y = np.arange(len(t))
    chart = Chart(title or f"{rank_result.chart_title(lang)} {rank_result.quarter}", x_label=lab["x"], lang=lang,
                  y_label=label("branch", lang),
                  y_categories=[str((names or {}).get(b, b)) for b in t["branch"]], size=(7.0, 0.32 * len(t) + 1.2))
    chart.whiskers(y, t["score_ci_low"].to_numpy(dtype=float), t["score_ci_high"].to_numpy(dtype=float),
                   horizontal=True, colour="grey")
    rank_text = [f"{a} ({lo}–{hi})" for a, lo, hi in zip(t["rank"], t["rank_low"], t["rank_high"])]
    chart.points(t["final"].to_numpy(dtype=float), y, colour=[_grade_colour(g) for g in t["grade"]], size=6.5,
                 tips={"": list(t["branch"]), label("score", lang): t["final"].round(1).to_numpy(),
                       label("grade", lang): list(t["grade"]), lab["rank"]: rank_text,
                       label("visits", lang): t["n_visits"].to_numpy()})
    right = float(np.nanmax(t["score_ci_high"])) + 1
    chart.text(np.full(len(t), right), y - 0.3, [f"{g}  {lab['rank']} {rt}" for g, rt in zip(t["grade"], rank_text)],
               align="left")
    lo = float(np.nanmin(t["score_ci_low"]))
    chart.points([lo - 2, right + 0.22 * (right - lo + 4)], [0, 0], colour="#ffffff", size=0.1)  # margins
    return chart


def funnel_spec(funnel, lang: str = "en", *, title: str | None = None, labels: dict | None = None) -> Chart:
    """Funnel plot of a :class:`sqc.audit.FunnelResult`: branch mean against visits with 95 % (dashed) and
    99.8 % (solid) limits around the company mean; branches outside in red."""
    lab = {"x": label("visits", lang), "y": label("mean_visit_score", lang), "l95": label("limits_95", lang),
           "l998": label("limits_998", lang), "target": label("company_mean", lang), **(labels or {})}
    lim, p = funnel.limits, funnel.points
    chart = Chart(title or f"{funnel.chart_title(lang)}, {funnel.group}", x_label=lab["x"], y_label=lab["y"],
                  legend=True, size=(6.0, 3.8), lang=lang)
    for col, colour, dash, name in (("lo95", LIMIT95, "dashed", lab["l95"]), ("hi95", LIMIT95, "dashed", None),
                                    ("lo998", LIMIT998, "solid", lab["l998"]), ("hi998", LIMIT998, "solid", None)):
        chart.line(lim["n"].to_numpy(dtype=float), lim[col].to_numpy(dtype=float), colour=colour, dash=dash,
                   label=name)
    chart.rule(funnel.target, colour="black", dash="solid", label=lab["target"])
    out = (p["signal"] != "within").to_numpy()
    chart.points(p["n"].to_numpy(dtype=float), p["mean"].to_numpy(dtype=float),
                 colour=list(np.where(out, "#d73027", OTHER)), size=5.5,
                 tips={"": list(p["branch"]), label("mean", lang): p["mean"].round(1).to_numpy(), "": [label("funnel_" + re.sub(r"\W+", "_", s).strip("_"), lang) for s in p["signal"]]})
    chart.text(p["n"].to_numpy(dtype=float), p["mean"].to_numpy(dtype=float), list(p["branch"]), align="left")
    return chart


def bland_altman_spec(result, lang: str = "en", *, title: str | None = None, labels: dict | None = None) -> Chart:
    """Bland–Altman plot of a :class:`sqc.agreement.BlandAltmanResult` (or an AssessorBiasResult): differences
    against means, the bias and the limits of agreement, each with its confidence band."""
    ba = _ba(result)
    lab = {"x": f"mean of {ba.label_a} and {ba.label_b}", "y": f"{ba.label_a} − {ba.label_b}",
           "bias": label("bias", lang), "loa": label("loa", lang), **(labels or {})}
    chart = Chart(title or f"{result.chart_title(lang)}, n = {ba.n}", x_label=lab["x"], y_label=lab["y"], legend=True,
                  size=(6.0, 3.8), lang=lang)
    x = np.asarray(ba.means, dtype=float)
    x0, x1 = float(np.min(x)), float(np.max(x))
    for val, ci, name, dash in ((ba.bias, ba.bias_ci, lab["bias"], "solid"),
                                (ba.loa_low, ba.loa_low_ci, lab["loa"], "dashed"),
                                (ba.loa_high, ba.loa_high_ci, None, "dashed")):
        chart.band([x0, x1], [ci[0]] * 2, [ci[1]] * 2, colour="#bdbdbd", alpha=0.4)
        chart.rule(val, colour="black", dash=dash, label=name)
        chart.text([x1], [val], [f"{val:+.1f}"], align="left")
    chart.rule(0, colour="grey", dash="dotted")
    chart.points(x, np.asarray(ba.diffs, dtype=float), colour=OTHER, size=3.5)
    return chart


def section_profile_spec(visit_scores, lang: str = "en", *, by: str = "branch", title: str | None = None,
                         labels: dict | None = None) -> Chart:
    """Heat map of mean section scores (rows: ``by``; columns: checklist sections) of a VisitScores."""
    lab = {"sections": {}, **(labels or {})}
    prof = visit_scores.section_profile(by)
    rows, cols = prof.shape
    chart = Chart(title or visit_scores.chart_title(lang), x_categories=[lab["sections"].get(c, c) for c in prof.columns],
                  y_categories=[str(i) for i in prof.index], size=(1.0 * cols + 3.0, 0.3 * rows + 2.2), lang=lang,
                  x_label=label("checklist_section", lang), y_label=label(by, lang) if by == "branch" else by)
    ii, jj = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    v = prof.to_numpy(float).ravel()
    chart.cells(jj.ravel(), ii.ravel(), v, [f"{x:.0f}" if np.isfinite(x) else "" for x in v],
                low=float(max(0.0, np.nanmin(v) - 5)), high=100.0, colourmap="RdYlGn",
                colour_label=label("section_score_colour", lang))
    return chart


# ------------------------------------------------------------------------------------------ drawings
def league_figure(rank_result, *, title: str | None = None, labels: dict | None = None, names: dict | None = None,
                  figsize=(7.0, None), lang: str = "en"):
    """Matplotlib drawing of :func:`league_spec`."""
    spec = league_spec(rank_result, lang, title=title, labels=labels, names=names)
    return to_matplotlib(spec, figsize=(figsize[0], figsize[1] or spec.size[1]))


def funnel_figure(funnel, *, title: str | None = None, labels: dict | None = None, figsize=(6.0, 3.8),
                  lang: str = "en"):
    """Matplotlib drawing of :func:`funnel_spec`."""
    return to_matplotlib(funnel_spec(funnel, lang, title=title, labels=labels), figsize=figsize)


def bland_altman_figure(result, *, title: str | None = None, labels: dict | None = None, figsize=(6.0, 3.8),
                        lang: str = "en"):
    """Matplotlib drawing of :func:`bland_altman_spec`."""
    return to_matplotlib(bland_altman_spec(result, lang, title=title, labels=labels), figsize=figsize)


def section_profile_figure(visit_scores, *, by: str = "branch", title: str | None = None, labels: dict | None = None,
                           figsize=None, lang: str = "en"):
    """Matplotlib drawing of :func:`section_profile_spec`."""
    return to_matplotlib(section_profile_spec(visit_scores, lang, by=by, title=title, labels=labels),
                         figsize=figsize)


def g_curve_figure(gstudy, *, n_max: int = 24, title: str | None = None, labels: dict | None = None,
                   figsize=(5.0, 3.2)):
    """Eρ² against visits per branch for the latest group of a :class:`sqc.audit.GStudyResult`."""
    import matplotlib.pyplot as plt

    lab = {"x": "visits per branch", "y": "generalizability Eρ²", **(labels or {})}
    c = gstudy.curve(n_max)
    r = gstudy.table.iloc[-1]
    fig, ax = plt.subplots(figsize=figsize)
    ax.plot(c["n_visits"], c["g_coefficient"], color=OTHER)
    ax.axhline(gstudy.target, color="grey", ls="--", lw=1)
    ax.scatter([r["visits_per_branch"]], [r["g_coefficient"]], color="#d73027", zorder=3)
    ax.set_ylim(0, 1)
    ax.set_xlabel(lab["x"], fontsize=8)
    ax.set_ylabel(lab["y"], fontsize=8)
    ax.set_title(title or f"How many visits? ({r['group']})", fontsize=10)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------------------ Bokeh
def league_bokeh(rank_result, *, title: str | None = None, labels: dict | None = None, names: dict | None = None,
                 width: int = 620, lang: str = "en"):
    """Bokeh drawing of :func:`league_spec` (hover: score, grade, rank interval, visits)."""
    return to_bokeh(league_spec(rank_result, lang, title=title, labels=labels, names=names), width=width)


def funnel_bokeh(funnel, *, title: str | None = None, labels: dict | None = None, width: int = 560,
                 lang: str = "en"):
    """Bokeh drawing of :func:`funnel_spec`."""
    return to_bokeh(funnel_spec(funnel, lang, title=title, labels=labels), width=width, height=360)


def bland_altman_bokeh(result, *, title: str | None = None, labels: dict | None = None, width: int = 560,
                       lang: str = "en"):
    """Bokeh drawing of :func:`bland_altman_spec`."""
    return to_bokeh(bland_altman_spec(result, lang, title=title, labels=labels), width=width, height=360)


def section_profile_bokeh(visit_scores, *, by: str = "branch", title: str | None = None, labels: dict | None = None,
                          width: int = 640, lang: str = "en"):
    """Bokeh drawing of :func:`section_profile_spec`."""
    return to_bokeh(section_profile_spec(visit_scores, lang, by=by, title=title, labels=labels), width=width)
