"""SERVQUAL plots drawn from sqc.servqual result objects; nothing is recomputed here.

Static (matplotlib, return a Figure):

* :func:`gap_figure` — dimension (or item) gaps P − E with their CIs, n printed.
* :func:`profile_figure` — expectation vs perception item means with CIs.
* :func:`zot_figure` — zone of tolerance per item or dimension: bar from adequate to desired, perception marker.
* :func:`ipa_figure` — IPA grid with CI cross-bars, the cross-hairs (printed) and unclassified attributes hollow.
* :func:`heatmap_figure` — segment × dimension gaps with ▲/▼ where a segment differs from the company
  (adjusted p), "n<…" where suppressed.

Interactive (Bokeh, for Panel): :func:`gap_bokeh`, :func:`ipa_bokeh`, :func:`heatmap_bokeh`.

``labels`` dicts let the dashboard pass translated texts; ``names`` maps dimension ids to display names.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

SHORTFALL = "#d6604d"
SURPLUS = "#4393c3"
EXPECT = "#7f7f7f"
PERCEIVE = "#2166ac"
QUAD_COLOURS = {"concentrate here": "#d73027", "keep up the good work": "#1a9850", "low priority": "#fdae61",
                "possible overkill": "#74add1", "unclassified": "#999999"}


def _cjk():
    """Use a CJK-capable font when one is installed so Chinese labels render (falls back silently)."""
    import matplotlib
    from matplotlib import font_manager

    for name in ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "Droid Sans Fallback",
                 "SimHei", "Microsoft YaHei"):
        if any(f.name == name for f in font_manager.fontManager.ttflist):
            fam = matplotlib.rcParams["font.family"]
            fam = [fam] if isinstance(fam, str) else list(fam)
            if name not in fam:  # a family list gives per-glyph fallback (matplotlib ≥ 3.6)
                first = matplotlib.rcParams["font.sans-serif"][0] if fam == ["sans-serif"] else fam[0]
                matplotlib.rcParams["font.family"] = [first, name]
            return


def _name(names, key):
    return (names or {}).get(key, str(key))


def gap_figure(result, *, level: str = "dimension", title: str | None = None, labels: dict | None = None,
               names: dict | None = None, figsize=(6.4, None)):
    """Horizontal bars of the gaps (P − E) with their CIs; negative (shortfall) red, positive blue."""
    import matplotlib.pyplot as plt

    _cjk()
    lab = {"x": "gap P − E (negative = shortfall)", "n": "n", **(labels or {})}
    tab = result.dimension_gaps if level == "dimension" else result.item_gaps
    tab = tab.iloc[::-1]
    y = np.arange(len(tab))
    fig, ax = plt.subplots(figsize=(figsize[0], figsize[1] or 0.34 * len(tab) + 1.3))
    colours = [SHORTFALL if m < 0 else SURPLUS for m in tab["mean"]]
    ax.barh(y, tab["mean"], color=colours, alpha=0.85)
    ax.errorbar(tab["mean"], y, xerr=[tab["mean"] - tab["ci_low"], tab["ci_high"] - tab["mean"]], fmt="none",
                ecolor="k", capsize=3, lw=1)
    ticks = [_name(names, i) if level == "dimension" else f"{i} {_name(names, d)}"
             for i, d in zip(tab.index, tab["dimension"] if "dimension" in tab else tab.index)]
    ax.set_yticks(y, ticks, fontsize=8)
    lo = float(np.nanmin(tab["ci_low"].to_numpy().tolist() + [0]))
    for yi, (_, r) in zip(y, tab.iterrows()):
        ax.annotate(f"{r['mean']:+.2f} [{r['ci_low']:+.2f}, {r['ci_high']:+.2f}]  {lab['n']}={int(r['n'])}",
                    (lo - 0.05, yi), fontsize=7, va="center", ha="right")
    ax.set_xlim(lo - 1.9 * max(abs(lo), 0.5), max(0.2, float(np.nanmax(tab["ci_high"])) + 0.1))
    ax.axvline(0, color="k", lw=0.8)
    ax.set_xlabel(lab["x"], fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(title or "SERVQUAL gaps", fontsize=10)
    fig.tight_layout()
    return fig


def profile_figure(result, *, title: str | None = None, labels: dict | None = None, names: dict | None = None,
                   figsize=(8.0, 3.6)):
    """Expectation and perception means per item (paired respondents) with t CIs; dimensions shaded."""
    import matplotlib.pyplot as plt

    _cjk()
    lab = {"E": "expectation", "P": "perception", "x": "item", "y": "mean", **(labels or {})}
    t = result.item_gaps
    x = np.arange(len(t))
    fig, ax = plt.subplots(figsize=figsize)
    for j, (d, grp) in enumerate(t.groupby("dimension", sort=False)):
        pos = [t.index.get_loc(i) for i in grp.index]
        if j % 2 == 0:
            ax.axvspan(min(pos) - 0.5, max(pos) + 0.5, color="#f0f0f0", zorder=0)
        ax.text(np.mean(pos), 1.0, _name(names, d), transform=ax.get_xaxis_transform(), ha="center", va="bottom",
                fontsize=7)
    ax.errorbar(x, t["E_mean"], yerr=[t["E_mean"] - t["E_low"], t["E_high"] - t["E_mean"]], color=EXPECT,
                marker="s", ms=4, lw=1.2, capsize=2, label=lab["E"])
    ax.errorbar(x, t["P_mean"], yerr=[t["P_mean"] - t["P_low"], t["P_high"] - t["P_mean"]], color=PERCEIVE,
                marker="o", ms=4, lw=1.2, capsize=2, label=lab["P"])
    ax.set_xticks(x, [str(i) for i in t.index], fontsize=7)
    ax.set_xlabel(lab["x"], fontsize=8)
    ax.set_ylabel(lab["y"], fontsize=8)
    sc = result.instrument.common_scale
    if sc:
        ax.set_ylim(max(sc[0], float(np.nanmin(t[["E_low", "P_low"]].to_numpy())) - 0.5), sc[1] + 0.1)
    ax.legend(fontsize=7, loc="lower left")
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(title or "Expectations and perceptions", fontsize=10, pad=14)
    fig.tight_layout()
    return fig


def zot_figure(zot, *, level: str = "item", title: str | None = None, labels: dict | None = None,
               names: dict | None = None, figsize=(8.0, 3.6)):
    """The classic zone-of-tolerance chart: per attribute a bar from mean adequate to mean desired service and
    the mean perception as a marker (red when below the zone, blue above)."""
    import matplotlib.pyplot as plt

    _cjk()
    lab = {"zone": "zone of tolerance (adequate → desired)", "P": "perception", "y": "mean", **(labels or {})}
    t = zot.items if level == "item" else zot.dimensions
    x = np.arange(len(t))
    fig, ax = plt.subplots(figsize=figsize)
    ax.bar(x, t["D_mean"] - t["A_mean"], bottom=t["A_mean"], color="#c7e9c0", edgecolor="#41ab5d", width=0.6,
           label=lab["zone"])
    col = np.where(t["P_mean"] < t["A_mean"], SHORTFALL, np.where(t["P_mean"] > t["D_mean"], SURPLUS, "k"))
    ax.scatter(x, t["P_mean"], c=col, marker="D", s=28, zorder=3, label=lab["P"])
    ax.set_xticks(x, [_name(names, i) if level != "item" else str(i) for i in t.index], fontsize=7,
                  rotation=0 if level == "item" else 20)
    ax.set_ylabel(lab["y"], fontsize=8)
    ax.legend(fontsize=7, loc="lower left")
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(title or f"Zone of tolerance (n = {int(t['n'].max())})", fontsize=10)
    fig.tight_layout()
    return fig


def ipa_figure(ipa_result, *, title: str | None = None, labels: dict | None = None, names: dict | None = None,
               quadrant_names: dict | None = None, figsize=(6.0, 4.6)):
    """IPA grid: importance (y) vs performance (x) with CI cross-bars and the cross-hairs; the cross-hair values
    and their kind (data/scale-centred) are printed; unclassified attributes are drawn hollow."""
    import matplotlib.pyplot as plt

    _cjk()
    r = ipa_result
    t = r.table
    lab = {"x": f"performance ({r.performance_kind})", "y": f"importance ({r.importance_kind})",
           "cross": "{centre}-centred cross-hairs: importance {i:.2f}, performance {p:.2f}", **(labels or {})}
    qn = {**{q: q for q in QUAD_COLOURS}, **(quadrant_names or {})}
    fig, ax = plt.subplots(figsize=figsize)
    ax.errorbar(t["performance"], t["importance"],
                xerr=[t["performance"] - t["perf_low"], t["perf_high"] - t["performance"]],
                yerr=[t["importance"] - t["imp_low"], t["imp_high"] - t["importance"]], fmt="none", ecolor="grey",
                lw=0.8, capsize=2)
    for q, grp in t.groupby("quadrant"):
        hollow = q == "unclassified"
        ax.scatter(grp["performance"], grp["importance"], s=42, zorder=3, label=qn[q],
                   facecolors="none" if hollow else QUAD_COLOURS[q], edgecolors=QUAD_COLOURS[q])
    for a, row in t.iterrows():
        ax.annotate(_name(names, a), (row["performance"], row["importance"]), fontsize=7, xytext=(4, 3),
                    textcoords="offset points")
    ax.axvline(r.crosshair["performance"], color="k", lw=0.8, ls="--")
    ax.axhline(r.crosshair["importance"], color="k", lw=0.8, ls="--")
    ax.set_xlabel(lab["x"], fontsize=8)
    ax.set_ylabel(lab["y"], fontsize=8)
    ax.legend(fontsize=7, loc="best")
    ax.set_title(title or "Importance–performance analysis", fontsize=10)
    fig.text(0.01, 0.005, lab["cross"].format(centre=r.centre, i=r.crosshair["importance"],
                                              p=r.crosshair["performance"]), fontsize=7)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


def _heat_matrix(heat):
    mean = heat.pivot(index="segment", columns="dimension", values="mean")
    dims = list(dict.fromkeys(heat["dimension"]))
    mean = mean[dims]
    marker = heat.pivot(index="segment", columns="dimension", values="marker")[dims]
    n = heat.pivot(index="segment", columns="dimension", values="n")[dims]
    sup = heat.pivot(index="segment", columns="dimension", values="suppressed")[dims]
    return mean, marker, n, sup


def heatmap_figure(heat, *, title: str | None = None, labels: dict | None = None, names: dict | None = None,
                   min_n: int = 30, figsize=(7.0, None)):
    """Segment × dimension gap heat map from :func:`sqc.servqual.segment_heatmap`; ▲/▼ mark segments above/below
    the company mean (adjusted p), grey cells are suppressed (n < min_n)."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import TwoSlopeNorm

    _cjk()
    lab = {"cbar": "gap P − E", "note": "▲/▼ differs from the company mean (Holm-adjusted); grey = n < {min_n}",
           **(labels or {})}
    mean, marker, n, sup = _heat_matrix(heat)
    fig, ax = plt.subplots(figsize=(figsize[0], figsize[1] or 0.3 * len(mean) + 1.6))
    vals = mean.to_numpy(float)
    finite = vals[np.isfinite(vals)]
    lo = min(float(finite.min()) if finite.size else -1, -0.01)
    hi = max(float(finite.max()) if finite.size else 1, 0.01)
    im = ax.imshow(np.ma.masked_invalid(vals), cmap="RdBu", norm=TwoSlopeNorm(0, lo, hi), aspect="auto")
    ax.set_facecolor("#d9d9d9")
    for i in range(vals.shape[0]):
        for j in range(vals.shape[1]):
            if bool(sup.iat[i, j]):
                ax.text(j, i, f"n={int(n.iat[i, j])}", ha="center", va="center", fontsize=6, color="#555555")
                continue
            m = {"above": " ▲", "below": " ▼"}.get(marker.iat[i, j], "")
            dark = abs(vals[i, j]) > 0.6 * max(abs(lo), abs(hi))
            ax.text(j, i, f"{vals[i, j]:+.2f}{m}", ha="center", va="center", fontsize=7,
                    color="white" if dark else "black")
    ax.set_xticks(range(vals.shape[1]), [_name(names, d) for d in mean.columns], fontsize=7, rotation=20)
    ax.set_yticks(range(vals.shape[0]), [str(s) for s in mean.index], fontsize=7)
    fig.colorbar(im, ax=ax, label=lab["cbar"], shrink=0.8)
    ax.set_title(title or "Gaps by segment and dimension", fontsize=10)
    fig.text(0.01, 0.005, lab["note"].format(min_n=min_n), fontsize=7)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


# ------------------------------------------------------------------------------------------ Bokeh
def _source(frame):
    from bokeh.models import ColumnDataSource

    return ColumnDataSource({str(c): frame[c].to_numpy() for c in frame.columns})


def gap_bokeh(result, *, title: str | None = None, names: dict | None = None, labels: dict | None = None):
    """Interactive dimension-gap chart (bars + CI whiskers; hover shows E, P, gap, CI, n, adjusted p)."""
    from bokeh.models import HoverTool, Whisker
    from bokeh.plotting import figure

    lab = {"x": "gap P − E", **(labels or {})}
    t = result.dimension_gaps.reset_index()
    t["name"] = [_name(names, d) for d in t["dimension"]]
    t["colour"] = [SHORTFALL if m < 0 else SURPLUS for m in t["mean"]]
    src = _source(t[["name", "mean", "ci_low", "ci_high", "n", "E_mean", "P_mean", "p_adj", "colour"]])
    p = figure(y_range=list(t["name"])[::-1], height=60 + 38 * len(t), width=560, title=title or "SERVQUAL gaps",
               toolbar_location=None, x_axis_label=lab["x"])
    p.hbar(y="name", right="mean", height=0.6, color="colour", alpha=0.85, source=src)
    p.add_layout(Whisker(base="name", lower="ci_low", upper="ci_high", source=src, dimension="width"))
    p.add_tools(HoverTool(tooltips=[("", "@name"), ("E", "@E_mean{0.00}"), ("P", "@P_mean{0.00}"),
                                    ("gap", "@mean{+0.00} [@ci_low{+0.00}, @ci_high{+0.00}]"), ("n", "@n"),
                                    ("p (adj.)", "@p_adj{0.0000}")]))
    return p


def ipa_bokeh(ipa_result, *, title: str | None = None, names: dict | None = None, labels: dict | None = None):
    """Interactive IPA grid (hover: importance and performance with CIs, quadrant)."""
    from bokeh.models import HoverTool, Span, Whisker
    from bokeh.plotting import figure

    r = ipa_result
    t = r.table.reset_index().rename(columns={r.table.index.name or "index": "attr"})
    t["name"] = [_name(names, a) for a in t["attr"]]
    t["colour"] = [QUAD_COLOURS[q] for q in t["quadrant"]]
    lab = {"x": f"performance ({r.performance_kind})", "y": f"importance ({r.importance_kind})", **(labels or {})}
    src = _source(t[["name", "importance", "imp_low", "imp_high", "performance", "perf_low", "perf_high",
                     "quadrant", "colour", "n"]])
    p = figure(height=380, width=520, title=title or f"IPA ({r.centre}-centred cross-hairs)",
               toolbar_location=None, x_axis_label=lab["x"], y_axis_label=lab["y"])
    p.add_layout(Whisker(base="performance", lower="imp_low", upper="imp_high", source=src, line_color="grey"))
    p.add_layout(Whisker(base="importance", lower="perf_low", upper="perf_high", source=src, dimension="width",
                         line_color="grey"))
    p.scatter("performance", "importance", size=10, color="colour", source=src)
    p.add_layout(Span(location=r.crosshair["performance"], dimension="height", line_dash="dashed"))
    p.add_layout(Span(location=r.crosshair["importance"], dimension="width", line_dash="dashed"))
    p.add_tools(HoverTool(tooltips=[("", "@name"), ("importance", "@importance{0.00} [@imp_low{0.00}, "
                                                                  "@imp_high{0.00}]"),
                                    ("performance", "@performance{0.00} [@perf_low{0.00}, @perf_high{0.00}]"),
                                    ("quadrant", "@quadrant"), ("n", "@n")]))
    return p


def heatmap_bokeh(heat, *, title: str | None = None, names: dict | None = None, min_n: int = 30):
    """Interactive segment × dimension heat map (hover: mean, CI, n, adjusted p vs company)."""
    from bokeh.models import HoverTool, LinearColorMapper
    from bokeh.palettes import RdBu11
    from bokeh.plotting import figure

    h = heat.copy()
    h["dim_name"] = [_name(names, d) for d in h["dimension"]]
    h["segment"] = h["segment"].astype(str)
    h["label"] = [("n=%d" % n) if s else f"{m:+.2f}{ {'above': '▲', 'below': '▼'}.get(mk, '')}"
                  for m, n, s, mk in zip(h["mean"], h["n"], h["suppressed"], h["marker"])]
    h["value"] = h["mean"].fillna(0.0)
    h["alpha"] = np.where(h["suppressed"], 0.15, 0.9)
    finite = h["mean"].dropna()
    lim = float(max(abs(finite.min()), abs(finite.max()), 0.1)) if len(finite) else 1.0
    mapper = LinearColorMapper(palette=list(RdBu11), low=-lim, high=lim)
    segs = sorted(h["segment"].unique())[::-1]
    dims = list(dict.fromkeys(h["dim_name"]))
    src = _source(h[["dim_name", "segment", "value", "label", "alpha", "mean", "ci_low", "ci_high", "n", "p_adj"]])
    p = figure(x_range=dims, y_range=segs, height=80 + 26 * len(segs), width=620, toolbar_location=None,
               title=title or f"Gaps by segment (▲/▼ vs company, Holm; faded = n < {min_n})")
    p.rect("dim_name", "segment", 1, 1, source=src, fill_color={"field": "value", "transform": mapper},
           fill_alpha="alpha", line_color="white")
    p.text("dim_name", "segment", text="label", source=src, text_align="center", text_baseline="middle",
           text_font_size="9px")
    p.add_tools(HoverTool(tooltips=[("", "@segment · @dim_name"), ("gap", "@mean{+0.00} [@ci_low{+0.00}, "
                                                                      "@ci_high{+0.00}]"),
                                    ("n", "@n"), ("p (adj.)", "@p_adj{0.0000}")]))
    p.xaxis.major_label_orientation = 0.35
    return p
