"""NPS and CSAT charts: the full rating distribution, with the score and its interval in the title (an NPS is
never shown without its distribution; Methods §6.2)."""
from __future__ import annotations

import numpy as np

from .generic import label
from .spec import Chart

BAR_COLOUR = "#1f4e79"


def _distribution_chart(result, lang: str, head: str) -> Chart:
    dist = result.distribution
    if dist is None:  # built from the three counts (nps_from_counts): show those
        import pandas as pd

        dist = pd.Series([result.detractors, result.passives, result.promoters],
                         index=[label(k, lang) for k in ("detractors", "passives", "promoters")])
    cats = [str(i) for i in dist.index]
    chart = Chart(head, x_categories=cats, y_label=label("count", lang), lang=lang)
    counts = dist.to_numpy(dtype=float)
    chart.bars(np.arange(len(cats)), counts, colour=BAR_COLOUR)
    chart.text(np.arange(len(cats)), counts, [f"{100 * c / max(counts.sum(), 1):.0f}%" for c in counts])
    return chart


def nps_spec(result, lang: str = "en") -> Chart:
    """Counts of each 0–10 rating of an :class:`sqc.nps.NPSResult`; the title gives NPS, its interval and n."""
    head = f"{result.chart_title(lang)}: {result.nps:.1f} [{result.ci[0]:.1f}, {result.ci[1]:.1f}], n = {result.n}"
    return _distribution_chart(result, lang, head)


def csat_spec(result, lang: str = "en") -> Chart:
    """Counts of each rating of a :class:`sqc.nps.CSATResult`; the title gives the mean and the top-box share,
    each with its interval, and n."""
    m, t = result.mean, result.top_box
    head = (f"{result.chart_title(lang)}: {m.value:.2f} [{m.ci_low:.2f}, {m.ci_high:.2f}]; "
            f"{100 * t.value:.0f}% [{100 * t.ci_low:.0f}, {100 * t.ci_high:.0f}], n = {result.n}")
    return _distribution_chart(result, lang, head)
