"""Plots for :mod:`sqc.reliability` results (compute once, plot from the result object).

Static (matplotlib Figure): :func:`item_total_bars`, :func:`alpha_if_deleted`, :func:`loadings_heatmap`,
:func:`scree`, :func:`alpha_by_scale`. Interactive (Bokeh): :func:`item_total_bokeh`, :func:`scree_bokeh`,
:func:`alpha_by_scale_bokeh`, :func:`loadings_bokeh`. A chart drawn by both back-ends is described once
(``*_spec`` → :class:`sqc.plotting.spec.Chart`); heat maps carry a colour bar.
"""
from __future__ import annotations

import numpy as np

from .generic import label
from .spec import Chart, to_bokeh, to_matplotlib

WEAK_COLOR = "#c0392b"
OK_COLOR = "#2e86c1"


def _fig(width=6.0, height=4.0):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def item_total_spec(result, lang: str = "en", *, threshold: float = 0.30, title: str | None = None,
                    label_text: str | None = None) -> Chart:
    """Horizontal bars of the corrected item–total correlation (``r_drop``) of an AlphaResult; weak items (below
    ``threshold``, dashed) in red; the title carries alpha with its interval and n."""
    s = result.item_stats.iloc[::-1]
    y = np.arange(len(s))
    head = f"alpha = {result.alpha:.2f} [{result.ci[0]:.2f}, {result.ci[1]:.2f}], n = {result.n}"
    chart = Chart(title or f"{result.chart_title(lang)} ({head})",
                  x_label=label_text or label("item_total", lang), y_categories=[str(i) for i in s.index],
                  y_label=label("item", lang),
                  size=(6, 0.35 * len(s) + 1.2), lang=lang)
    r = s["r_drop"].to_numpy(dtype=float)
    chart.bars(y, r, colour=[WEAK_COLOR if v < threshold else OK_COLOR for v in r], horizontal=True, alpha=1.0)
    chart.points(r, y, colour=[WEAK_COLOR if v < threshold else OK_COLOR for v in r], size=0.1,
                 tips={"": [str(i) for i in s.index], label("item_total", lang): np.round(r, 3),
                       label("alpha_if_deleted", lang): s["alpha_if_deleted"].round(3).to_numpy(),
                       "n": s["n"].to_numpy()})
    chart.rule(threshold, axis="x", colour="grey")
    return chart


def item_total_bars(result, threshold: float = 0.30, title: str | None = None, label: str | None = None,
                    lang: str = "en"):
    """Matplotlib drawing of :func:`item_total_spec`."""
    return to_matplotlib(item_total_spec(result, lang, threshold=threshold, title=title, label_text=label))


def alpha_if_deleted(result, title: str | None = None):
    """Alpha if each item is deleted, against the scale's alpha and its CI band."""
    s = result.item_stats
    fig = _fig(6, 0.35 * len(s) + 1.2)
    ax = fig.add_subplot()
    ax.axvspan(result.ci[0], result.ci[1], color="#d5dbdb", label=f"alpha {int(result.ci_level * 100)}% CI")
    ax.axvline(result.alpha, color="black", lw=1, label=f"alpha = {result.alpha:.3f}")
    colors = [WEAK_COLOR if v > result.ci[1] else OK_COLOR for v in s["alpha_if_deleted"]]
    ax.scatter(s["alpha_if_deleted"][::-1], s.index[::-1], color=colors[::-1], zorder=3)
    ax.set_xlabel(label("alpha_if_deleted"))
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title(title or f"Alpha if item deleted (n = {result.n})")
    return fig


def loadings_heatmap(result, title: str | None = None, lang: str = "en"):
    """Matplotlib drawing of :func:`loadings_spec`."""
    return to_matplotlib(loadings_spec(result, lang, title=title))


def scree_spec(parallel, lang: str = "en", *, title: str | None = None) -> Chart:
    """Scree plot of observed eigenvalues (components and factors) with the parallel-analysis references."""
    e = parallel.eigen
    x = np.asarray(e.index, dtype=float)
    chart = Chart(title or f"{parallel.chart_title(lang)}: {parallel.n_factors} / {parallel.n_components} "
                           f"(n = {parallel.n})", x_label="#", y_label=label("eigenvalue", lang), legend=True,
                  lang=lang)
    for col, colour, dash, name in (("observed_pc", OK_COLOR, "solid", "PC"),
                                    ("simulated_pc", OK_COLOR, "dashed", f"PC {parallel.quantile:.0%}"),
                                    ("observed_fa", WEAK_COLOR, "solid", "FA"),
                                    ("simulated_fa", WEAK_COLOR, "dashed", f"FA {parallel.quantile:.0%}")):
        chart.line(x, e[col].to_numpy(dtype=float), colour=colour, dash=dash, label=name,
                   marker="o" if dash == "solid" else None)
    chart.rule(1, colour="grey", dash="solid")
    return chart


def scree(parallel, title: str | None = None, lang: str = "en"):
    """Matplotlib drawing of :func:`scree_spec`."""
    return to_matplotlib(scree_spec(parallel, lang, title=title))


def loadings_spec(result, lang: str = "en", *, title: str | None = None) -> Chart:
    """Heat map of loadings (blue positive, red negative, printed where the absolute loading ≥ 0.3): an EFAResult's pattern
    loadings, an OmegaResult's Schmid–Leiman loadings or a CFAResult's standardized loadings."""
    if hasattr(result, "standardized_loadings"):
        sl = result.standardized_loadings
        mat = sl.pivot_table(index=sl.index, columns="factor", values="loading").reindex(sl.index)
        mat = mat[list(result.model)].fillna(0.0)
    else:
        mat = result.loadings if hasattr(result, "loadings") else result.schmid_leiman
        mat = mat.select_dtypes("number").drop(columns=["h2", "u2", "p2", "com"], errors="ignore")
    rows, cols = mat.shape
    chart = Chart(title or f"{result.chart_title(lang)} (n = {result.n})", x_categories=[str(c) for c in mat.columns],
                  y_categories=[str(i) for i in mat.index][::-1], size=(1.0 * cols + 3.0, 0.3 * rows + 1.9),
                  x_label=label("factor", lang), y_label=label("item", lang),
                  lang=lang)
    ii, jj = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    v = mat.to_numpy(float).ravel()
    chart.cells(jj.ravel(), (rows - 1 - ii).ravel(), v, [f"{x:.2f}" if abs(x) >= 0.3 else "" for x in v], low=-1.0,
                high=1.0, colour_label=label("loading_colour", lang))
    return chart


def alpha_by_scale_spec(results: dict, lang: str = "en", *, title: str = "Cronbach's alpha by dimension",
                        threshold: float = 0.70, labels: dict | None = None) -> Chart:
    """Alpha with its CI for several scales ({name: AlphaResult}), first scale at the top; each row's label
    carries alpha, its interval and n; scales below ``threshold`` (the dashed "acceptable" line) in red."""
    names = list(results)[::-1]
    rows = [results[nm] for nm in names]
    ticks = [f"{(labels or {}).get(nm, nm)}  {r.alpha:.2f} [{r.ci[0]:.2f}, {r.ci[1]:.2f}] n={r.n}"
             for nm, r in zip(names, rows)]
    chart = Chart(title, x_label=label("alpha_ci", lang), y_categories=ticks, size=(7.0, 0.45 * len(names) + 1.3),
                  y_label=label("dimension", lang), lang=lang)
    y = np.arange(len(names))
    colours = [WEAK_COLOR if r.alpha < threshold else OK_COLOR for r in rows]
    chart.whiskers(y, [r.ci[0] for r in rows], [r.ci[1] for r in rows], horizontal=True, colour="#555555")
    chart.points([r.alpha for r in rows], y, colour=colours, size=5.5,
                 tips={"": [str((labels or {}).get(nm, nm)) for nm in names], "n": [r.n for r in rows]})
    chart.rule(threshold, axis="x", colour="grey")
    return chart


def alpha_by_scale(results: dict, title: str = "Cronbach's alpha by dimension", threshold: float = 0.70,
                   labels: dict | None = None, lang: str = "en"):
    """Matplotlib drawing of :func:`alpha_by_scale_spec`."""
    return to_matplotlib(alpha_by_scale_spec(results, lang, title=title, threshold=threshold, labels=labels))


def alpha_by_scale_bokeh(results: dict, title: str = "Cronbach's alpha by dimension", threshold: float = 0.70,
                        labels: dict | None = None, lang: str = "en"):
    """Bokeh drawing of :func:`alpha_by_scale_spec` (hover: n)."""
    return to_bokeh(alpha_by_scale_spec(results, lang, title=title, threshold=threshold, labels=labels))


def loadings_bokeh(result, title: str | None = None, lang: str = "en"):
    """Bokeh drawing of :func:`loadings_spec`."""
    return to_bokeh(loadings_spec(result, lang, title=title))


def item_total_bokeh(result, threshold: float = 0.30, title: str | None = None, lang: str = "en"):
    """Bokeh drawing of :func:`item_total_spec` (hover: r.drop, alpha if deleted, n)."""
    return to_bokeh(item_total_spec(result, lang, threshold=threshold, title=title), width=520)


def scree_bokeh(parallel, title: str | None = None, lang: str = "en"):
    """Bokeh drawing of :func:`scree_spec`."""
    return to_bokeh(scree_spec(parallel, lang, title=title), width=520, height=320)
