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


def internal_ids() -> tuple[str, ...]:
    """The list above plus what sqc itself names: every KPI id of ``sqc.kpi``, every chart function of
    ``sqc.spc`` with an underscore in its name, every table with one, and every table's file name."""
    from sqc import spc, tables
    from sqc.kpi import KPI_DIRECTION, QUANTILE_KPIS

    ids = set(INTERNAL_IDS) | set(KPI_DIRECTION) | {q[0] for q in QUANTILE_KPIS}
    ids |= {name for name in spc.__all__ if "_" in name and name.islower()}
    ids |= {name for name in tables.SCHEMAS if "_" in name}
    ids |= {f for f in tables.TABLE_FILES.values() if "." in f}
    return tuple(sorted(ids))


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


def _figure_texts(fig) -> list[str]:
    """Every visible text of a drawn matplotlib figure: titles, axis labels, tick labels, legends, annotations."""
    from matplotlib.text import Text

    return [t.get_text().strip() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """Both demo dashboards of 2026-10, rendered once: {lang: {"text", "labels", "formats", "headers", "figures"}}."""
    from sqc.io import load_network
    from sqc.report import dashboard, panes
    from sqc.report.dashboard import unpack_page

    figures = {"en": [], "zh": []}
    current = {"lang": None}
    draw, render_sections = panes.render_figure, dashboard.render_sections

    def recording_draw(fig, *args, **kwargs):
        out = draw(fig, *args, **kwargs)  # draws the figure, so tick labels exist
        figures[current["lang"]].extend(_figure_texts(fig))
        return out

    def render_in(results, lang, *args, **kwargs):
        current["lang"] = lang
        return render_sections(results, lang, *args, **kwargs)

    out_dir = tmp_path_factory.mktemp("dashboards")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(panes, "render_figure", recording_draw)
        mp.setattr(dashboard, "render_sections", render_in)
        dashboard.write_report(load_network(), "2026-10", languages=["en", "zh"], output_dir=out_dir)
    result = {}
    for lang in ("en", "zh"):
        seen = visible_text(unpack_page((out_dir / f"dashboard_{lang}.html").read_text(encoding="utf-8")))
        seen["figures"] = figures[lang]
        result[lang] = seen
    return result


def _internal_ids_in(texts: list[str]) -> list[str]:
    found, ids = [], internal_ids()
    for text in texts:
        for ident in ids:
            if re.search(r"(?<![\w])" + re.escape(ident) + r"(?![\w])", text):
                found.append(f"{ident!r} in {text[:120]!r}")
        if text in CHART_CODES:
            found.append(f"chart code {text!r} shown alone")
    return found


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_internal_identifier_is_visible(pages, lang):
    page = pages[lang]
    assert page["figures"], "no figure text was recorded: the recording hook no longer sees the figures"
    assert len(page["text"]) > 200, "the page's visible text was not found in its document JSON"
    found = _internal_ids_in(page["text"] + page["figures"])
    assert not found, f"{lang} page shows internal names:\n" + "\n".join(found[:20])


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_link_that_a_browser_would_resolve_to_a_file_or_host(pages, lang):
    # an offline page cannot follow a relative link (``methods.md`` becomes http://methods.md); link nothing
    links = [t for t in pages[lang]["text"] if t.startswith(("[href=", "[src="))]
    assert not [t for t in links if not t[6:].startswith(("#", "https://"))], links


def _english_words(texts: list[str]) -> list[str]:
    bad = []
    for text in texts:
        # ids the data carries (branch B07, intervention INT-03) are names, not English
        words = [w for w in re.findall(r"[A-Za-z]{3,}", re.sub(r"\b[A-Z]{1,5}-?\d+\b", "", text))
                 if w not in ZH_ALLOWED]
        if words:
            bad.append(f"{words} in {text[:100]!r}")
    return bad


def test_chinese_labels_headers_and_ticks_are_chinese(pages):
    page = pages["zh"]
    assert page["headers"] and page["labels"]
    bad = _english_words(page["labels"] + page["figures"])
    assert not bad, "English on the Chinese page:\n" + "\n".join(sorted(set(bad))[:30])


def test_the_control_test_catches_english(pages):
    """The checks above can fail: the English page has English labels, KPI ids are caught in running text."""
    assert _english_words(pages["en"]["labels"])
    assert _internal_ids_in(["ALL asa_s", "use laney_p()", "see methods.md"]) and _internal_ids_in(["p_laney"])
    assert not _internal_ids_in(["Average speed of answer (s)", "B07", "Laney p′ chart"])


def test_chinese_date_ticks_name_months_in_chinese(pages):
    formats = [f for f in pages["zh"]["formats"] if "%" in f]
    assert formats, "no date axis found on the Chinese page"
    english = [f for f in formats if re.search(r"%[bBaA]", f)]
    assert not english, f"date ticks with English month or day names on the Chinese page: {english}"
    assert any("年" in f or "月" in f for f in formats)


def test_one_display_name_per_kpi(pages):
    """Each KPI's name is defined once (locale/kpi.json) and is the one both pages show."""
    from sqc.kpi import KPI_DIRECTION
    from sqc.report.context import LOCALE_DIR, translate

    names = json.loads((LOCALE_DIR / "kpi.json").read_text(encoding="utf-8"))
    assert set(KPI_DIRECTION) <= set(names), "a KPI of sqc.kpi has no display name"
    for path in LOCALE_DIR.glob("*.json"):
        if path.name == "kpi.json":
            continue
        dup = [k for k in json.loads(path.read_text(encoding="utf-8")) if k.startswith("kpi_") and k[4:] in names]
        assert not dup, f"{path.name} defines KPI names again: {dup}"
    for lang in ("en", "zh"):
        shown = "\n".join(pages[lang]["text"])
        for kpi in ("service_level", "asa_s", "complaint_rate_per_1000"):
            assert translate(f"kpi.{kpi}", lang) in shown
    assert "ASA (s)" not in "\n".join(pages["en"]["text"] + pages["en"]["figures"])


def test_no_locale_text_names_an_internal_identifier():
    """Also the texts the demo month does not show (an empty register, missing data) name no internal id."""
    from sqc.report.context import LOCALE_DIR

    found = []
    for path in sorted(LOCALE_DIR.glob("*.json")):
        for key, entry in json.loads(path.read_text(encoding="utf-8")).items():
            for lang, text in entry.items():
                found += [f"{path.name} {key} [{lang}]: {hit}" for hit in _internal_ids_in([text])
                          if not hit.startswith("chart code")]
    assert not found, "\n".join(found)
