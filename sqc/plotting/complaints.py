"""Complaint charts drawn from sqc.complaints result objects; nothing is recomputed here.

Each chart is described once (``*_spec`` → :class:`sqc.plotting.spec.Chart`, drawn by matplotlib or Bokeh); the
``*_figure`` functions draw the descriptions with matplotlib for notebooks.

* :func:`pareto_spec` / :func:`pareto_figure` — Pareto bars with the cumulative share, the vital-few cut-off and
  rate CIs when present.
* :func:`time_to_resolve_spec` / :func:`time_to_resolve_figure` — Kaplan–Meier share resolved (1 − S) with
  log-log bands, medians and the SLA line, drawn on a fixed grid of days (its size does not grow with the data).
* :func:`surge_specs` / :func:`surge_figure` — the per-category u charts (rate, centre, limits, signals).
* :func:`recovery_specs` / :func:`recovery_figure` — recovery / SLA / reopen rates with Wilson intervals.
"""
from __future__ import annotations

import numpy as np

from .generic import label
from .spec import Chart, font_rc, to_matplotlib

SURGE_RED = "#c0392b"
BAR = "#4c72b0"
VITAL = "#dd8452"
KM_GRID_POINTS = 401  # days axis of the time-to-resolve figure: a step is placed within ~1.5 px of its day


def step_on_grid(curve, grid):
    """A right-continuous step function (rows sorted by ``days``; every other column a value that holds from
    that day until the next row) evaluated at ``grid``: the value of the last row with ``days <= grid``. Before
    the first row the first row's values hold (a survival curve starts at day 0). Grid points where no value
    changes are dropped (a post-step draws the same line without them); the first and last are kept."""
    days = curve["days"].to_numpy(dtype=float)
    at = np.clip(np.searchsorted(days, grid, side="right") - 1, 0, len(days) - 1)
    keep = np.r_[True, at[1:] != at[:-1]]
    keep[-1] = True
    out = curve.iloc[at[keep]].reset_index(drop=True)
    out["days"] = grid[keep]
    return out


def _names(labels: dict | None) -> dict:
    return (labels or {}).get("names", {})


def pareto_spec(pareto, lang: str = "en", *, title: str | None = None, labels: dict | None = None) -> Chart:
    """Pareto chart of a :class:`sqc.complaints.ComplaintPareto` (the Pareto chart of :mod:`sqc.plotting.spc`:
    bars in Pareto order, vital few darker, the cumulative share with its percentages and the vital-few cut-off)
    with the categories named, the basis as the y axis and, for a rate basis, each rate's exact Poisson CI.

    ``labels`` may translate ``{"count": y axis, "names": {category: label}}``."""
    from .spc import pareto_chart

    lo, hi = pareto.window
    lab = {"count": {"count": label("complaints", lang), "weighted": label("weighted_complaints", lang),
                     "rate": label("complaints_per", lang, per=f"{pareto.rate_per or 1:,}")}[pareto.basis],
           **(labels or {})}
    table = pareto.table.copy()
    table.attrs["threshold"] = pareto.vital_share
    chart = pareto_chart(table, lang, title=title or f"{pareto.chart_title(lang)} {lo}..{hi} (n = {pareto.n:,})")
    chart.size = (8.5, 3.8)
    chart.x_categories = [_names(labels).get(str(i), str(i)) for i in table.index]
    chart.x_label = label("category", lang)
    chart.legend = True  # name the cumulative line and the cut-off
    for layer in chart.layers:
        if layer.kind == "rule":
            layer.style["label"] = label("vital_few_cutoff", lang, share=f"{pareto.vital_share:.0%}")
    chart.y_label = lab["count"]
    if pareto.basis == "rate" and "rate_ci_low" in table:
        chart.whiskers(np.arange(len(table)), table["rate_ci_low"].to_numpy(dtype=float),
                       table["rate_ci_high"].to_numpy(dtype=float))
    return chart


def pareto_figure(pareto, *, title: str | None = None, labels: dict | None = None, figsize=(7.5, 3.6),
                  lang: str = "en"):
    """Matplotlib drawing of :func:`pareto_spec`."""
    return to_matplotlib(pareto_spec(pareto, lang, title=title, labels=labels), figsize=figsize)


def _default_max_days(ttr) -> float:
    p90 = ttr.table["p90"].replace([np.inf], np.nan).max()
    return float(np.nanmax([p90 * 1.6 if np.isfinite(p90) else 30.0, (ttr.sla_days or 0) * 1.5, 5.0]))


def time_to_resolve_spec(ttr, lang: str = "en", *, groups=None, title: str | None = None,
                         labels: dict | None = None, max_days: float | None = None) -> Chart:
    """Share of complaints resolved by day t (1 − KM survival) per group, with pointwise log-log bands, each
    group's median (▼ at 50 %) and the SLA line; the y axis in percent.

    Open cases are censored, so the curve is not biased short. The estimate has one step per distinct closing
    time (it grows with the data); it is drawn on a fixed grid of :data:`KM_GRID_POINTS` days instead, finer
    than the pixels of the axis, so the chart's size does not depend on the number of complaints."""
    lab = {"x": label("days_since_opened", lang), "y": label("share_resolved", lang), "sla": label("sla", lang),
           "median": label("median", lang), **(labels or {})}
    groups = list(ttr.curves) if groups is None else list(groups)
    max_days = _default_max_days(ttr) if max_days is None else max_days
    grid = np.linspace(0.0, max_days, KM_GRID_POINTS)
    chart = Chart(title or ttr.chart_title(lang), x_label=lab["x"], y_label=lab["y"], y_format="percent",
                  legend=True, size=(7.0, 3.6), lang=lang)
    palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
    for k, g in enumerate(groups):
        c = step_on_grid(ttr.curves[g], grid)
        colour = "#000000" if g == "ALL" else palette[k % len(palette)]
        name = _names(labels).get(str(g), str(g))
        days = c["days"].to_numpy(dtype=float)
        chart.band(days, 1 - c["ci_high"].fillna(c["survival"]).to_numpy(dtype=float),
                   1 - c["ci_low"].fillna(c["survival"]).to_numpy(dtype=float), colour=colour, alpha=0.15,
                   step="post")
        chart.line(days, 1 - c["survival"].to_numpy(dtype=float), colour=colour, step="post",
                   width=1.8 if g == "ALL" else 1.1, label=f"{name} (n = {int(ttr.table.loc[g, 'n']):,})")
        med = ttr.table.loc[g, "median"]
        if np.isfinite(med) and med <= max_days:
            chart.points([float(med)], [0.5], colour=colour, size=5,
                         tips={"": [name], lab["median"]: [f"{med:.1f}"]})
    chart.rule(0.5, colour="grey", dash="dotted")
    chart.rule(0.9, colour="grey", dash="dotted")
    if ttr.sla_days:
        chart.rule(float(ttr.sla_days), axis="x", colour=SURGE_RED, dash="dashed",
                   label=f"{lab['sla']} {label('n_days', lang, x=f'{ttr.sla_days:g}')}")
    return chart


def time_to_resolve_figure(ttr, *, groups=None, title: str | None = None, labels: dict | None = None,
                           max_days: float | None = None, figsize=(7.0, 3.6), lang: str = "en"):
    """Matplotlib drawing of :func:`time_to_resolve_spec`."""
    return to_matplotlib(time_to_resolve_spec(ttr, lang, groups=groups, title=title, labels=labels,
                                              max_days=max_days), figsize=figsize)


def surge_specs(surges, lang: str = "en", *, categories=None, labels: dict | None = None) -> dict:
    """One u chart per category of a :class:`sqc.complaints.SurgeResult` (the control chart of
    :mod:`sqc.plotting.spc`, titled with the category; surging categories first and marked ⚠): ``{category:
    Chart}``. The y axis says the rate's unit; every chart has the same y interval (the categories' rates are in
    one unit, so a glance compares their levels and a surge stands out against the others), surging charts are
    framed in red."""
    from .spc import control_spec, shared_y_range

    lab = {"rate": label("per_customers", lang, per=f"{surges.rate_per:,}"), **(labels or {})}
    cats = list(surges.table.index) if categories is None else list(categories)
    y_range = shared_y_range([surges.charts[cat] for cat in cats])
    out = {}
    for cat in cats:
        surge = bool(surges.table.loc[cat, "surge"])
        name = _names(labels).get(str(cat), str(cat))
        out[cat] = control_spec(surges.charts[cat], lang, title=f"⚠ {name}" if surge else name, annotate=0,
                                ylabel=lab["rate"], markersize=2.5, y_range=y_range)
        out[cat].size = (4.2, 2.6)
        out[cat].x_label = label("month", lang)
        out[cat].frame = SURGE_RED if surge else None
    return out


def surge_figure(surges, *, categories=None, title: str | None = None, labels: dict | None = None, ncols: int = 4,
                 lang: str = "en"):
    """Small multiples of :func:`surge_specs` with matplotlib (one y scale, surging categories framed in red)."""
    from matplotlib.figure import Figure

    specs = surge_specs(surges, lang, categories=categories, labels=labels)
    ncols = min(ncols, len(specs))
    nrows = int(np.ceil(len(specs) / ncols))
    fig = Figure(figsize=(3.0 * ncols, 2.3 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax in axes.ravel()[len(specs):]:
        ax.set_visible(False)
    for ax, spec in zip(axes.ravel(), specs.values()):
        to_matplotlib(spec, ax=ax)  # a surging category's frame is red (the spec's frame)
    fig.suptitle(title or label("complaints_per", lang, per=f"{surges.rate_per:,}"), fontsize=9,
                 fontfamily=font_rc(lang).get("font.family"))
    return fig


def recovery_specs(recovery, lang: str = "en", *, labels: dict | None = None) -> dict:
    """Dot-and-interval charts of recovery, SLA and reopen rates per group (Wilson CIs), one per metric,
    ``{metric: Chart}``; the x axis in percent, every interval inside the plot."""
    lab = {"metrics": {m: label(f"metric_{m}", lang) for m in ("recovery_rate", "sla_compliance", "reopen_rate")},
           "x": label("rate_ci", lang), **(labels or {})}
    t = recovery.table
    groups = list(dict.fromkeys(t["group"]))[::-1]
    y = np.arange(len(groups))
    names = [_names(labels).get(str(g), str(g)) for g in groups]
    out = {}
    for m in dict.fromkeys(t["metric"]):
        sub = t.loc[t["metric"] == m].set_index("group").reindex(groups)
        chart = Chart(lab["metrics"].get(m, m), x_label=lab["x"], x_format="percent", y_categories=names,
                      y_label=label("branch", lang),
                      size=(3.4, 0.26 * len(groups) + 1.2), lang=lang)
        chart.whiskers(y, sub["ci_low"].to_numpy(dtype=float), sub["ci_high"].to_numpy(dtype=float),
                       horizontal=True, colour="grey")
        chart.points(sub["value"].to_numpy(dtype=float), y, colour=BAR, size=4,
                     tips={"": names, "n": sub["n"].to_numpy()})
        out[m] = chart
    return out


def recovery_figure(recovery, *, title: str | None = None, labels: dict | None = None, figsize=(9.0, 4.0),
                    lang: str = "en"):
    """Matplotlib drawing of :func:`recovery_specs` side by side."""
    from matplotlib.figure import Figure

    specs = recovery_specs(recovery, lang, labels=labels)
    fig = Figure(figsize=figsize, layout="constrained")
    axes = fig.subplots(1, len(specs), sharey=True, squeeze=False)[0]
    for ax, spec in zip(axes, specs.values()):
        to_matplotlib(spec, ax=ax)
    if title:
        fig.suptitle(title, fontsize=9, fontfamily=font_rc(lang).get("font.family"))
    return fig


__all__ = ["pareto_spec", "pareto_figure", "time_to_resolve_spec", "time_to_resolve_figure", "surge_specs",
           "surge_figure", "recovery_specs", "recovery_figure", "step_on_grid"]
