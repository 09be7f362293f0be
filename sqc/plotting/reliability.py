"""Plots for :mod:`sqc.reliability` results (compute once, plot from the result object).

Static (matplotlib Figure): :func:`item_total_bars`, :func:`alpha_if_deleted`, :func:`loadings_heatmap`,
:func:`scree`, :func:`alpha_by_scale`. Interactive (Bokeh): :func:`item_total_bokeh`, :func:`scree_bokeh`.
"""
from __future__ import annotations

import numpy as np

WEAK_COLOR = "#c0392b"
OK_COLOR = "#2e86c1"


def _fig(width=6.0, height=4.0):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def item_total_bars(result, threshold: float = 0.30, title: str | None = None, label: str = "Corrected item-total r"):
    """Horizontal bars of the corrected item–total correlation (``r_drop``) of an AlphaResult; weak items in red."""
    s = result.item_stats
    fig = _fig(6, 0.35 * len(s) + 1.2)
    ax = fig.add_subplot()
    colors = [WEAK_COLOR if v < threshold else OK_COLOR for v in s["r_drop"]]
    ax.barh(s.index[::-1], s["r_drop"][::-1], color=colors[::-1])
    ax.axvline(threshold, color="grey", ls="--", lw=1)
    ax.set_xlabel(label)
    ax.set_xlim(min(0, s["r_drop"].min() - 0.05), 1)
    ax.set_title(title or f"alpha = {result.alpha:.2f} [{result.ci[0]:.2f}, {result.ci[1]:.2f}], n = {result.n}")
    return fig


def alpha_if_deleted(result, title: str | None = None):
    """Alpha if each item is deleted, against the scale's alpha and its CI band."""
    s = result.item_stats
    fig = _fig(6, 0.35 * len(s) + 1.2)
    ax = fig.add_subplot()
    ax.axvspan(result.ci[0], result.ci[1], color="#d5dbdb", label=f"alpha {int(result.ci_level * 100)}% CI")
    ax.axvline(result.alpha, color="black", lw=1, label=f"alpha = {result.alpha:.3f}")
    colors = [WEAK_COLOR if v > result.ci[1] else OK_COLOR for v in s["alpha_if_deleted"]]
    ax.scatter(s["alpha_if_deleted"][::-1], s.index[::-1], color=colors[::-1], zorder=3)
    ax.set_xlabel("alpha if item deleted")
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title(title or f"Alpha if item deleted (n = {result.n})")
    return fig


def loadings_heatmap(result, title: str | None = None):
    """Heat map of loadings: an EFAResult (pattern loadings) or a CFAResult (standardized loadings)."""
    if hasattr(result, "loadings"):
        mat = result.loadings
        name = f"EFA {result.method}, {result.rotation} (n = {result.n})"
    else:
        sl = result.standardized_loadings
        mat = sl.pivot_table(index=sl.index, columns="factor", values="loading").reindex(sl.index)
        mat = mat[list(result.model)].fillna(0.0)
        name = f"CFA standardized loadings (n = {result.n})"
    fig = _fig(1.0 * mat.shape[1] + 2.5, 0.3 * mat.shape[0] + 1.5)
    ax = fig.add_subplot()
    im = ax.imshow(mat.to_numpy(), cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
    ax.set_xticks(range(mat.shape[1]), mat.columns, rotation=45, ha="right")
    ax.set_yticks(range(mat.shape[0]), mat.index)
    for (i, j), v in np.ndenumerate(mat.to_numpy()):
        if abs(v) >= 0.3:
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7)
    fig.colorbar(im, ax=ax, shrink=0.8)
    ax.set_title(title or name)
    return fig


def scree(parallel, title: str | None = None):
    """Scree plot of observed eigenvalues with the parallel-analysis reference (a ParallelResult)."""
    e = parallel.eigen
    fig = _fig()
    ax = fig.add_subplot()
    ax.plot(e.index, e["observed_pc"], "o-", color=OK_COLOR, label="components (observed)")
    ax.plot(e.index, e["simulated_pc"], "--", color=OK_COLOR, alpha=0.6,
            label=f"components (simulated {parallel.quantile:.0%})")
    ax.plot(e.index, e["observed_fa"], "s-", color=WEAK_COLOR, label="factors (observed)")
    ax.plot(e.index, e["simulated_fa"], "--", color=WEAK_COLOR, alpha=0.6, label="factors (simulated)")
    ax.axhline(1, color="grey", lw=0.8)
    ax.set_xlabel("number")
    ax.set_ylabel("eigenvalue")
    ax.legend(fontsize=8)
    ax.set_title(title or f"Parallel analysis: {parallel.n_factors} factors, {parallel.n_components} components "
                          f"(n = {parallel.n})")
    return fig


def alpha_by_scale(results: dict, title: str = "Cronbach's alpha by dimension", threshold: float = 0.70,
                   labels: dict | None = None):
    """Alpha with its CI for several scales ({name: AlphaResult}); the 0.70 line marks 'acceptable'."""
    names = list(results)
    fig = _fig(6, 0.45 * len(names) + 1.3)
    ax = fig.add_subplot()
    y = np.arange(len(names))[::-1]
    for yy, nm in zip(y, names):
        r = results[nm]
        col = WEAK_COLOR if r.alpha < threshold else OK_COLOR
        ax.errorbar(r.alpha, yy, xerr=[[r.alpha - r.ci[0]], [r.ci[1] - r.alpha]], fmt="o", color=col, capsize=3)
        ax.text(r.ci[1] + 0.01, yy, f"{r.alpha:.2f} (n={r.n})", va="center", fontsize=8)
    ax.axvline(threshold, color="grey", ls="--", lw=1)
    ax.set_yticks(y, [labels.get(n, n) if labels else n for n in names])
    lo = min(min(r.ci[0] for r in results.values()) - 0.05, threshold - 0.05)
    ax.set_xlim(max(lo, -1), 1.05)
    ax.set_xlabel("alpha (95% CI)")
    ax.set_title(title)
    return fig


def item_total_bokeh(result, threshold: float = 0.30, title: str | None = None):
    """Interactive item–total bars (Bokeh) with n, r_drop and alpha-if-deleted in the hover."""
    from bokeh.models import ColumnDataSource, HoverTool, Span
    from bokeh.plotting import figure

    s = result.item_stats.reset_index()
    s["color"] = [WEAK_COLOR if v < threshold else OK_COLOR for v in s["r_drop"]]
    src = ColumnDataSource({c: s[c].to_numpy() for c in ["item", "r_drop", "alpha_if_deleted", "n", "color"]})
    p = figure(y_range=list(s["item"][::-1]), height=30 * len(s) + 80, width=520,
               title=title or f"alpha {result.alpha:.2f} [{result.ci[0]:.2f}, {result.ci[1]:.2f}], n = {result.n}",
               x_axis_label="corrected item-total r", toolbar_location=None)
    p.hbar(y="item", right="r_drop", height=0.7, color="color", source=src)
    p.add_layout(Span(location=threshold, dimension="height", line_dash="dashed", line_color="grey"))
    p.add_tools(HoverTool(tooltips=[("item", "@item"), ("r.drop", "@r_drop{0.000}"),
                                    ("alpha if deleted", "@alpha_if_deleted{0.000}"), ("n", "@n")]))
    return p


def scree_bokeh(parallel, title: str | None = None):
    """Interactive scree plot with the parallel-analysis reference lines (Bokeh)."""
    from bokeh.models import ColumnDataSource
    from bokeh.plotting import figure

    e = parallel.eigen.reset_index()
    src = ColumnDataSource({c: e[c].to_numpy() for c in e.columns})
    p = figure(height=320, width=520, toolbar_location=None, x_axis_label="number", y_axis_label="eigenvalue",
               title=title or f"Parallel analysis: {parallel.n_factors} factors (n = {parallel.n})")
    p.line("number", "observed_pc", source=src, color=OK_COLOR, legend_label="components")
    p.scatter("number", "observed_pc", source=src, color=OK_COLOR)
    p.line("number", "simulated_pc", source=src, color=OK_COLOR, line_dash="dashed", legend_label="simulated")
    p.line("number", "observed_fa", source=src, color=WEAK_COLOR, legend_label="factors")
    p.line("number", "simulated_fa", source=src, color=WEAK_COLOR, line_dash="dashed")
    return p
