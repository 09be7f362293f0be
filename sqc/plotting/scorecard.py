"""Scorecard plots drawn from a :class:`sqc.scorecard.Scorecard`; nothing is recomputed.

* :func:`kpi_panels` — one small control-chart description per KPI for a branch (or the network), with the target
  line and the two Making Data Count icons in the panel title (drawn by the browser on the dashboard);
  :func:`kpi_small_multiples` — the same idea as one matplotlib figure, for notebooks.
* :func:`composite_spec` / :func:`composite_figure` — composite score per branch with its approximate interval,
  ranked.
* :func:`kpi_axis` — each KPI's axis format and unit.
* :func:`icon_html` — the verdict icons as inline HTML (unicode symbol in a coloured circle, with the verdict in
  words as a tooltip): renders offline, no image files or fonts to fetch.
"""
from __future__ import annotations

import html

import numpy as np

from ..scorecard import ASSURANCE_ICONS, VARIATION_ICONS


#: KPI → (axis format, locale key of the axis unit): rates on a percent axis, times in seconds, ratings on 1-5
KPI_AXIS = {"service_level": ("percent", "charts.unit_service_level"), "asa_s": (None, "charts.unit_asa_s"),
            "abandonment_rate": ("percent", "charts.unit_abandonment_rate"), "aht_s": (None, "charts.unit_aht_s"),
            "fcr_rate": ("percent", "charts.unit_fcr_rate"), "csat_mean": (None, "charts.unit_csat_mean"),
            "csat_top2": ("percent", "charts.unit_csat_top2"),
            "complaint_rate_per_1000": (None, "charts.unit_complaint_rate_per_1000")}


def kpi_axis(kpi: str) -> tuple:
    """(y_format, unit locale key) of a KPI's chart axis; a KPI not listed is a plain number without unit."""
    return KPI_AXIS.get(kpi, (None, ""))


def cjk_rc() -> dict:
    """matplotlib rc settings whose font family list falls back to the installed CJK font (for Chinese labels);
    see :func:`sqc.plotting.spec.font_rc` (an error names the font to install when there is none)."""
    from .spec import font_rc

    return font_rc("zh")


def icon_html(kind: str, code: str, text: str = "", size: int = 18) -> str:
    """A verdict icon as an inline ``<span>`` (``kind`` "variation" or "assurance")."""
    sym, col = (VARIATION_ICONS if kind == "variation" else ASSURANCE_ICONS).get(code, ("–", "#bbbbbb"))
    return (f'<span title="{html.escape(text)}" style="display:inline-block;width:{size}px;height:{size}px;'
            f'line-height:{size}px;border-radius:50%;background:{col};color:white;text-align:center;'
            f'font-size:{int(size * 0.62)}px;font-weight:bold;margin-right:2px">{sym}</span>')


def kpi_small_multiples(scorecard, branch: str = "ALL", *, kpis=None, labels: dict | None = None, ncols: int = 4,
                        title: str | None = None):
    """Small multiples of the KPI control charts of one branch (charts read from ``scorecard.charts``).

    ``labels`` may map kpi → display name. Stage boundaries (limits recalculated) are dash-dot lines marked
    "↻ month"; a provisional assurance (``assurance_basis == "earlier_limits"``) carries a "?" after its icon."""
    import matplotlib.pyplot as plt

    names = labels or {}
    kpis = [k for k in (kpis or scorecard.table["kpi"].unique()) if (branch, k) in scorecard.charts]
    if not kpis:
        fig, ax = plt.subplots(figsize=(4, 1))
        ax.axis("off")
        ax.text(0.5, 0.5, "no charts", ha="center")
        return fig
    ncols = min(ncols, len(kpis))
    nrows = int(np.ceil(len(kpis) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.9 * ncols, 2.1 * nrows), squeeze=False)
    for ax in axes.ravel()[len(kpis):]:
        ax.axis("off")
    tiles = scorecard.tiles(branch)
    for ax, k in zip(axes.ravel(), kpis):
        f = scorecard.charts[(branch, k)].to_frame()
        x = np.arange(len(f))
        row = tiles.loc[k]
        vcol = VARIATION_ICONS.get(row["variation_code"], ("", "#4c72b0"))[1]
        ax.plot(x, f["statistic"], marker="o", ms=2, lw=0.8, color="#4c72b0")
        ax.step(x, f["center"], where="mid", color="k", lw=0.6)
        ax.step(x, f["ucl"], where="mid", color="grey", lw=0.6, ls="--")
        ax.step(x, f["lcl"], where="mid", color="grey", lw=0.6, ls="--")
        sig = f["signal"].to_numpy(dtype=bool)
        ax.scatter(x[sig], f["statistic"].to_numpy()[sig], s=9, color=vcol, zorder=3)
        if np.isfinite(row["target"]):
            ax.axhline(row["target"], color="#d62728", lw=0.8, ls=":")
        # stage boundaries: the limits were recalculated there (scorecard.recalculations says why)
        stage = f["stage"].to_numpy()
        for i in np.flatnonzero(stage[1:] != stage[:-1]) + 1:
            ax.axvline(i - 0.5, color="k", lw=0.7, ls="-.")
            ax.text(i - 0.4, 1.0, f"↻ {f['label'].iloc[i]}", transform=ax.get_xaxis_transform(), fontsize=6,
                    va="top", ha="left")
        vs = VARIATION_ICONS.get(row["variation_code"], ("–",))[0]
        as_ = {"consistently_pass": "✔", "consistently_fail": "✘", "hit_and_miss": "≈"}.get(row["assurance_code"], "–")
        if row.get("assurance_basis") == "earlier_limits":
            as_ += "?"  # provisional: the latest months have left the limits the assurance is judged on
        ax.set_title(f"{names.get(k, k)}  {vs} {as_}", fontsize=8)
        step = max(1, len(f) // 4)
        ax.set_xticks(x[::step], [str(v) for v in f["label"].to_numpy()[::step]], rotation=45, fontsize=6)
        ax.tick_params(axis="y", labelsize=6)
    fig.suptitle(title or f"{branch}: KPI control charts (red dotted = target)", fontsize=9)
    fig.tight_layout()
    return fig


def kpi_panels(scorecard, branch: str = "ALL", *, lang: str = "en", kpis=None, labels: dict | None = None,
               units: dict | None = None) -> dict:
    """One small control-chart description (:class:`sqc.plotting.spec.Chart`) per KPI of a branch, read from
    ``scorecard.charts``: the target line, centre line and limits per stage with the recalculations marked (↻),
    signals in red, percent axes for rates, the unit on the axis (``units``: kpi → text), the two verdict icons in
    the title ("?" after a provisional assurance) and a frame in the variation icon's colour when it is a special
    cause. kpi → Chart; draw them with ``to_bokeh``/``to_matplotlib``."""
    from .spc import control_spec, shared_y_range

    names = labels or {}
    tiles = scorecard.tiles(branch)
    sizes = scorecard.history.loc[scorecard.history["branch"] == branch].set_index(["kpi", "period"])["n"]
    out = {}
    for k in (kpis or scorecard.table["kpi"].unique()):
        if (branch, k) not in scorecard.charts:
            continue
        res = getattr(scorecard.charts[(branch, k)], "location", scorecard.charts[(branch, k)])
        row = tiles.loc[k]
        vs, vcol = VARIATION_ICONS.get(row["variation_code"], ("–", None))
        as_ = ASSURANCE_ICONS.get(row["assurance_code"], ("–",))[0]
        if row.get("assurance_basis") == "earlier_limits":
            as_ += "?"  # provisional: the latest months have left the limits the assurance is judged on
        target = float(row["target"]) if np.isfinite(row["target"]) else None
        n = sizes.reindex([(k, str(lab)) for lab in res.labels]).to_numpy(dtype=float)
        y_format = kpi_axis(k)[0]
        chart = control_spec(res, lang, title=f"{names.get(k, k)}  {vs} {as_}", annotate=0, compact=True,
                             target=target, y_format=y_format, ylabel=(units or {}).get(k), n=n,
                             y_range=shared_y_range([res], [target], y_format=y_format))  # the target in view
        chart.frame = vcol if row["variation_code"] in ("improvement", "concern") else None
        out[k] = chart
    return out


def composite_spec(scorecard, *, period: str | None = None, title: str | None = None, labels: dict | None = None,
                   lang: str = "en"):
    """Composite score per branch for ``period`` (default the report month) with its approximate CI, ranked (best
    at the top), the network value as a vertical line; hover shows the score, interval and rank."""
    from .spec import Chart

    lab = {"x": "composite score (0–100)", "network": "network", "rank": "rank", **(labels or {})}
    per = period or scorecard.period
    c = scorecard.composite.loc[scorecard.composite["period"] == per]
    net = c.loc[c["branch"] == "ALL", "composite"]
    b = c.loc[c["branch"] != "ALL"].sort_values("composite")
    y = np.arange(len(b))
    chart = Chart(title or f"Composite KPI score, {per}", x_label=lab["x"], y_categories=list(b["branch"]),
                  size=(5.5, 0.28 * len(b) + 1.0), lang=lang, legend=len(net) > 0, legend_location="bottom_right")
    chart.whiskers(y, b["ci_low"].to_numpy(dtype=float), b["ci_high"].to_numpy(dtype=float), horizontal=True,
                   colour="grey")
    if len(net):
        chart.rule(float(net.iloc[0]), axis="x", colour="black", dash="dotted", label=lab["network"])
    chart.points(b["composite"].to_numpy(dtype=float), y, colour="#4c72b0", size=4.5,
                 tips={"": list(b["branch"]), lab["x"]: [f"{v:.1f}" for v in b["composite"]],
                       "95%": [f"{lo:.1f}–{hi:.1f}" for lo, hi in zip(b["ci_low"], b["ci_high"])],
                       lab["rank"]: ["" if np.isnan(r) else f"{r:.0f}" for r in b["rank"]]})
    return chart


def composite_figure(scorecard, *, period: str | None = None, title: str | None = None, labels: dict | None = None,
                     lang: str = "en"):
    """Matplotlib drawing of :func:`composite_spec`."""
    from .spec import to_matplotlib

    return to_matplotlib(composite_spec(scorecard, period=period, title=title, labels=labels, lang=lang))


__all__ = ["cjk_rc", "icon_html", "kpi_axis", "kpi_panels", "kpi_small_multiples", "composite_spec", "composite_figure"]
