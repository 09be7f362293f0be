"""SERVQUAL plots drawn from sqc.servqual result objects; nothing is recomputed here.

Static (matplotlib, return a Figure):

* :func:`gap_figure` — dimension (or item) gaps P − E with their CIs, n printed.
* :func:`profile_figure` — expectation vs perception item means with CIs.
* :func:`zot_figure` — zone of tolerance per item or dimension: bar from adequate to desired, perception marker.
* :func:`ipa_figure` — IPA grid with CI cross-bars, the cross-hairs (printed) and unclassified attributes hollow.
* :func:`heatmap_figure` — segment × dimension gaps with ▲/▼ where a segment differs from the company
  (adjusted p), "n<…" where suppressed.

Interactive (Bokeh, for Panel): :func:`gap_bokeh`, :func:`profile_bokeh`, :func:`zot_bokeh`, :func:`ipa_bokeh`,
:func:`heatmap_bokeh`. Each pair draws one description (``*_spec``, a :class:`sqc.plotting.spec.Chart`).

``labels`` dicts let the dashboard pass translated texts; ``names`` maps dimension ids to display names.
"""
from __future__ import annotations

import numpy as np

from .generic import label
from .spec import Chart, to_bokeh, to_matplotlib

SHORTFALL = "#d6604d"
SURPLUS = "#4393c3"
EXPECT = "#7f7f7f"
PERCEIVE = "#2166ac"
QUAD_COLOURS = {"concentrate here": "#d73027", "keep up the good work": "#1a9850", "low priority": "#fdae61",
                "possible overkill": "#74add1", "unclassified": "#999999"}


def _name(names, key):
    return (names or {}).get(key, str(key))


def gap_spec(result, lang: str = "en", *, level: str = "dimension", title: str | None = None,
             labels: dict | None = None, names: dict | None = None) -> Chart:
    """Light horizontal bars of the gaps (P − E; negative = shortfall red, positive blue), the estimate as a dot
    and its whole CI as a whisker drawn over the bar; each row's label carries the estimate, interval and n. The
    axis spans every interval end (:func:`sqc.plotting.spec.axis_range`)."""
    lab = {"x": label("gap", lang), "n": "n", **(labels or {})}
    tab = result.dimension_gaps if level == "dimension" else result.item_gaps
    tab = tab.iloc[::-1]
    y = np.arange(len(tab))
    names_ = [_name(names, i) if level == "dimension" else f"{i} {_name(names, d)}"
              for i, d in zip(tab.index, tab["dimension"] if "dimension" in tab else tab.index)]
    ticks = [f"{nm}  {r['mean']:+.2f} [{r['ci_low']:+.2f}, {r['ci_high']:+.2f}] {lab['n']}={int(r['n'])}"
             for nm, (_, r) in zip(names_, tab.iterrows())]
    chart = Chart(title or result.chart_title(lang), x_label=lab["x"], y_categories=ticks, lang=lang,
                  y_label=label("dimension" if level == "dimension" else "item", lang),
                  size=(8.0, 0.34 * len(tab) + 1.3))
    mean = tab["mean"].to_numpy(dtype=float)
    colours = [SHORTFALL if m < 0 else SURPLUS for m in mean]
    chart.bars(y, mean, colour=colours, horizontal=True, width=0.6, alpha=0.35)
    chart.rule(0, axis="x", colour="black", dash="solid")
    chart.whiskers(y, tab["ci_low"].to_numpy(dtype=float), tab["ci_high"].to_numpy(dtype=float), horizontal=True)
    chart.points(mean, y, colour=colours, size=5.0, tips={"": names_, lab["n"]: tab["n"].to_numpy()})
    return chart


def gap_figure(result, *, level: str = "dimension", title: str | None = None, labels: dict | None = None,
               names: dict | None = None, figsize=(6.4, None), lang: str = "en"):
    """Matplotlib drawing of :func:`gap_spec`."""
    spec = gap_spec(result, lang, level=level, title=title or "SERVQUAL gaps", labels=labels, names=names)
    return to_matplotlib(spec, figsize=(figsize[0], figsize[1] or spec.size[1]))


PROFILE_OFFSET = 0.15  # expectation left, perception right of each item, so their intervals do not overlap


def profile_spec(result, lang: str = "en", *, title: str | None = None, labels: dict | None = None,
                 names: dict | None = None) -> Chart:
    """Expectation and perception means per item (paired respondents) with their t CIs; every other dimension
    shaded and each named above its items."""
    lab = {"E": label("expectation", lang), "P": label("perception", lang), "x": label("item", lang),
           "y": label("mean", lang), **(labels or {})}
    t = result.item_gaps
    x = np.arange(len(t), dtype=float)
    chart = Chart(title or result.chart_title(lang), x_label=lab["x"], y_label=lab["y"], legend=True,
                  x_categories=[str(i) for i in t.index], size=(8.0, 3.6), lang=lang)
    low = float(np.nanmin(t[["E_low", "P_low"]].to_numpy()))
    high = float(np.nanmax(t[["E_high", "P_high"]].to_numpy()))
    top = high + 0.12 * (high - low)  # room for the dimension names above the intervals
    for j, (d, grp) in enumerate(t.groupby("dimension", sort=False)):
        pos = [t.index.get_loc(i) for i in grp.index]
        if j % 2 == 0:
            chart.band([min(pos) - 0.5, max(pos) + 0.5], [low] * 2, [top] * 2, colour="#f0f0f0", alpha=1.0)
        chart.text([float(np.mean(pos))], [high + 0.04 * (high - low)], [_name(names, d)])
    for comp, colour, shift in (("E", EXPECT, -PROFILE_OFFSET), ("P", PERCEIVE, PROFILE_OFFSET)):
        mean = t[f"{comp}_mean"].to_numpy(dtype=float)
        chart.line(x + shift, mean, colour=colour, width=1.2)
        chart.whiskers(x + shift, t[f"{comp}_low"].to_numpy(dtype=float), t[f"{comp}_high"].to_numpy(dtype=float),
                       colour=colour)
        chart.points(x + shift, mean, colour=colour, size=4.5, label=lab[comp],
                     tips={"": [str(i) for i in t.index], "n": t["n"].to_numpy()})
    return chart


def profile_figure(result, *, title: str | None = None, labels: dict | None = None, names: dict | None = None,
                   figsize=(8.0, 3.6), lang: str = "en"):
    """Matplotlib drawing of :func:`profile_spec`."""
    return to_matplotlib(profile_spec(result, lang, title=title or "Expectations and perceptions", labels=labels,
                                      names=names), figsize=figsize)


def zot_spec(zot, lang: str = "en", *, level: str = "item", title: str | None = None, labels: dict | None = None,
             names: dict | None = None) -> Chart:
    """The classic zone-of-tolerance chart: per attribute a bar from mean adequate to mean desired service and
    the mean perception as a marker (red when below the zone, blue above)."""
    lab = {"zone": label("zone", lang), "P": label("perception", lang), "y": label("mean", lang), **(labels or {})}
    t = zot.items if level == "item" else zot.dimensions
    x = np.arange(len(t))
    chart = Chart(title or f"{zot.chart_title(lang)} (n = {int(t['n'].max())})", y_label=lab["y"], legend=True,
                  x_label=label("item" if level == "item" else "dimension", lang),
                  x_categories=[_name(names, i) if level != "item" else str(i) for i in t.index], size=(9.0, 3.6),
                  lang=lang)
    chart.bars(x, (t["D_mean"] - t["A_mean"]).to_numpy(dtype=float), base=t["A_mean"].to_numpy(dtype=float),
               colour="#c7e9c0", width=0.6, label=lab["zone"])
    col = np.where(t["P_mean"] < t["A_mean"], SHORTFALL, np.where(t["P_mean"] > t["D_mean"], SURPLUS, "#000000"))
    chart.points(x, t["P_mean"].to_numpy(dtype=float), colour=list(col), size=5.5, label=lab["P"],
                 tips={"n": t["n"].to_numpy()})
    return chart


def zot_figure(zot, *, level: str = "item", title: str | None = None, labels: dict | None = None,
               names: dict | None = None, figsize=(8.0, 3.6), lang: str = "en"):
    """Matplotlib drawing of :func:`zot_spec`."""
    return to_matplotlib(zot_spec(zot, lang, level=level, title=title, labels=labels, names=names), figsize=figsize)


def ipa_spec(ipa_result, lang: str = "en", *, title: str | None = None, labels: dict | None = None,
             names: dict | None = None, quadrant_names: dict | None = None) -> Chart:
    """IPA grid: importance (y) vs performance (x) with CI cross-bars and the dashed cross-hairs; unclassified
    attributes (CI straddling a cross-hair) are drawn hollow."""
    r = ipa_result
    t = r.table
    lab = {"x": f"{label('performance', lang)} ({label('ipa_' + r.performance_kind, lang)})",
           "y": f"{label('importance', lang)} ({label('ipa_' + r.importance_kind, lang)})", **(labels or {})}
    from ..servqual.ipa import QUADRANTS_ZH

    qn = {**{q: (QUADRANTS_ZH[q] if lang == "zh" else q) for q in QUAD_COLOURS}, **(quadrant_names or {})}
    chart = Chart(title or r.chart_title(lang), x_label=lab["x"], y_label=lab["y"], legend=True, size=(7.5, 5.0),
                  lang=lang)
    perf, imp = t["performance"].to_numpy(dtype=float), t["importance"].to_numpy(dtype=float)
    chart.whiskers(perf, t["imp_low"].to_numpy(dtype=float), t["imp_high"].to_numpy(dtype=float), colour="grey")
    chart.whiskers(imp, t["perf_low"].to_numpy(dtype=float), t["perf_high"].to_numpy(dtype=float), horizontal=True,
                   colour="grey")
    for q, grp in t.groupby("quadrant"):
        chart.points(grp["performance"].to_numpy(dtype=float), grp["importance"].to_numpy(dtype=float),
                     colour=QUAD_COLOURS[q], size=6.5, hollow=q == "unclassified", label=qn[q],
                     tips={"": [_name(names, a) for a in grp.index], "n": grp["n"].to_numpy()})
    chart.text(perf, imp, [_name(names, a) for a in t.index], align="left")
    chart.rule(r.crosshair["performance"], axis="x", colour="black")
    chart.rule(r.crosshair["importance"], colour="black")
    return chart


def ipa_figure(ipa_result, *, title: str | None = None, labels: dict | None = None, names: dict | None = None,
               quadrant_names: dict | None = None, figsize=(6.0, 4.6), lang: str = "en"):
    """Matplotlib drawing of :func:`ipa_spec`."""
    return to_matplotlib(ipa_spec(ipa_result, lang, title=title, labels=labels, names=names,
                                  quadrant_names=quadrant_names), figsize=figsize)


def heatmap_spec(heat, lang: str = "en", *, title: str | None = None, names: dict | None = None,
                 min_n: int = 30, colour_label: str | None = None, segment_label: str | None = None) -> Chart:
    """Segment × dimension gap heat map from :func:`sqc.servqual.segment_heatmap`: ▲/▼ mark segments above/below
    the company mean (adjusted p); suppressed cells (n < min_n) are faded and show their n. The colour bar says
    what the colour means (``colour_label``); ``segment_label`` names the rows (e.g. "branch")."""
    dims = list(dict.fromkeys(heat["dimension"]))
    segs = sorted(heat["segment"].astype(str).unique())[::-1]
    finite = heat["mean"].dropna()
    lim = float(max(abs(finite.min()), abs(finite.max()), 0.1)) if len(finite) else 1.0
    text = [f"n={int(n)}" if sup else f"{m:+.2f}{ {'above': '▲', 'below': '▼'}.get(mk, '')}"
            for m, n, sup, mk in zip(heat["mean"], heat["n"], heat["suppressed"], heat["marker"])]
    chart = Chart(title or f"Gaps by segment (▲/▼ vs company, Holm; faded = n < {min_n})",
                  x_categories=[_name(names, d) for d in dims], y_categories=segs, lang=lang,
                  x_label=label("dimension", lang), y_label=segment_label or label("segment", lang),
                  size=(7.0, 0.3 * len(segs) + 1.6))
    chart.cells([dims.index(d) for d in heat["dimension"]], [segs.index(str(g)) for g in heat["segment"]],
                heat["mean"].to_numpy(dtype=float), text, low=-lim, high=lim,
                alpha=np.where(heat["suppressed"], 0.15, 0.9), colour_label=colour_label or label("gap_colour", lang))
    return chart


def heatmap_figure(heat, *, title: str | None = None, labels: dict | None = None, names: dict | None = None,
                   min_n: int = 30, figsize=(7.0, None), lang: str = "en"):
    """Matplotlib drawing of :func:`heatmap_spec`."""
    spec = heatmap_spec(heat, lang, title=title, names=names, min_n=min_n)
    return to_matplotlib(spec, figsize=(figsize[0], figsize[1] or spec.size[1]))


# ------------------------------------------------------------------------------------------ Bokeh
def gap_bokeh(result, *, title: str | None = None, names: dict | None = None, labels: dict | None = None,
              lang: str = "en"):
    """Bokeh drawing of :func:`gap_spec`."""
    return to_bokeh(gap_spec(result, lang, title=title or "SERVQUAL gaps", labels=labels, names=names))


def profile_bokeh(result, *, title: str | None = None, names: dict | None = None, labels: dict | None = None,
                  lang: str = "en"):
    """Bokeh drawing of :func:`profile_spec` (hover: item and n)."""
    return to_bokeh(profile_spec(result, lang, title=title, labels=labels, names=names))


def zot_bokeh(zot, *, level: str = "item", title: str | None = None, names: dict | None = None,
              labels: dict | None = None, lang: str = "en"):
    """Bokeh drawing of :func:`zot_spec` (hover: n)."""
    return to_bokeh(zot_spec(zot, lang, level=level, title=title, labels=labels, names=names))


def ipa_bokeh(ipa_result, *, title: str | None = None, names: dict | None = None, labels: dict | None = None,
              lang: str = "en"):
    """Bokeh drawing of :func:`ipa_spec` (hover: attribute and n)."""
    return to_bokeh(ipa_spec(ipa_result, lang, title=title, labels=labels, names=names))


def heatmap_bokeh(heat, *, title: str | None = None, names: dict | None = None, min_n: int = 30, lang: str = "en",
                  segment_label: str | None = None):
    """Bokeh drawing of :func:`heatmap_spec`."""
    return to_bokeh(heatmap_spec(heat, lang, title=title, names=names, min_n=min_n, segment_label=segment_label),
                    width=680)
