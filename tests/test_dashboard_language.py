"""Both dashboards speak their language and nothing else: no internal identifier (KPI column ids, chart function
names, table and file names) is visible on either page, and the Chinese page shows no English words in its table
headers, axis labels, legends, date ticks, tooltips or tab titles.

The pages are rendered once (module fixture) on the demo data, as ``write_report`` publishes them. What a reader
sees is read back from the saved HTML: Panel stores every pane's HTML and every Bokeh model (axis labels, legend
items, tooltips, tick formats, tab titles) in the document JSON embedded in the page. Figures drawn as images
(matplotlib PNG/SVG) carry no readable text in the page, so their text is recorded as they are drawn.
"""
from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser

import pytest

# what must never reach a reader: KPI column ids (sqc.kpi), chart function names (sqc.spc), table names,
# file names; checked as whole words
INTERNAL_IDS = (
    "service_level", "asa_s", "abandonment_rate", "aht_s", "fcr_rate", "csat_mean", "csat_top2",
    "complaint_rate_per_1000", "p_laney", "u_laney", "laney_p", "laney_u", "p_chart", "u_chart", "xbar_r",
    "kpi_chart", "imr", "interventions table", "audit_visits", "methods.md", ".md", ".csv", ".parquet",
    "hotline table", "complaints table",
)
# single-letter chart codes (``i``, ``u``, ``p``) are internal only as a table cell of their own
CHART_CODES = ("i", "u", "p", "p_laney", "u_laney", "xbar", "np", "c", "mr")
# ASCII words the Chinese page may show: units, standard abbreviations, names of methods and people
ZH_ALLOWED = {
    "CI", "NPS", "SERVQUAL", "KPI", "CSAT", "FCR", "SLA", "AHT", "ASA", "RATER", "EWMA", "CUSUM", "QFD", "HAC",
    "Laney", "Wilson", "Poisson", "Anhøj", "Newey", "West", "Holm", "Welch", "Cronbach", "McDonald", "Kaplan",
    "Meier", "Chase", "Stewart", "Lopez", "Bernal", "Cummins", "Gasparrini", "CFA", "CFI", "RMSEA", "SRMR",
    "TLI", "MDC", "ALL", "SPC", "Bland", "Altman", "ICC", "Krippendorff", "Kappa", "Cohen", "Fleiss", "Weibull",
    "MTBF", "MTTR", "Nelson", "Western", "Electric", "Shewhart", "PZB", "Parasuraman", "Zeithaml", "Berry",
}


class _Text(HTMLParser):
    """Visible text of an HTML fragment (script and style content dropped), and its table headers."""

    def __init__(self):
        super().__init__()
        self.parts, self.headers, self._skip, self._th = [], [], 0, 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        elif tag == "th":
            self._th += 1
        for name, value in attrs:
            if name in ("href", "src") and value and not value.startswith(("data:", "#")):
                self.parts.append(f"[{name}={value}]")
            if name in ("title", "alt") and value:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1
        elif tag == "th":
            self._th -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.parts.append(data.strip())
            if self._th:
                self.headers.append(data.strip())


def _models(obj):
    """Every Bokeh model (``{"type": "object", "name": ..., "attributes": ...}``) in a document JSON."""
    if isinstance(obj, dict):
        if obj.get("type") == "object" and "name" in obj:
            yield obj
        for v in obj.values():
            yield from _models(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _models(v)


def _value(x):
    if isinstance(x, dict) and x.get("type") == "value":
        return x.get("value")
    return x if isinstance(x, str) else None


def visible_text(page: str) -> dict:
    """``{"text": [...], "labels": [...], "formats": [...], "headers": [...]}`` of a saved dashboard: all
    visible text; the short labels (table headers, axis labels, legend items, tooltip names, tab titles); the
    date tick formats."""
    out = {"text": [], "labels": [], "formats": [], "headers": []}
    for m in re.finditer(r'<script type="application/json" id="[^"]*">\s*(.*?)\s*</script>', page, re.S):
        for model in _models(json.loads(m.group(1))):
            name, attrs = model["name"], model.get("attributes", {})
            if name.endswith("HTML") or name.endswith("Markup") or name == "Div":
                parser = _Text()
                parser.feed(html.unescape(html.unescape(attrs.get("text", ""))))
                out["text"] += parser.parts
                out["headers"] += parser.headers
                out["labels"] += parser.headers
                continue
            labels = []
            if name == "Title":
                labels.append(_value(attrs.get("text")))
            if name in ("TabPanel",):
                labels.append(attrs.get("title"))
            if "axis_label" in attrs:
                labels.append(_value(attrs.get("axis_label")))
            if name == "LegendItem":
                labels.append(_value(attrs.get("label")))
            if name == "HoverTool":
                tips = attrs.get("tooltips")
                if isinstance(tips, list):
                    labels += [t[0] for t in tips if isinstance(t, list) and t]
            if name == "FactorRange":
                labels += [f if isinstance(f, str) else " ".join(f) for f in attrs.get("factors", [])]
            if name == "DatetimeTickFormatter":
                for k, v in attrs.items():
                    out["formats"] += v if isinstance(v, list) else [v] if isinstance(v, str) else []
            labels = [x for x in labels if isinstance(x, str) and x.strip()]
            out["labels"] += labels
            out["text"] += labels
    return out
