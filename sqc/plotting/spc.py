"""Control-chart plots drawn from sqc.spc result objects (nothing is recomputed here).

Static (matplotlib, return a Figure): :func:`control_chart` (one chart, dates on the axis, optional 1σ/2σ zones,
stage breaks, Phase I/II split, signal annotations), :func:`paired_chart` (X̄–R / X̄–S / I–MR),
:func:`small_multiples` (a grid of charts, e.g. KPI × branch), :func:`oc_chart` and :func:`capability_histogram`.
Interactive (Bokeh, for Panel): :func:`control_chart_bokeh`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

SIGNAL_COLOUR = "#d62728"
LINE_COLOUR = "#1f4e79"
LIMIT_COLOUR = "#7f7f7f"


def _x_values(labels):
    """Dates when the labels are dates or 'YYYY-MM(-DD)' periods, else positions (with the labels as ticks)."""
    lab = pd.Index(labels)
    if isinstance(lab, pd.DatetimeIndex):
        return lab.to_numpy(), True
    if isinstance(lab, pd.PeriodIndex):
        return lab.to_timestamp().to_numpy(), True
    if len(lab) and not pd.api.types.is_numeric_dtype(lab):
        txt = pd.Index(lab.astype(str))
        if txt.str.fullmatch(r"\d{4}-\d{2}(-\d{2})?").all():
            try:
                return pd.to_datetime(txt).to_numpy(), True
            except (ValueError, TypeError):
                pass
    return np.arange(len(lab)), False


def _arr(a, n):
    return np.broadcast_to(np.asarray(a, dtype=float), (n,))


def _texts(lang):
    zh = lang == "zh"
    return {"center": "中心线" if zh else "centre", "limits": "控制限" if zh else "control limits",
            "phase2": "第二阶段（冻结控制限）" if zh else "Phase II (frozen limits)",
            "signal": "信号" if zh else "signal"}


def control_chart(result, *, ax=None, zones: bool = False, title: str | None = None, lang: str = "en",
                  annotate: int = 3, ylabel: str | None = None, figsize=(7.5, 3.2), markersize: float = 3.5,
                  target: float | None = None):
    """Draw one chart result (a ``ChartResult`` or the location part of a ``PairedChart``).

    Parameters
    ----------
    zones : bool
        Shade the 1σ and 2σ zones (where the result has a σ per point).
    annotate : int
        Annotate up to this many signalling points with the rule names (the most recent ones).
    target : float, optional
        Draw a target line (e.g. the KPI target) for the assurance reading.
    """
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    res = getattr(result, "location", result)
    n = len(res)
    x, is_date = _x_values(res.labels)
    y = np.asarray(res.statistic, dtype=float)
    c, lo, hi = _arr(res.center, n), _arr(res.lcl, n), _arr(res.ucl, n)
    s = _arr(res.sigma, n)
    tx = _texts(lang)
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
    else:
        fig = ax.figure
    if zones and np.isfinite(s).any():
        ax.fill_between(x, c - 2 * s, c + 2 * s, step="mid", color="#fff2cc", alpha=0.7, lw=0)
        ax.fill_between(x, c - s, c + s, step="mid", color="#e2f0d9", alpha=0.8, lw=0)
    ax.step(x, c, where="mid", color="#2ca02c", lw=1.1, label=tx["center"])
    ax.step(x, hi, where="mid", color=LIMIT_COLOUR, lw=0.9, ls="--", label=tx["limits"])
    ax.step(x, lo, where="mid", color=LIMIT_COLOUR, lw=0.9, ls="--")
    if target is not None:
        ax.axhline(target, color="#9467bd", lw=0.9, ls=":")
    ax.plot(x, y, color=LINE_COLOUR, lw=0.9, marker="o", ms=markersize, zorder=3)
    sig = np.asarray(res.signal)
    if sig.any():
        ax.plot(np.asarray(x)[sig], y[sig], ls="none", marker="o", ms=markersize + 1.5, color=SIGNAL_COLOUR,
                zorder=4, label=tx["signal"])
        rules = res.rules_per_point()
        for i in np.flatnonzero(sig)[-annotate:] if annotate else []:
            ax.annotate(rules[i].replace("nelson_", "N").replace(",", " "), (x[i], y[i]), textcoords="offset points",
                        xytext=(0, 6), ha="center", fontsize=7, color=SIGNAL_COLOUR)
    # stage breaks and the Phase I / Phase II split
    stage = np.asarray(res.stage)
    for i in np.flatnonzero(stage[1:] != stage[:-1]) + 1:
        ax.axvline(x[i], color="black", lw=0.8, ls="-.")
        ax.annotate(str(stage[i]), (x[i], 1.0), xycoords=("data", "axes fraction"), xytext=(2, -10),
                    textcoords="offset points", fontsize=7)
    phase = np.asarray(res.phase, dtype=object)
    p2 = np.flatnonzero(phase == "II")
    if p2.size and p2[0] > 0:
        ax.axvline(x[p2[0]], color="#555555", lw=0.8, ls=":")
        if annotate:
            ax.annotate(tx["phase2"], (x[p2[0]], 0.02), xycoords=("data", "axes fraction"), xytext=(3, 0),
                        textcoords="offset points", fontsize=7, color="#555555")
    for i, note in sorted(getattr(res, "annotations", {}).items()):
        ax.axvline(x[i], color="#9467bd", lw=0.8, ls="--")
        ax.annotate(note["zh" if lang == "zh" else "en"], (x[i], 0.92), xycoords=("data", "axes fraction"),
                    xytext=(3, 0), textcoords="offset points", fontsize=7, color="#9467bd")
    if is_date:
        loc = mdates.AutoDateLocator(maxticks=8)
        ax.xaxis.set_major_locator(loc)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))
    elif n <= 30:
        ax.set_xticks(x)
        ax.set_xticklabels([str(v) for v in res.labels], rotation=90, fontsize=7)
    ax.set_title(title if title is not None else res.title, fontsize=9)
    if ylabel:
        ax.set_ylabel(ylabel, fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.25)
    return fig


def paired_chart(paired, *, zones: bool = False, lang: str = "en", figsize=(7.5, 5.0), title: str | None = None):
    """Location and dispersion charts of a ``PairedChart`` stacked on a shared x axis."""
    import matplotlib.pyplot as plt

    fig, (a1, a2) = plt.subplots(2, 1, figsize=figsize, sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    control_chart(paired.location, ax=a1, zones=zones, lang=lang, title=title)
    control_chart(paired.dispersion, ax=a2, lang=lang, annotate=0)
    fig.tight_layout()
    return fig


def small_multiples(results: dict, *, ncols: int = 4, lang: str = "en", panel_size=(2.6, 1.7), zones=False,
                    suptitle: str | None = None, targets: dict | None = None, highlight: dict | None = None):
    """A grid of small control charts. ``results`` maps a panel title to a chart result (``None`` draws an
    "insufficient data" panel). ``highlight`` maps titles to a colour for the panel frame (e.g. a concern)."""
    import matplotlib.pyplot as plt

    keys = list(results)
    nrows = max(1, int(np.ceil(len(keys) / ncols)))
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel_size[0] * ncols, panel_size[1] * nrows), squeeze=False)
    for ax in axes.ravel()[len(keys):]:
        ax.set_visible(False)
    for ax, k in zip(axes.ravel(), keys):
        r = results[k]
        if r is None:
            ax.text(0.5, 0.5, "insufficient data" if lang != "zh" else "数据不足", ha="center", va="center",
                    fontsize=8, transform=ax.transAxes)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(str(k), fontsize=8)
            continue
        control_chart(r, ax=ax, zones=zones, lang=lang, title=str(k), annotate=0, markersize=2.0,
                      target=(targets or {}).get(k))
        ax.title.set_fontsize(8)
        ax.tick_params(labelsize=6)
        for lab in ax.get_xticklabels():
            lab.set_fontsize(6)
        if highlight and k in highlight:
            for sp in ax.spines.values():
                sp.set_edgecolor(highlight[k])
                sp.set_linewidth(2.0)
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    fig.tight_layout()
    return fig


def oc_chart(oc_frame, *, title: str = "OC curve", figsize=(5, 3)):
    """Operating-characteristic curve from :func:`sqc.spc.oc_curve` (β and ARL against the shift)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=figsize)
    ax.plot(oc_frame["shift"], oc_frame["beta"], color=LINE_COLOUR)
    ax.set_xlabel("shift")
    ax.set_ylabel("β = P(no signal)")
    ax2 = ax.twinx()
    ax2.plot(oc_frame["shift"], oc_frame["arl"], color="#ff7f0e", ls="--")
    ax2.set_yscale("log")
    ax2.set_ylabel("ARL")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def capability_histogram(cap, *, bins: int = 40, figsize=(6, 3), title: str | None = None):
    """Histogram of a :class:`sqc.spc.CapabilityResult`'s data with the specification limits, the target and
    the normal curves for σ within and σ overall."""
    import matplotlib.pyplot as plt
    from scipy import stats

    fig, ax = plt.subplots(figsize=figsize)
    x = np.asarray(cap.values, dtype=float)
    ax.hist(x, bins=bins, density=True, color="#c6dbef", edgecolor="white")
    grid = np.linspace(np.min(x), np.max(x), 200)
    ax.plot(grid, stats.norm.pdf(grid, cap.mean, cap.sigma_within), color=LINE_COLOUR, lw=1, label="σ within")
    ax.plot(grid, stats.norm.pdf(grid, cap.mean, cap.sigma_overall), color="#ff7f0e", lw=1, ls="--",
            label="σ overall")
    for v, lab in ((cap.lsl, "LSL"), (cap.usl, "USL"), (cap.target, "target")):
        if v is not None:
            ax.axvline(v, color=SIGNAL_COLOUR if lab != "target" else "#2ca02c", ls=":")
            ax.annotate(lab, (v, 1.0), xycoords=("data", "axes fraction"), xytext=(2, -10),
                        textcoords="offset points", fontsize=7)
    cpk = cap.table.loc["Cpk"]
    ax.set_title(title or f"Cpk = {cpk['value']:.2f} [{cpk['ci_low']:.2f}, {cpk['ci_high']:.2f}], n = {cap.n}",
                 fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def control_chart_bokeh(result, *, zones: bool = False, title: str | None = None, width: int = 700,
                        height: int = 280, lang: str = "en"):
    """Interactive Bokeh control chart (hover shows the label, value, limits and rules) for Panel."""
    from bokeh.models import ColumnDataSource, HoverTool
    from bokeh.plotting import figure

    res = getattr(result, "location", result)
    n = len(res)
    x, is_date = _x_values(res.labels)
    c, lo, hi, s = _arr(res.center, n), _arr(res.lcl, n), _arr(res.ucl, n), _arr(res.sigma, n)
    src = ColumnDataSource({"x": x, "y": np.asarray(res.statistic, dtype=float), "center": c, "lcl": lo, "ucl": hi,
                            "label": [str(v) for v in res.labels], "rules": list(res.rules_per_point()),
                            "signal": np.asarray(res.signal)})
    p = figure(width=width, height=height, title=title if title is not None else res.title,
               x_axis_type="datetime" if is_date else "linear", tools="pan,wheel_zoom,box_zoom,reset,save")
    if zones and np.isfinite(s).any():
        p.varea(x=x, y1=c - 2 * s, y2=c + 2 * s, fill_color="#fff2cc", fill_alpha=0.7)
        p.varea(x=x, y1=c - s, y2=c + s, fill_color="#e2f0d9", fill_alpha=0.8)
    p.step("x", "center", source=src, mode="center", color="#2ca02c")
    p.step("x", "ucl", source=src, mode="center", color=LIMIT_COLOUR, line_dash="dashed")
    p.step("x", "lcl", source=src, mode="center", color=LIMIT_COLOUR, line_dash="dashed")
    p.line("x", "y", source=src, color=LINE_COLOUR)
    pts = p.scatter("x", "y", source=src, size=5, color=LINE_COLOUR)
    sig = np.asarray(res.signal)
    if sig.any():
        p.scatter(np.asarray(x)[sig], np.asarray(res.statistic, dtype=float)[sig], size=8, color=SIGNAL_COLOUR)
    stage = np.asarray(res.stage)
    from bokeh.models import Span
    for i in np.flatnonzero(stage[1:] != stage[:-1]) + 1:
        loc = pd.Timestamp(x[i]).value / 1e6 if is_date else float(x[i])
        p.add_layout(Span(location=loc, dimension="height", line_dash="dashdot", line_color="black"))
    p.add_tools(HoverTool(renderers=[pts], tooltips=[("", "@label"), ("value", "@y{0.000}"),
                                                     ("limits", "@lcl{0.000} – @ucl{0.000}"), ("rules", "@rules")]))
    p.toolbar.logo = None
    return p
