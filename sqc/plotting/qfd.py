"""House of Quality figure (matplotlib) drawn from a :class:`sqc.qfd.HouseOfQuality` result.

The classic layout: customer requirements and their weights on the left, the relationship matrix in the middle
(● strong 9, ○ medium 3, △ weak 1 on a heat-map of the weighted contribution), the roof of HOW × HOW
correlations on top (++ + − −−, trade-offs with both HOWs high-priority in red), and the technical importance
(absolute, relative, rank) under each column. Nothing is recomputed here.
"""
from __future__ import annotations

import numpy as np

SYMBOLS = {9: "●", 3: "○", 1: "△", 5: "◎"}
ROOF_TEXT = {9: "++", 3: "+", -3: "−", -9: "−−"}


def house_of_quality_figure(hoq, *, title: str | None = None, labels: dict | None = None, figsize=None):
    """Draw the house.

    Parameters
    ----------
    hoq : sqc.qfd.HouseOfQuality
    title : str, optional
    labels : dict, optional
        Overrides of the axis texts (``{"weight": "权重", "absolute": "绝对重要度", "relative": "相对重要度",
        "rank": "排名", "requirements": "顾客需求", "contribution": "加权贡献"}``) for a translated figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Polygon, Rectangle

    lab = {"weight": "weight", "absolute": "absolute", "relative": "relative", "rank": "rank",
           "requirements": "customer requirements",
           "contribution": "weighted contribution (weight × relationship)", **(labels or {})}
    R = hoq.relationships.to_numpy(dtype=float)
    whats, hows = list(hoq.relationships.index), list(hoq.relationships.columns)
    m, n = R.shape
    w = hoq.planning["normalized_weight"].to_numpy(dtype=float) if hoq.weights == "normalized" \
        else hoq.planning["importance"].to_numpy(dtype=float)
    contrib = w[:, None] * R
    ti = hoq.technical_importance
    roof_h = n / 2 + 0.3
    if figsize is None:
        figsize = (0.55 * (n + 5.5), 0.55 * (m + 5.5 + roof_h))
    fig, ax = plt.subplots(figsize=figsize)
    left = -4.4
    # relationship matrix: heat-map of weighted contribution with symbols
    vmax = contrib.max() if contrib.max() > 0 else 1.0
    cmap = plt.get_cmap("Blues")
    shade = (0.08, 0.68)  # the part of the colour map the cells use: light enough to read the symbols on
    for i in range(m):
        y = m - 1 - i
        ax.add_patch(Rectangle((left, y), 3.4, 1, fill=False, lw=0.6))
        ax.text(left + 0.08, y + 0.5, str(whats[i]), va="center", ha="left", fontsize=8)
        ax.add_patch(Rectangle((-1, y), 1, 1, fill=False, lw=0.6))
        ax.text(-0.5, y + 0.5, f"{w[i]:.3g}", va="center", ha="center", fontsize=8)
        for j in range(n):
            ax.add_patch(Rectangle((j, y), 1, 1, lw=0.6, edgecolor="grey",
                                   facecolor=cmap(shade[0] + (shade[1] - shade[0]) * contrib[i, j] / vmax)))
            if R[i, j]:
                ax.text(j + 0.5, y + 0.5, SYMBOLS.get(int(R[i, j]), f"{R[i, j]:g}"), ha="center", va="center",
                        fontsize=11)
    # column headers (HOWs), rotated
    for j, h in enumerate(hows):
        ax.text(j + 0.5, m + 0.1, str(h), rotation=60, ha="left", va="bottom", fontsize=8)
    ax.text(left + 0.08, m + 0.1, lab["requirements"], fontsize=8, weight="bold", va="bottom")
    ax.text(-0.5, m + 0.1, lab["weight"], fontsize=8, weight="bold", rotation=60, ha="left", va="bottom")
    # roof: a triangle of diamonds above the header band
    base = m + 0.1 + 0.12 * max(len(str(h)) for h in hows)
    ax.add_patch(Polygon([[0, base], [n, base], [n / 2, base + n / 2]], closed=True, fill=False, lw=0.8))
    roof = hoq.roof
    high = set()
    if len(hoq.tradeoffs):
        for _, t in hoq.tradeoffs.loc[hoq.tradeoffs["both_high_priority"]].iterrows():
            high.add((t["how_1"], t["how_2"]))
    if roof is not None:
        for a in range(n):
            for b in range(a + 1, n):
                code = int(roof.iat[a, b])
                if code == 0:
                    continue
                x = (a + b + 1) / 2
                y = base + (b - a) / 2
                red = (hows[a], hows[b]) in high
                ax.text(x, y, ROOF_TEXT.get(code, str(code)), ha="center", va="center", fontsize=9,
                        color="#c0392b" if red or code < 0 else "#1e6f3f", weight="bold" if red else None)
    # technical importance rows
    rows = [("absolute", lambda v: f"{v:.3g}"), ("relative", lambda v: f"{100 * v:.1f}%"),
            ("rank", lambda v: f"{int(v)}")]
    for k, (col, fmt) in enumerate(rows):
        y = -1 - k
        ax.add_patch(Rectangle((left, y), 4.4, 1, fill=False, lw=0.6))
        ax.text(left + 0.08, y + 0.5, lab[col], va="center", fontsize=8, weight="bold")
        for j, h in enumerate(hows):
            v = ti.loc[h, col]
            top = col == "rank" and int(v) == 1
            ax.add_patch(Rectangle((j, y), 1, 1, fill=top, facecolor="#fde9a9" if top else None, lw=0.6,
                                   edgecolor="grey"))
            ax.text(j + 0.5, y + 0.5, fmt(v), ha="center", va="center", fontsize=8)
    ax.set_xlim(left - 0.1, n + 0.6)
    ax.set_ylim(-1 - len(rows) - 0.1, base + n / 2 + 0.3)
    ax.set_aspect("equal")
    ax.axis("off")
    norm = hoq.normalization or "no"
    ax.set_title(title or f"House of Quality ({norm} normalisation; ● 9 ○ 3 △ 1)", fontsize=10)
    # the colour legend of the matrix shading
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import ListedColormap, Normalize

    shades = ListedColormap(cmap(np.linspace(shade[0], shade[1], 256)))
    bar = fig.colorbar(ScalarMappable(Normalize(0.0, vmax), shades), ax=ax, shrink=0.4, pad=0.02)
    bar.set_label(lab["contribution"], fontsize=8)
    bar.ax.tick_params(labelsize=7)
    fig.tight_layout()
    return fig


def technical_importance_bars(hoq, *, title: str | None = None):
    """Horizontal bars of relative technical importance, highest first, with the 1-3-5 and Lyman variants as
    markers (the rank-sensitivity check)."""
    import matplotlib.pyplot as plt

    s = hoq.sensitivity.sort_values("rank_base", ascending=False)
    fig, ax = plt.subplots(figsize=(6, 0.45 * len(s) + 1.2))
    y = np.arange(len(s))
    ax.barh(y, 100 * s["relative_base"], color="#4c72b0", label="as specified")
    ax.scatter(100 * s["relative_scale_1_3_5"], y, marker="D", color="#dd8452", zorder=3, label="1-3-5 scale")
    ax.scatter(100 * s["relative_lyman"], y, marker="|", s=200, color="k", zorder=3, label="Lyman")
    ax.set_yticks(y, list(s.index))
    ax.set_xlabel("relative technical importance (%)")
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(title or "Technical importance and rank sensitivity", fontsize=10)
    fig.tight_layout()
    return fig


__all__ = ["house_of_quality_figure", "technical_importance_bars"]
