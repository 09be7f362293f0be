"""A report's work in forked processes (``write_report(parallel=True)``): the sections that read only the loaded
tables are computed beside the others, and the languages after the first are rendered beside it. The output equals
the one-after-the-other output, and a section or language that fails (raises, or whose process dies) fails the run
before ``summary.json`` is written, and the pipeline publishes nothing."""
import json
import os
import sys
import types
from pathlib import Path

import nbformat as nbf
import pytest

from sqc.errors import PipelineError
from sqc.report import dashboard

pytestmark = pytest.mark.skipif(not dashboard.can_render_in_parallel(), reason="needs os.fork and two cores")

# the cheaper sections (the SPC small multiples are the slow part of rendering and add nothing here)
AREAS = ["scorecard", "complaints", "interventions", "servqual", "reliability", "audit"]


def _numbers(summary_path):
    """summary.json without what legitimately differs between two runs (clock time, build seconds)."""
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    summary.pop("generated")
    for section in summary["sections"].values():
        section.pop("build_seconds")
    return summary


def test_parallel_languages_equal_sequential(demo_data, tmp_path):
    seq = dashboard.write_report(demo_data, "2026-10", languages=["en", "zh"], output_dir=tmp_path / "seq",
                                 areas=AREAS, parallel=False)
    par = dashboard.write_report(demo_data, "2026-10", languages=["en", "zh"], output_dir=tmp_path / "par",
                                 areas=AREAS, parallel=True)
    assert _numbers(seq["summary"]) == _numbers(par["summary"])
    assert _numbers(par["summary"])["sections"]["scorecard"]["headline"]  # not two empty summaries
    assert [p.name for p in par["dashboards"]] == ["dashboard_en.html", "dashboard_zh.html"]
    for lang in ("en", "zh"):
        s_seq, s_par = seq["sections"][lang], par["sections"][lang]
        assert [s.key for s in s_par] == AREAS
        assert [(s.title, s.notes, s.note_codes) for s in s_par] == [(s.title, s.notes, s.note_codes) for s in s_seq]
        assert [[w.to_dict() for w in s.warnings] for s in s_par] == [[w.to_dict() for w in s.warnings]
                                                                      for s in s_seq]
    # complaints, survey and audit were computed in a child: their results came back whole and linked to this
    # process's context (the page's second language and the summary read them)
    apart = [a for a in AREAS if dashboard._reads_loaded_tables_only(a)]
    assert apart == ["complaints", "servqual", "reliability", "audit"]
    for s in par["sections"]["en"]:
        assert s.result is not None and s.result.context is not None and s.result.key == s.key
    # the first language is drawn here (its pages are there for the run log), the second came back without them
    assert all(s.body is not None for s in par["sections"]["en"])
    assert all(s.body is None for s in par["sections"]["zh"])
    # save_dashboard skips Bokeh's integrity check for speed: it is done here, on the first language's page
    from bokeh.core.validation.check import check_integrity

    page = dashboard.assemble(dashboard.ComputeContext(demo_data, "2026-10", list(demo_data.branches["branch"]))
                              .in_language("en"), par["sections"]["en"], load_summary=demo_data.load_summary())
    doc = dashboard.page_document(page)
    issues = check_integrity([m for root in doc.roots for m in root.references()])
    assert issues.error == [] and issues.warning == []
    # the zh page was written by the child: a whole dashboard in Chinese
    text = (tmp_path / "par" / "dashboard_zh.html").read_text(encoding="utf-8")
    assert text.rstrip().endswith("</html>") and "lang" in text
    assert par["sections"]["zh"][0].title != par["sections"]["en"][0].title


@pytest.fixture()
def planted_section(monkeypatch):
    """A one-number section whose rendering fails as ``$PLANT`` says for the language ``$PLANT_LANG``."""
    import panel as pn

    from sqc.report.context import SectionResult

    module = types.ModuleType("sqc.report.sections.planted")

    def compute(ctx):
        return SectionResult("planted", ctx, headline={"n": 1})

    def render(result, lang):
        if lang == os.environ.get("PLANT_LANG"):
            if os.environ.get("PLANT") == "die":
                os._exit(3)  # the process dies without a word (as under the OOM killer)
            raise RuntimeError(f"planted failure in {lang}")
        return result.to_section(result.context.in_language(lang), f"planted {lang}", pn.pane.Markdown("x"))

    module.compute, module.render = compute, render
    monkeypatch.setitem(sys.modules, "sqc.report.sections.planted", module)
    return module


@pytest.mark.parametrize("how, lang, message", [
    ("raise", "zh", "zh dashboard failed: .*RuntimeError: planted failure in zh"),
    ("die", "zh", r"zh dashboard failed: the process ended without a result \(exit status 3\)"),
    ("raise", "en", "planted failure in en"),  # this process's language fails: the child is stopped, not left
])
def test_a_failing_language_fails_the_report(demo_data, tmp_path, monkeypatch, planted_section, how, lang, message):
    monkeypatch.setenv("PLANT", how)
    monkeypatch.setenv("PLANT_LANG", lang)
    before = _children()  # processes earlier tests started (a browser, a server) are not this test's business
    with pytest.raises(PipelineError, match=message):
        dashboard.write_report(demo_data, "2026-10", languages=["en", "zh"], output_dir=tmp_path, areas=["planted"],
                               parallel=True)
    assert not (tmp_path / "summary.json").exists()
    assert _children() <= before, "every child the report forked was waited for (none left running or a zombie)"


def _children() -> set[int]:
    """This process's child processes, running or not yet waited for (Linux /proc)."""
    out = set()
    for path in Path("/proc/self/task").glob("*/children"):
        out |= {int(pid) for pid in path.read_text().split()}
    return out


def test_child_may_not_query_the_store(demo_data, tmp_path, monkeypatch, planted_section):
    """Rendering lays out what compute produced; a query in a forked child (whose DuckDB threads are gone) is an
    error, not a hang."""
    def render(result, lang):
        if lang == "zh":
            result.context.data.store.table("hotline").count().to_pandas()
        return result.to_section(result.context.in_language(lang), lang, None)

    monkeypatch.setattr(planted_section, "render", render)
    with pytest.raises(PipelineError, match="queried the data while rendering"):
        dashboard.write_report(demo_data, "2026-10", languages=["en", "zh"], output_dir=tmp_path, areas=["planted"],
                               parallel=True)


@pytest.mark.parametrize("how, message", [
    ("raise", "sections planted failed: .*RuntimeError: planted failure in compute"),
    ("die", r"sections planted failed: the process ended without a result \(exit status 4\)"),
    ("query", "a section marked LOADED_TABLES_ONLY queried the data"),
])
def test_a_section_computed_apart_that_fails_fails_the_report(demo_data, tmp_path, monkeypatch, planted_section,
                                                              how, message):
    """A section computed in the forked child (``LOADED_TABLES_ONLY``) fails the run as one computed here would:
    a raise, a dead process, or a query of the store (an error, not a hang), and no child is left behind."""
    def compute(ctx):
        if how == "die":
            os._exit(4)
        if how == "query":
            ctx.data.store.table("hotline").count().to_pandas()
        raise RuntimeError("planted failure in compute")

    monkeypatch.setattr(planted_section, "compute", compute)
    monkeypatch.setattr(planted_section, "LOADED_TABLES_ONLY", True, raising=False)
    before = _children()
    with pytest.raises(PipelineError, match=message):
        dashboard.write_report(demo_data, "2026-10", languages=["en"], output_dir=tmp_path,
                               areas=["interventions", "planted"], parallel=True)
    assert not (tmp_path / "summary.json").exists()
    assert _children() <= before


def test_results_computed_apart_keep_section_order(demo_data):
    run = dashboard.ComputeContext(demo_data, "2026-10", list(demo_data.branches["branch"]))
    areas = ["audit", "interventions", "reliability"]
    par = dashboard.compute_sections(run, areas, parallel=True)
    seq = dashboard.compute_sections(run, areas)
    assert [r.key for r in par] == areas
    assert all(r.context is run for r in par)
    assert [r.headline for r in par] == [r.headline for r in seq]
    assert [[w.to_dict() for w in r.warnings] for r in par] == [[w.to_dict() for w in r.warnings] for r in seq]


PLANTED_NOTEBOOK = """\
import os, sys, types
import panel as pn
from sqc.io import load_network
from sqc.report.context import SectionResult
from sqc.report.dashboard import write_report

module = types.ModuleType("sqc.report.sections.planted")
def compute(ctx):
    return SectionResult("planted", ctx, headline={"n": 1})
def render(result, lang):
    if lang == os.environ.get("PLANT_LANG"):
        raise RuntimeError("planted failure in " + lang)
    print("rendered", lang)
    return result.to_section(result.context.in_language(lang), "planted " + lang, pn.pane.Markdown("x"))
module.compute, module.render = compute, render
sys.modules[module.__name__] = module
write_report(load_network(data_dir), period, languages=languages, output_dir=output_dir, areas=["planted"],
             parallel=True)
"""


def test_pipeline_publishes_nothing_when_a_forked_language_fails(demo_dir, tmp_path, monkeypatch):
    """The fork happens inside the papermill kernel: it works there, and a failing child fails the run."""
    from sqc.pipeline import published_periods, run_report

    nb = nbf.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbf.v4.new_code_cell('period = "2026-10"\ndata_dir = None\nbranches = None\nlanguages = ["en"]\n'
                                     'output_dir = "."', metadata={"tags": ["parameters"]}),
                nbf.v4.new_code_cell(PLANTED_NOTEBOOK)]
    nbf.write(nb, tmp_path / "planted.ipynb")
    reports = tmp_path / "reports"
    monkeypatch.setenv("PLANT_LANG", "zh")
    with pytest.raises(PipelineError, match="zh dashboard failed"):
        run_report("2026-10", data_dir=demo_dir, reports_dir=reports, languages="en,zh",
                   notebook=tmp_path / "planted.ipynb", progress=False)
    assert published_periods(reports) == []
    monkeypatch.delenv("PLANT_LANG")
    result = run_report("2026-10", data_dir=demo_dir, reports_dir=reports, languages="en,zh",
                        notebook=tmp_path / "planted.ipynb", progress=False)
    assert result.status == "published" and published_periods(reports) == ["2026-10"]
    assert {p.name for p in result.dashboards} == {"dashboard_en.html", "dashboard_zh.html"}
    log = json.loads((reports / "2026-10" / "report.ipynb").read_text(encoding="utf-8"))
    printed = "".join("".join(o.get("text", "")) for c in log["cells"] for o in c.get("outputs", []))
    assert "rendered en" in printed and "rendered zh" in printed  # the child's output reaches the run log
