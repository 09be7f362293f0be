"""Remembered Bokeh property defaults (``sqc.plotting.bokeh_defaults``) change nothing in the documents: the
dashboard's sections serialise to the same JSON with and without them, and mutable defaults stay per instance."""
import re

import pytest

from sqc.plotting import bokeh_defaults
from sqc.report import dashboard

# sections with every kind of browser-drawn chart: small multiples with shared tickers and hover tips (scorecard),
# u charts, a Pareto with rotated labels and step curves (complaints), gap bars with whiskers and heat maps
# with colour bars (servqual), an audit heat map and funnel (audit)
AREAS = ["scorecard", "complaints", "servqual", "audit"]


def _document_json(results, lang: str) -> str:
    import panel as pn
    from bokeh.core.json_encoder import serialize_json

    sections = dashboard.render_sections(results, lang)
    doc = dashboard.page_document(pn.Column(*[s.body for s in sections]))
    text = serialize_json(doc.to_json())
    ids: dict[str, str] = {}
    # model ids and Panel's object names ("Column00255") count up within a process: number them by first
    # appearance so two builds compare
    return re.sub(r'"(p\d+|[A-Z][A-Za-z]*\d{5})"', lambda m: ids.setdefault(m.group(0), f'"m{len(ids)}"'), text)


@pytest.fixture(scope="module")
def results(demo_data):
    run = dashboard.ComputeContext(demo_data, "2026-10", list(demo_data.branches["branch"]))
    return dashboard.compute_sections(run, AREAS)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_same_documents_with_and_without(results, lang, monkeypatch):
    from bokeh.core.property import bases

    with monkeypatch.context() as m:
        bokeh_defaults.uninstall()
        m.setattr(bokeh_defaults, "install", lambda: False)  # rendering and saving install it: not this time
        plain_lookup = bases.Property.themed_default
        plain = _document_json(results, lang)
        assert bases.Property.themed_default is plain_lookup  # Bokeh's own lookups were used
    assert bokeh_defaults.install()
    assert bases.Property.themed_default is not plain_lookup
    cached = _document_json(results, lang)
    assert len(plain) > 200_000  # a real page part, not two empty documents
    assert cached == plain


def test_mutable_defaults_stay_per_instance():
    from bokeh.models import ColumnDataSource, Legend, LegendItem, Range1d

    assert bokeh_defaults.install()
    a, b = Legend(), Legend()
    a.items.append(LegendItem(label="x"))
    assert list(b.items) == [] and a.items is not b.items
    s, t = ColumnDataSource(), ColumnDataSource()
    s.data["y"] = [1]
    assert "y" not in t.data
    r = Range1d()
    r.start = 3
    assert Range1d().start == 0  # an immutable default read after another instance changed its own value


def test_install_is_idempotent():
    from bokeh.core.property import bases

    assert bokeh_defaults.install()
    patched = bases.Property.themed_default
    assert bokeh_defaults.install()
    assert bases.Property.themed_default is patched


def test_theme_values_still_apply():
    """A model with theme values reads them (and its defaults again once the theme is removed)."""
    from bokeh.models import Range1d

    assert bokeh_defaults.install()
    r = Range1d()
    assert r.themed_values() is None and r.start == 0
    r.apply_theme({"start": 5})
    assert r.themed_values() == {"start": 5} and r.start == 5
    r.unapply_theme()
    assert r.themed_values() is None and r.start == 0
