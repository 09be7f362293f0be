"""Audit plots drawn from sqc.audit / sqc.agreement result objects; nothing is recomputed here.

Static (matplotlib, return a Figure):

* :func:`league_figure` — branch league: final score with its bootstrap interval, grade colour, rank and rank
  interval printed beside each branch.
* :func:`funnel_figure` — branch mean vs number of visits with 95 % / 99.8 % limits.
* :func:`bland_altman_figure` — difference vs mean of two assessor bodies, bias and limits with their CIs.
* :func:`section_profile_figure` — heat-map of mean section scores per branch.
* :func:`g_curve_figure` — generalizability coefficient against visits per branch, target and current n.

Interactive (Bokeh): :func:`league_bokeh`, :func:`funnel_bokeh`, :func:`bland_altman_bokeh`,
:func:`section_profile_bokeh`.

``labels`` dicts let the dashboard pass translated axis texts.
"""
from __future__ import annotations

import numpy as np

GRADE_COLOURS = {"A": "#1a9850", "B": "#91cf60", "C": "#fee08b", "D": "#fc8d59", "E": "#d73027"}
OTHER = "#4c72b0"
LIMIT95 = "#888888"
LIMIT998 = "#444444"


def _grade_colour(g) -> str:
    return GRADE_COLOURS.get(str(g), OTHER)


def _source(frame):
    """A Bokeh ColumnDataSource from plain columns (no index; avoids pandas-version quirks in Bokeh)."""
    from bokeh.models import ColumnDataSource

    return ColumnDataSource({str(c): frame[c].to_numpy() for c in frame.columns})


def _ba(result):
    """Accept an AssessorBiasResult or a BlandAltmanResult."""
    return getattr(result, "bland_altman", result)


# ------------------------------------------------------------------------------------------ matplotlib
def league_figure(rank_result, *, title: str | None = None, labels: dict | None = None, names: dict | None = None,
                  figsize=(7.0, None)):
    """Branch league of a :class:`sqc.audit.RankResult` (best at the top)."""
    import matplotlib.pyplot as plt

    lab = {"x": "audit score (after deductions)", "rank": "rank", **(labels or {})}
    t = rank_result.table.iloc[::-1]
    n = len(t)
    fig, ax = plt.subplots(figsize=(figsize[0], figsize[1] or 0.32 * n + 1.2))
    y = np.arange(n)
    ax.hlines(y, t["score_ci_low"], t["score_ci_high"], color="grey", lw=2, alpha=0.7)
    ax.scatter(t["final"], y, c=[_grade_colour(g) for g in t["grade"]], edgecolor="k", s=45, zorder=3)
    ticks = [f"{(names or {}).get(b, b)}" for b in t["branch"]]
    ax.set_yticks(y, ticks, fontsize=8)
    right = float(np.nanmax(t["score_ci_high"])) + 1
    for yi, (_, r) in zip(y, t.iterrows()):
        ax.annotate(f"{r['grade']}  {lab['rank']} {r['rank']} ({r['rank_low']}–{r['rank_high']})", (right, yi),
                    fontsize=7, va="center")
    lo = float(np.nanmin(t["score_ci_low"]))
    ax.set_xlim(lo - 2, right + 0.22 * (right - lo + 4))
    ax.set_xlabel(lab["x"], fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(title or f"Branch league {rank_result.quarter}", fontsize=10)
    fig.tight_layout()
    return fig


def funnel_figure(funnel, *, title: str | None = None, labels: dict | None = None, figsize=(6.0, 3.8)):
    """Funnel plot of a :class:`sqc.audit.FunnelResult`."""
    import matplotlib.pyplot as plt

    lab = {"x": "visits", "y": "mean visit score", "l95": "95% limits", "l998": "99.8% limits",
           "target": "company mean", **(labels or {})}
    lim, p = funnel.limits, funnel.points
    fig, ax = plt.subplots(figsize=figsize)
    ax.plot(lim["n"], lim["lo95"], color=LIMIT95, ls="--", lw=1, label=lab["l95"])
    ax.plot(lim["n"], lim["hi95"], color=LIMIT95, ls="--", lw=1)
    ax.plot(lim["n"], lim["lo998"], color=LIMIT998, ls="-", lw=1, label=lab["l998"])
    ax.plot(lim["n"], lim["hi998"], color=LIMIT998, ls="-", lw=1)
    ax.axhline(funnel.target, color="k", lw=0.8, label=lab["target"])
    out = p["signal"] != "within"
    ax.scatter(p.loc[~out, "n"], p.loc[~out, "mean"], color=OTHER, s=30, zorder=3)
    ax.scatter(p.loc[out, "n"], p.loc[out, "mean"], color="#d73027", s=40, zorder=3)
    for _, r in p.iterrows():
        ax.annotate(str(r["branch"]), (r["n"], r["mean"]), textcoords="offset points", xytext=(4, 2), fontsize=7)
    ax.set_xlim(0, lim["n"].max())
    lo = min(lim["lo998"].iloc[len(lim) // 10], p["mean"].min()) - 2
    hi = max(lim["hi998"].iloc[len(lim) // 10], p["mean"].max()) + 2
    ax.set_ylim(lo, min(hi, 101))
    ax.set_xlabel(lab["x"], fontsize=8)
    ax.set_ylabel(lab["y"], fontsize=8)
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title(title or f"Funnel plot, {funnel.group}", fontsize=10)
    fig.tight_layout()
    return fig


def bland_altman_figure(result, *, title: str | None = None, labels: dict | None = None, figsize=(6.0, 3.8)):
    """Bland–Altman plot of a :class:`sqc.agreement.BlandAltmanResult` (or an AssessorBiasResult)."""
    import matplotlib.pyplot as plt

    ba = _ba(result)
    lab = {"x": f"mean of {ba.label_a} and {ba.label_b}", "y": f"{ba.label_a} − {ba.label_b}", "bias": "bias",
           "loa": "limits of agreement", **(labels or {})}
    fig, ax = plt.subplots(figsize=figsize)
    ax.scatter(ba.means, ba.diffs, s=12, alpha=0.6, color=OTHER)
    x0, x1 = float(np.min(ba.means)), float(np.max(ba.means))
    for val, ci, name, style in ((ba.bias, ba.bias_ci, lab["bias"], "-"),
                                 (ba.loa_low, ba.loa_low_ci, lab["loa"], "--"),
                                 (ba.loa_high, ba.loa_high_ci, None, "--")):
        ax.axhline(val, color="k", ls=style, lw=1, label=name)
        ax.axhspan(ci[0], ci[1], color="grey", alpha=0.15)
        ax.annotate(f"{val:+.1f}", (x1, val), textcoords="offset points", xytext=(3, 2), fontsize=7)
    ax.axhline(0, color="grey", lw=0.6, ls=":")
    ax.set_xlim(x0 - 1, x1 + 0.08 * (x1 - x0 + 1))
    ax.set_xlabel(lab["x"], fontsize=8)
    ax.set_ylabel(lab["y"], fontsize=8)
    ax.legend(fontsize=7, loc="lower left")
    ax.set_title(title or f"Bland–Altman, n = {ba.n}", fontsize=10)
    fig.tight_layout()
    return fig


def section_profile_figure(visit_scores, *, by: str = "branch", title: str | None = None, labels: dict | None = None,
                           figsize=None):
    """Heat-map of mean section scores (rows: ``by``; columns: checklist sections) of a VisitScores."""
    import matplotlib.pyplot as plt

    lab = {"cbar": "mean section score", "sections": {}, **(labels or {})}
    prof = visit_scores.section_profile(by)
    fig, ax = plt.subplots(figsize=figsize or (1.0 * prof.shape[1] + 2.5, 0.3 * prof.shape[0] + 1.8))
    im = ax.imshow(prof.to_numpy(float), cmap="RdYlGn", vmin=max(0, np.nanmin(prof.to_numpy()) - 5), vmax=100,
                   aspect="auto")
    ax.set_yticks(range(prof.shape[0]), [str(i) for i in prof.index], fontsize=7)
    ax.set_xticks(range(prof.shape[1]), [lab["sections"].get(c, c) for c in prof.columns], rotation=30,
                  ha="right", fontsize=7)
    for i in range(prof.shape[0]):
        for j in range(prof.shape[1]):
            v = prof.iat[i, j]
            if np.isfinite(v):
                ax.text(j, i, f"{v:.0f}", ha="center", va="center", fontsize=6)
    cb = fig.colorbar(im, ax=ax, fraction=0.04)
    cb.set_label(lab["cbar"], fontsize=7)
    ax.set_title(title or "Section profile", fontsize=10)
    fig.tight_layout()
    return fig


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
                 width: int = 620):
    """Interactive branch league (hover: score, CI, rank interval, visits, deductions)."""
    from bokeh.models import HoverTool
    from bokeh.plotting import figure

    lab = {"x": "audit score (after deductions)", **(labels or {})}
    t = rank_result.table.copy()
    t["label"] = [(names or {}).get(b, b) for b in t["branch"]]
    t["colour"] = [_grade_colour(g) for g in t["grade"]]
    t["rank_text"] = [f"{a} ({lo}–{hi})" for a, lo, hi in zip(t["rank"], t["rank_low"], t["rank_high"])]
    cats = list(t["label"])[::-1]
    src = _source(t[["label", "final", "score_ci_low", "score_ci_high", "grade", "colour", "rank_text",
                              "n_visits", "deductions"]])
    p = figure(y_range=cats, height=28 * len(t) + 80, width=width, title=title or f"Branch league "
               f"{rank_result.quarter}", toolbar_location=None, tools="")
    p.hbar(y="label", left="score_ci_low", right="score_ci_high", height=0.25, source=src, color="grey", alpha=0.5)
    r = p.scatter(x="final", y="label", source=src, size=10, fill_color="colour", line_color="black")
    t_right = float(t["score_ci_high"].max())
    p.text(x=t_right + 0.5, y="label", text="annot", source=_source(t[["label"]].assign(
        annot=[f"{g}  #{rt}" for g, rt in zip(t["grade"], t["rank_text"])])), text_font_size="8pt",
        text_baseline="middle")
    p.x_range.end = t_right + 0.18 * (t_right - float(t["score_ci_low"].min()) + 2) + 2
    p.add_tools(HoverTool(renderers=[r], tooltips=[("branch", "@label"), ("score", "@final{0.0}"),
                                                   ("95% CI", "@score_ci_low{0.0}–@score_ci_high{0.0}"),
                                                   ("grade", "@grade"), ("rank (95% interval)", "@rank_text"),
                                                   ("visits", "@n_visits"), ("deductions", "@deductions{0.0}")]))
    p.xaxis.axis_label = lab["x"]
    return p


def funnel_bokeh(funnel, *, title: str | None = None, labels: dict | None = None, width: int = 560):
    from bokeh.models import HoverTool
    from bokeh.plotting import figure

    lab = {"x": "visits", "y": "mean visit score", **(labels or {})}
    p = figure(height=360, width=width, title=title or f"Funnel plot, {funnel.group}", toolbar_location=None,
               tools="")
    lim = _source(funnel.limits)
    for col, colour, dash in (("lo95", LIMIT95, "dashed"), ("hi95", LIMIT95, "dashed"), ("lo998", LIMIT998, "solid"),
                              ("hi998", LIMIT998, "solid")):
        p.line("n", col, source=lim, color=colour, line_dash=dash)
    p.line(x=[0, float(funnel.limits["n"].max())], y=[funnel.target] * 2, color="black")
    pts = funnel.points.copy()
    pts["colour"] = np.where(pts["signal"] == "within", OTHER, "#d73027")
    r = p.scatter("n", "mean", source=_source(pts), size=9, color="colour")
    p.add_tools(HoverTool(renderers=[r], tooltips=[("branch", "@branch"), ("visits", "@n"),
                                                   ("mean", "@mean{0.0}"), ("z", "@z{0.00}"), ("", "@signal")]))
    lo = min(float(funnel.limits["lo998"].iloc[len(funnel.limits) // 10]), float(pts["mean"].min())) - 2
    hi = max(float(funnel.limits["hi998"].iloc[len(funnel.limits) // 10]), float(pts["mean"].max())) + 2
    p.y_range.start, p.y_range.end = lo, min(hi, 101)
    p.xaxis.axis_label, p.yaxis.axis_label = lab["x"], lab["y"]
    return p


def bland_altman_bokeh(result, *, title: str | None = None, labels: dict | None = None, width: int = 560):
    from bokeh.models import BoxAnnotation, ColumnDataSource, HoverTool, Span
    from bokeh.plotting import figure

    ba = _ba(result)
    lab = {"x": f"mean of {ba.label_a} and {ba.label_b}", "y": f"{ba.label_a} − {ba.label_b}", **(labels or {})}
    p = figure(height=360, width=width, title=title or f"Bland–Altman, n = {ba.n}", toolbar_location=None, tools="")
    data = {"mean": np.asarray(ba.means, float), "diff": np.asarray(ba.diffs, float)}
    pairs = getattr(result, "pairs", None)
    if pairs is not None and len(pairs) == len(data["mean"]):
        data["where"] = (pairs["branch"].astype(str) + " " + pairs["period"].astype(str)).to_numpy()
    else:
        data["where"] = np.array([""] * len(data["mean"]))
    r = p.scatter("mean", "diff", source=ColumnDataSource(data), size=5, alpha=0.6, color=OTHER)
    for val, ci, dash in ((ba.bias, ba.bias_ci, "solid"), (ba.loa_low, ba.loa_low_ci, "dashed"),
                          (ba.loa_high, ba.loa_high_ci, "dashed")):
        p.add_layout(Span(location=float(val), dimension="width", line_color="black", line_dash=dash))
        p.add_layout(BoxAnnotation(bottom=float(ci[0]), top=float(ci[1]), fill_color="grey", fill_alpha=0.15))
    p.add_layout(Span(location=0, dimension="width", line_color="grey", line_dash="dotted"))
    p.add_tools(HoverTool(renderers=[r], tooltips=[("", "@where"), ("mean", "@mean{0.0}"),
                                                   ("difference", "@diff{+0.0}")]))
    p.xaxis.axis_label, p.yaxis.axis_label = lab["x"], lab["y"]
    return p


def section_profile_bokeh(visit_scores, *, by: str = "branch", title: str | None = None, labels: dict | None = None,
                          width: int = 640):
    """Heat-map of mean section scores (Bokeh; text is rendered by the browser, so any language shows)."""
    from bokeh.models import HoverTool, LinearColorMapper
    from bokeh.palettes import RdYlGn11
    from bokeh.plotting import figure

    lab = {"sections": {}, **(labels or {})}
    prof = visit_scores.section_profile(by)
    long = prof.stack().rename("score").reset_index()
    long.columns = ["row", "section", "score"]
    long["row"] = long["row"].astype(str)
    long["section"] = [lab["sections"].get(s, s) for s in long["section"]]
    long["text"] = [f"{v:.0f}" for v in long["score"]]
    rows = [str(i) for i in prof.index][::-1]
    cols = [lab["sections"].get(c, c) for c in prof.columns]
    lo = float(max(0.0, np.nanmin(prof.to_numpy()) - 5))
    mapper = LinearColorMapper(palette=list(RdYlGn11[::-1]), low=lo, high=100)
    p = figure(x_range=cols, y_range=rows, height=24 * len(rows) + 140, width=width, title=title or "Section profile",
               toolbar_location=None, tools="")
    src = _source(long)
    r = p.rect("section", "row", 1, 1, source=src, fill_color={"field": "score", "transform": mapper},
               line_color="white")
    p.text("section", "row", text="text", source=src, text_align="center", text_baseline="middle",
           text_font_size="8pt")
    p.add_tools(HoverTool(renderers=[r], tooltips=[("", "@row"), ("", "@section"), ("score", "@score{0.0}")]))
    p.xaxis.major_label_orientation = 0.6
    p.grid.visible = False
    return p
