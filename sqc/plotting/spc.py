"""Control-chart plots drawn from sqc.spc result objects (nothing is recomputed here).

Static (matplotlib, return a Figure): :func:`control_chart` (one chart, dates on the axis, optional 1σ/2σ zones,
stage breaks, Phase I/II split, signal annotations), :func:`paired_chart` (X̄–R / X̄–S / I–MR),
:func:`small_multiples` (a grid of charts, e.g. KPI × branch), :func:`oc_chart` and :func:`capability_histogram`.
Interactive (Bokeh, for Panel): :func:`control_chart_bokeh`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .generic import label
from .spec import Chart, to_bokeh, to_matplotlib

SIGNAL_COLOUR = "#d62728"
LINE_COLOUR = "#1f4e79"
LIMIT_COLOUR = "#7f7f7f"
CENTRE_COLOUR = "#2ca02c"
NOTE_COLOUR = "#9467bd"
TARGET_COLOUR = "#e377c2"


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


def _monthly(labels) -> bool:
    """Whether the labels are months ('YYYY-MM' or a monthly PeriodIndex)."""
    lab = pd.Index(labels)
    if isinstance(lab, pd.PeriodIndex):
        return lab.freqstr.startswith("M")
    return bool(len(lab)) and bool(pd.Index(lab.astype(str)).str.fullmatch(r"\d{4}-\d{2}").all())


def _arr(a, n):
    return np.broadcast_to(np.asarray(a, dtype=float), (n,))


def _texts(lang):
    return {k: label(k, lang) for k in ("center", "limits", "phase2", "signal", "value", "rules", "target", "n",
                                        "month", "recalculated")}


def format_values(values, y_format: str | None = None) -> list[str]:
    """Values as the axis shows them: proportions as percent (72.6%), other numbers to 4 significant digits."""
    v = np.asarray(values, dtype=float)
    if y_format == "percent":
        return ["—" if not np.isfinite(a) else f"{100 * a:.1f}%" for a in v]
    return ["—" if not np.isfinite(a) else f"{a:.4g}" for a in v]


def control_spec(result, lang: str = "en", *, zones: bool = False, title: str | None = None, annotate: int = 3,
                 ylabel: str | None = None, markersize: float = 3.5, target: float | None = None,
                 y_format: str | None = None, y_range: tuple | None = None, compact: bool = False,
                 legend: bool = False, n=None) -> Chart:
    """The control chart of a ``ChartResult`` (or the location chart of a ``PairedChart``) as one description:
    centre line and limits (stepped, so variable subgroup sizes and stages show), optional 1σ/2σ zones, the
    points with signals in red and their rule names, stage breaks (where the limits were recalculated), the
    Phase I / Phase II split, notes and a target line.

    ``y_format="percent"`` shows proportions as percent (axis and hover); ``y_range`` fixes the y interval (small
    multiples on one scale); ``compact`` draws a small multiple: no zones, phase split or note texts, stage
    breaks marked "↻", hover tips month, value and n only; ``legend`` names centre, limits, target and signals.
    ``n``: the sample size per point for the hover tips (default: the chart's subgroup sizes when they are
    larger than 1; an I chart of monthly KPI values has one value per month, so its caller passes the month's n)."""
    res = getattr(result, "location", result)
    n_points = len(res)
    x, is_date = _x_values(res.labels)
    y = np.asarray(res.statistic, dtype=float)
    c, lo, hi, s = (_arr(v, n_points) for v in (res.center, res.lcl, res.ucl, res.sigma))
    tx = _texts(lang)
    chart = Chart(title if title is not None else res.chart_title(lang), y_label=ylabel or "", x_dates=is_date,
                  x_label=tx["month"] if is_date and not compact and _monthly(res.labels) else "",
                  x_categories=None if is_date or n_points > 30 else [str(v) for v in res.labels], size=(7.5, 3.2),
                  lang=lang, y_format=y_format, y_range=y_range, legend=legend,
                  legend_location="top_left")  # the latest months, which matter most, are on the right
    if zones and not compact and np.isfinite(s).any():
        chart.band(x, c - 2 * s, c + 2 * s, colour="#fff2cc", alpha=0.7, step=True)
        chart.band(x, c - s, c + s, colour="#e2f0d9", alpha=0.8, step=True)
    chart.line(x, c, colour=CENTRE_COLOUR, step=True, width=1.1, label=tx["center"])
    chart.line(x, hi, colour=LIMIT_COLOUR, step=True, dash="dashed", width=0.9, label=tx["limits"])
    chart.line(x, lo, colour=LIMIT_COLOUR, step=True, dash="dashed", width=0.9)
    if target is not None and np.isfinite(target):
        chart.rule(float(target), colour=TARGET_COLOUR, dash="dotted", width=1.6, label=tx["target"])
    rules = res.rules_per_point()
    chart.line(x, y, colour=LINE_COLOUR, width=0.9)
    labels = [str(v) for v in res.labels]
    sizes = np.asarray(res.sizes if n is None and getattr(res, "sizes", None) is not None else
                       (np.nan if n is None else n), dtype=float)
    if compact and is_date:  # the browser formats month and value (no text copy of them on the page)
        tips = {tx["month"]: "@x{" + label("date_months", lang) + "}",
                tx["value"]: "@y{0.0%}" if y_format == "percent" else "@y{0,0.[00]}"}
    else:
        tips = {tx["month"]: labels, tx["value"]: format_values(y, y_format)}
    if np.size(sizes) == n_points and (n is not None or np.nanmax(sizes, initial=0) > 1):
        tips[tx["n"]] = [f"{v:,.0f}" if np.isfinite(v) else "—" for v in sizes]
    if not compact:
        tips[tx["limits"]] = [f"{a} – {b}" for a, b in zip(format_values(lo, y_format), format_values(hi, y_format))]
        tips[tx["rules"]] = rules
    sig = np.asarray(res.signal)
    # one point layer: signals red, the others in the line's colour (one hover source per chart)
    chart.points(x, y, colour=np.where(sig, SIGNAL_COLOUR, LINE_COLOUR).tolist(), size=markersize, tips=tips)
    if sig.any():
        if legend:  # the legend entry for signals (drawn again over the last signal)
            last = np.flatnonzero(sig)[-1:]
            chart.points(np.asarray(x)[last], y[last], colour=SIGNAL_COLOUR, size=markersize, label=tx["signal"])
        shown = np.flatnonzero(sig)[-annotate:] if annotate and not compact else np.array([], dtype=int)
        chart.text(np.asarray(x)[shown], y[shown],
                   [rules[i].replace("nelson_", "N").replace(",", " ") for i in shown], colour=SIGNAL_COLOUR)
    if y_range is not None:
        top = float(y_range[1])
    else:
        top = float(np.nanmax(np.r_[hi[np.isfinite(hi)], y[np.isfinite(y)]])) if np.isfinite(y).any() else 0.0
    stage = np.asarray(res.stage)
    breaks = np.flatnonzero(stage[1:] != stage[:-1]) + 1
    for i in breaks:
        chart.rule(x[i], axis="x", colour="black", dash="dashdot")
    notes = getattr(res, "annotations", {})
    if compact:
        if breaks.size:  # inside the top of the plot, beside the break
            mark = top if y_range is None else y_range[0] + 0.88 * (y_range[1] - y_range[0])
            chart.text(np.asarray(x)[breaks], np.full(breaks.size, mark), ["↻"] * breaks.size, align="left", size=9)
        return chart
    def side(i: int) -> str:
        """Text at point ``i`` runs into the plot: rightwards in its first half, leftwards in its second (so a
        note near the latest months is not cut off at the right edge)."""
        return "left" if i < n_points / 2 else "right"

    named = [i for i in breaks if i not in notes]  # a note at a break explains it instead
    for i in named:
        chart.text([x[i]], [top], [str(stage[i])], align=side(i))
    phase = np.asarray(res.phase, dtype=object)
    p2 = np.flatnonzero(phase == "II")
    if p2.size and p2[0] > 0:
        chart.rule(x[p2[0]], axis="x", colour="#555555", dash="dotted")
        if annotate:
            chart.text([x[p2[0]]], [top], [tx["phase2"]], colour="#555555", align=side(p2[0]))
    for i, note in sorted(notes.items()):
        if i not in breaks:  # a break already has its line
            chart.rule(x[i], axis="x", colour=NOTE_COLOUR, dash="dashed")
        chart.text([x[i]], [top], [note["zh" if lang == "zh" else "en"]], colour=NOTE_COLOUR, align=side(i))
    return chart


def control_chart(result, *, ax=None, zones: bool = False, title: str | None = None, lang: str = "en",
                  annotate: int = 3, ylabel: str | None = None, figsize=(7.5, 3.2), markersize: float = 3.5,
                  target: float | None = None):
    """Draw one chart result with matplotlib (see :func:`control_spec`; the title defaults to the result's)."""
    res = getattr(result, "location", result)
    spec = control_spec(res, lang, zones=zones, title=res.title if title is None else title, annotate=annotate,
                        ylabel=ylabel, markersize=markersize, target=target)
    return to_matplotlib(spec, ax=ax, figsize=figsize)


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


def shared_y_range(results, targets=(), *, pad: float = 0.06, y_format: str | None = None) -> tuple | None:
    """One y interval that holds every chart's values and limits and the targets (for small multiples on a shared
    scale): (low, high) padded by ``pad`` of the span; proportions stay within 0..1. None when nothing is finite."""
    parts = [np.asarray(t, dtype=float).ravel() for t in targets if t is not None]
    for r in results:
        if r is None:
            continue
        r = getattr(r, "location", r)
        n = len(r)
        parts += [np.asarray(r.statistic, dtype=float), _arr(r.lcl, n), _arr(r.ucl, n)]
    v = np.concatenate(parts) if parts else np.array([])
    v = v[np.isfinite(v)]
    if not v.size:
        return None
    lo, hi = float(v.min()), float(v.max())
    span = (hi - lo) or abs(hi) or 1.0
    lo, hi = lo - pad * span, hi + pad * span
    if y_format == "percent":
        lo, hi = max(lo, 0.0), min(hi, 1.0)
    return lo, hi


def small_multiples_bokeh(results: dict, *, lang: str = "en", target: float | None = None,
                          highlight: dict | None = None, y_format: str | None = None, ylabel: str | None = None,
                          sizes: dict | None = None, width: int = 320, height: int = 200, font_size: int = 11,
                          share: dict | None = None) -> dict:
    """Small control charts drawn by the browser: title → Bokeh figure (``None`` where ``results`` has no chart).

    Every panel shows the same y interval (:func:`shared_y_range`, so panels compare at a glance) and the same
    months, the ``target`` line, centre line and limits per stage with the stage breaks marked, signals in red,
    and hover tips (month, value, n from ``sizes``: title → per-point n). ``highlight`` maps titles to a frame
    colour (a concern, an improvement). No tool buttons; text at ``font_size`` px. A panel's centre line, limits
    and values are one renderer; the panels share their scales, axes, grids, tickers, formatters, target line
    and ranges (``share``, which the caller may pass on to the next grid of the page; see
    :func:`sqc.plotting.spec.to_bokeh`), so a page carries them once."""
    from .spec import to_bokeh

    share = {} if share is None else share
    y_range = shared_y_range(results.values(), [target], y_format=y_format)
    out = {}
    for title, r in results.items():
        if r is None:
            out[title] = None
            continue
        spec = control_spec(r, lang, title=str(title), annotate=0, compact=True, target=target, y_format=y_format,
                            y_range=y_range, ylabel=ylabel, n=(sizes or {}).get(title))
        spec.frame = (highlight or {}).get(title)
        out[title] = to_bokeh(spec, width=width, height=height, toolbar=False, share=share, font_size=font_size)
    return out


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


def control_chart_bokeh(result, *, zones: bool = False, title: str | None = None, width: int = 700,
                        height: int = 280, lang: str = "en", target: float | None = None,
                        y_format: str | None = None, ylabel: str | None = None, n=None, legend: bool = False):
    """The same chart as :func:`control_chart` drawn with Bokeh (hover shows month, value, n, limits, rules; see
    :func:`control_spec` for the other arguments)."""
    res = getattr(result, "location", result)
    spec = control_spec(res, lang, zones=zones, title=res.title if title is None else title, target=target,
                        y_format=y_format, ylabel=ylabel, n=n, legend=legend)
    return to_bokeh(spec, width=width, height=height, font_size=12)


def pareto_chart(table, lang: str = "en", *, title: str | None = None) -> Chart:
    """Pareto chart of a :func:`sqc.spc.pareto` table: bars by count (vital few darker), cumulative percent
    (on the count scale) and the vital-few threshold; "Other" stays last as in the table."""
    cats = [str(c) for c in table.index]
    x = np.arange(len(cats))
    total = float(table["count"].sum())
    colours = [LINE_COLOUR if v else "#9ecae1" for v in table["vital_few"]]
    chart = Chart(title or table.chart_title(lang), x_categories=cats, y_label=label("count", lang), lang=lang)
    chart.bars(x, table["count"].to_numpy(dtype=float), colour=colours)
    cum = table["cum_percent"].to_numpy(dtype=float) * total / 100
    chart.line(x, cum, colour=SIGNAL_COLOUR, marker="o", label=label("cumulative", lang))
    chart.text(x, cum, [f"{v:.0f}%" for v in table["cum_percent"]], colour=SIGNAL_COLOUR)
    chart.rule(total * table.attrs.get("threshold", 0.8), colour=LIMIT_COLOUR, dash="dotted")
    return chart


def capability_spec(cap, lang: str = "en", *, bins: int = 40, title: str | None = None) -> Chart:
    """Histogram (density) of a :class:`sqc.spc.CapabilityResult`'s data with the normal curves for σ within and
    σ overall, the specification limits and the target; the title carries Cpk with its interval and n."""
    from scipy import stats

    x = np.asarray(cap.values, dtype=float)
    dens, edges = np.histogram(x, bins=bins, density=True)
    mids = (edges[:-1] + edges[1:]) / 2
    cpk = cap.table.loc["Cpk"] if "Cpk" in cap.table.index else None
    head = cap.chart_title(lang)
    if cpk is not None:
        head += f": Cpk = {cpk['value']:.2f} [{cpk['ci_low']:.2f}, {cpk['ci_high']:.2f}], n = {cap.n}"
    chart = Chart(title or head, y_label=label("density", lang), legend=True, size=(6, 3), lang=lang)
    chart.bars(mids, dens, colour="#c6dbef", width=float(edges[1] - edges[0]), alpha=1.0)
    grid = np.linspace(np.min(x), np.max(x), 200)
    chart.line(grid, stats.norm.pdf(grid, cap.mean, cap.sigma_within), colour=LINE_COLOUR,
               label=label("sigma_within", lang))
    chart.line(grid, stats.norm.pdf(grid, cap.mean, cap.sigma_overall), colour="#ff7f0e", dash="dashed",
               label=label("sigma_overall", lang))
    for v, name in ((cap.lsl, "LSL"), (cap.usl, "USL"), (cap.target, "target")):
        if v is not None:
            chart.rule(v, axis="x", colour=SIGNAL_COLOUR if name != "target" else CENTRE_COLOUR, dash="dotted")
            chart.text([v], [float(dens.max())], [label(name, lang)], align="left")
    return chart


def capability_histogram(cap, *, bins: int = 40, figsize=(6, 3), title: str | None = None, lang: str = "en"):
    """Matplotlib drawing of :func:`capability_spec`."""
    return to_matplotlib(capability_spec(cap, lang, bins=bins, title=title), figsize=figsize)
