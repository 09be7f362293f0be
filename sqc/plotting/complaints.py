"""Complaint plots (matplotlib) drawn from sqc.complaints result objects; nothing is recomputed here.

* :func:`pareto_figure` — Pareto bars with the cumulative line, the vital-few cut-off and rate CIs when present.
* :func:`time_to_resolve_figure` — Kaplan–Meier share resolved (1 − S) with log-log bands, median/P90 marks and
  the SLA line.
* :func:`surge_figure` — small multiples of the per-category u charts (rate, centre, limits, signals).
* :func:`recovery_figure` — recovery / SLA / reopen rates with Wilson intervals.
"""
from __future__ import annotations

import numpy as np

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


def pareto_figure(pareto, *, title: str | None = None, labels: dict | None = None, figsize=(7.5, 3.6)):
    """Pareto chart of a :class:`sqc.complaints.ComplaintPareto`.

    ``labels`` may translate ``{"count": ..., "cum": ..., "names": {category: label}}``.
    """
    import matplotlib.pyplot as plt

    lab = {"count": {"count": "complaints", "weighted": "severity-weighted complaints",
                     "rate": f"complaints per {pareto.rate_per or 1:,} customer-months"}[pareto.basis],
           "cum": "cumulative %", "names": {}, **(labels or {})}
    t = pareto.table
    names = [lab["names"].get(str(i), str(i)) for i in t.index]
    x = np.arange(len(t))
    fig, ax = plt.subplots(figsize=figsize)
    colors = [VITAL if v else BAR for v in t["vital_few"]]
    ax.bar(x, t["count"], color=colors)
    if pareto.basis == "rate" and "rate_ci_low" in t:
        ax.errorbar(x, t["count"], yerr=[t["count"] - t["rate_ci_low"], t["rate_ci_high"] - t["count"]],
                    fmt="none", ecolor="k", capsize=3, lw=0.8)
    ax.set_xticks(x, names, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(lab["count"], fontsize=8)
    ax2 = ax.twinx()
    ax2.plot(x, t["cum_percent"], color="k", marker="o", ms=3, lw=1)
    ax2.axhline(100 * pareto.vital_share, color="grey", ls=":", lw=0.8)
    ax2.set_ylim(0, 105)
    ax2.set_ylabel(lab["cum"], fontsize=8)
    for xi, c in zip(x, t["cum_percent"]):
        ax2.annotate(f"{c:.0f}%", (xi, c), textcoords="offset points", xytext=(0, 4), ha="center", fontsize=7)
    lo, hi = pareto.window
    ax.set_title(title or f"Complaints by {pareto.by}, {lo}..{hi} (n = {pareto.n:,})", fontsize=10)
    fig.tight_layout()
    return fig


def time_to_resolve_figure(ttr, *, groups=None, title: str | None = None, labels: dict | None = None,
                           max_days: float | None = None, figsize=(6.5, 3.6)):
    """Share of complaints resolved by day t (1 − KM survival) per group, with pointwise log-log bands.

    Open cases are censored, so the curve is not biased short. The SLA line (when ``ttr.sla_days``) and each
    group's median are marked."""
    import matplotlib.pyplot as plt

    lab = {"x": "days since opened", "y": "share resolved", "sla": "SLA", "median": "median", "names": {},
           **(labels or {})}
    groups = list(ttr.curves) if groups is None else list(groups)
    if max_days is None:
        p90 = ttr.table["p90"].replace([np.inf], np.nan).max()
        max_days = float(np.nanmax([p90 * 1.6 if np.isfinite(p90) else 30.0, (ttr.sla_days or 0) * 1.5, 5.0]))
    # the curves have one step per distinct closing time (grows with the data); drawn on a fixed grid instead,
    # finer than the pixels of the axis, so the figure's size does not depend on the number of complaints
    grid = np.linspace(0.0, max_days, KM_GRID_POINTS)
    fig, ax = plt.subplots(figsize=figsize)
    cmap = plt.get_cmap("tab10")
    for k, g in enumerate(groups):
        c = step_on_grid(ttr.curves[g], grid)
        col = "k" if g == "ALL" else cmap(k % 10)
        name = lab["names"].get(str(g), str(g))
        ax.step(c["days"], 1 - c["survival"], where="post", color=col, lw=1.6 if g == "ALL" else 1.0,
                label=f"{name} (n = {int(ttr.table.loc[g, 'n']):,})")
        ax.fill_between(c["days"], 1 - c["ci_high"].fillna(c["survival"]), 1 - c["ci_low"].fillna(c["survival"]),
                        step="post", color=col, alpha=0.15, lw=0)
        med = ttr.table.loc[g, "median"]
        if np.isfinite(med):
            ax.plot([med], [0.5], marker="v", color=col, ms=5)
    if ttr.sla_days:
        ax.axvline(ttr.sla_days, color=SURGE_RED, ls="--", lw=0.9)
        ax.text(ttr.sla_days, 0.02, f" {lab['sla']} {ttr.sla_days:g} d", color=SURGE_RED, fontsize=7)
    ax.axhline(0.5, color="grey", ls=":", lw=0.6)
    ax.axhline(0.9, color="grey", ls=":", lw=0.6)
    ax.set_xlim(0, max_days)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel(lab["x"], fontsize=8)
    ax.set_ylabel(lab["y"], fontsize=8)
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title(title or "Time to resolve (Kaplan–Meier, open cases censored)", fontsize=10)
    fig.tight_layout()
    return fig


def surge_figure(surges, *, categories=None, title: str | None = None, labels: dict | None = None, ncols: int = 4):
    """Small multiples of the per-category u charts of a :class:`sqc.complaints.SurgeResult` (surging
    categories first, drawn in red)."""
    import matplotlib.pyplot as plt

    lab = {"names": {}, "rate": f"per {surges.rate_per:,} customers", **(labels or {})}
    cats = list(surges.table.index) if categories is None else list(categories)
    ncols = min(ncols, len(cats))
    nrows = int(np.ceil(len(cats) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.6 * ncols, 1.9 * nrows), squeeze=False, sharex=True)
    for ax in axes.ravel()[len(cats):]:
        ax.axis("off")
    for ax, cat in zip(axes.ravel(), cats):
        f = surges.charts[cat].to_frame()
        x = np.arange(len(f))
        surge = bool(surges.table.loc[cat, "surge"])
        ax.plot(x, f["statistic"], marker="o", ms=2.5, lw=0.9, color=SURGE_RED if surge else BAR)
        ax.step(x, f["center"], where="mid", color="k", lw=0.7)
        ax.step(x, f["ucl"], where="mid", color="grey", lw=0.7, ls="--")
        ax.step(x, f["lcl"], where="mid", color="grey", lw=0.7, ls="--")
        sig = f["signal"].to_numpy(dtype=bool)
        ax.scatter(x[sig], f["statistic"].to_numpy()[sig], color=SURGE_RED, s=12, zorder=3)
        base = np.flatnonzero(f["phase"].to_numpy() == "I")
        if base.size:
            ax.axvspan(base[0] - 0.5, base[-1] + 0.5, color="grey", alpha=0.08, lw=0)
        ax.set_title(lab["names"].get(str(cat), str(cat)), fontsize=8, color=SURGE_RED if surge else "k",
                     weight="bold" if surge else None)
        ax.tick_params(labelsize=6)
        step = max(1, len(f) // 4)
        ax.set_xticks(x[::step], [str(v) for v in f["label"].to_numpy()[::step]], rotation=45, fontsize=6)
    fig.suptitle(title or f"Complaints {lab['rate']} by category (u charts; grey band = baseline)", fontsize=9)
    fig.tight_layout()
    return fig


def recovery_figure(recovery, *, title: str | None = None, labels: dict | None = None, figsize=(6.5, 2.8)):
    """Dot-and-interval plot of recovery, SLA and reopen rates per group (Wilson CIs)."""
    import matplotlib.pyplot as plt

    lab = {"metrics": {"recovery_rate": "recovery rate", "sla_compliance": "closed within SLA",
                       "reopen_rate": "reopen rate"}, "names": {}, **(labels or {})}
    t = recovery.table
    metrics = list(dict.fromkeys(t["metric"]))
    fig, axes = plt.subplots(1, len(metrics), figsize=figsize, sharey=True, squeeze=False)
    groups = list(dict.fromkeys(t["group"]))
    y = np.arange(len(groups))[::-1]
    for ax, m in zip(axes[0], metrics):
        sub = t.loc[t["metric"] == m].set_index("group").reindex(groups)
        ax.errorbar(100 * sub["value"], y, xerr=[100 * (sub["value"] - sub["ci_low"]),
                                                 100 * (sub["ci_high"] - sub["value"])],
                    fmt="o", ms=3, color=BAR, ecolor="grey", capsize=2)
        ax.set_title(lab["metrics"].get(m, m), fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_xlabel("%", fontsize=7)
    axes[0][0].set_yticks(y, [lab["names"].get(str(g), str(g)) for g in groups])
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


__all__ = ["pareto_figure", "time_to_resolve_figure", "surge_figure", "recovery_figure"]
