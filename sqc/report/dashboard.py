"""Assemble the monthly dashboard from the sections and save it as one offline HTML file.

The page: a header (period, branches, language); the summary (``sqc.report.summary``: the network's KPIs and every
branch KPI with a signal, each with n, 95% interval, target, the variation and assurance icons and an action)
beside "needs action" (at most 7 findings of the sections, ranked by severity and effect, one per subject, in a
manager's words; every finding in full behind a "details" toggle); one tab per section; a data-quality panel
(rows read/kept/excluded per table, every warning raised); and a footer with the code version and the input
fingerprint. The markup is in ``sqc/report/templates`` (Jinja2, autoescaped), the styles in
``sqc/report/assets/dashboard.css``. ``save_dashboard`` inlines every resource and then
checks the file: a saved dashboard that would fetch anything from the network is an error, not a warning.
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import gc
import html
import importlib
import io
import json
import math
import os
import re
import signal
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterable, MutableMapping

import numpy as np
import pandas as pd

from ..errors import PipelineError
from ..plotting import bokeh_defaults
from .context import ComputeContext, ReportContext, Section, SectionResult, translate
from .templates import render as render_template, stylesheet

SECTION_ORDER = ("scorecard", "spc", "complaints", "interventions", "servqual", "reliability", "audit")
_LEGACY_BUILD = "_build"  # SectionResult.values key of a section module that only has build(ctx)

CSS = stylesheet("dashboard.css")  # the markup lives in sqc/report/templates, its styles in assets/dashboard.css
# Print / "Save as PDF" of the saved page (document level: @page is ignored inside the panes' shadow roots). The
# current tab is printed below the header and the notes, scaled to the page width; landscape fits the widest figure.
PRINT_CSS = """<style>
@page { size: A4 landscape; margin: 10mm; }
@media print {
  html, body { width: auto !important; height: auto !important; overflow: visible !important; }
  img { max-width: 100% !important; height: auto !important; }
}
</style>"""

# Anything the browser would fetch on load: <script src>, <link href>, CSS @import/url() with a remote address,
# and Bokeh ImportedStyleSheet models ("url": "https://..."). URLs that only sit inside library code paths we never
# trigger (MathJax for LaTeX, Tabler icon fonts) are not fetches; the browser test blocks the network to be sure.
_REMOTE_RESOURCE = re.compile(
    r"""(<script[^>]+src\s*=\s*["']\s*(?:https?:)?//[^"']*|<link[^>]+href\s*=\s*["']\s*(?:https?:)?//[^"']*|"""
    r"""@import\s+(?:url\()?\s*["']?\s*(?:https?:)?//[^"')\s]*|url\(\s*["']?\s*(?:https?:)?//[^"')\s]*|"""
    r"""\\?"url\\?"\s*:\s*\\?"https?://[^"\\]*)""", re.IGNORECASE)
_PANEL_CDN = re.compile(r"https://cdn\.holoviz\.org/panel/[0-9][^/]*/dist/([A-Za-z0-9_./-]+?)(\?v=[0-9.a-z]+)?(?=[\"'\\\s)])")
_MIME = {".css": "text/css", ".png": "image/png", ".ico": "image/x-icon", ".svg": "image/svg+xml",
         ".woff2": "font/woff2", ".woff": "font/woff", ".js": "text/javascript"}


def inline_panel_cdn(html_text: str) -> str:
    """Replace Panel's CDN references (theme and component stylesheets, icons) with ``data:`` URIs built from
    the locally installed Panel, so the page needs no network. Unknown files raise rather than stay remote."""
    import base64

    import panel

    dist = Path(panel.__file__).with_name("dist")
    cache: dict[str, str] = {}

    def replace(match: re.Match) -> str:
        rel = match.group(1)
        if rel not in cache:
            local = dist / rel
            if not local.is_file():
                raise PipelineError(f"dashboard references Panel resource {rel!r} that is not installed locally")
            data = local.read_bytes()
            if local.suffix == ".css" and find_remote_resources(data.decode("utf-8", "replace")):
                raise PipelineError(f"Panel stylesheet {rel} itself loads remote resources")
            cache[rel] = f"data:{_MIME.get(local.suffix, 'application/octet-stream')};base64," + \
                base64.b64encode(data).decode("ascii")
        return cache[rel]

    return _PANEL_CDN.sub(replace, html_text)


def available_sections(areas: Iterable[str] | None = None) -> list[str]:
    """The section modules present in ``sqc.report.sections`` among ``areas`` (default: all, in order)."""
    out = []
    for area in (areas or SECTION_ORDER):
        try:
            importlib.import_module(f"sqc.report.sections.{area}")
        except ModuleNotFoundError as exc:
            if exc.name == f"sqc.report.sections.{area}":
                continue
            raise
        out.append(area)
    return out


def _section_module(area: str):
    return importlib.import_module(f"sqc.report.sections.{area}")


def _compute_one(ctx: ComputeContext, area: str) -> SectionResult:
    module = _section_module(area)
    if not hasattr(module, "compute"):
        return SectionResult(key=area, context=ctx, values={_LEGACY_BUILD: module.build})
    started = time.perf_counter()
    try:
        result = module.compute(ctx)
    except Exception as exc:
        raise PipelineError(f"dashboard section {area!r} failed for {ctx.period}: {type(exc).__name__}: {exc}") \
            from exc
    if not isinstance(result, SectionResult):
        raise PipelineError(f"dashboard section {area!r} computed {type(result).__name__}, not a SectionResult")
    result.seconds = time.perf_counter() - started
    return result


def _reads_loaded_tables_only(area: str) -> bool:
    """Whether the section declares (``LOADED_TABLES_ONLY = True``) that its ``compute`` reads only the tables
    loaded in memory, never the store: it can then be computed in a forked process."""
    return bool(getattr(_section_module(area), "LOADED_TABLES_ONLY", False))


def compute_sections(ctx: ComputeContext, areas: Iterable[str] | None = None, *, parallel: bool = False,
                     while_waiting: Callable[[], Any] | None = None) -> list[SectionResult]:
    """Call every section's ``compute(ctx)`` once (statistics, headline numbers, warnings; no language).

    A section module that only has the older ``build(ctx)`` gets a placeholder result and is built per language by
    :func:`render_sections`. A section that fails fails the report (never published half-done).

    With ``parallel=True`` (and :func:`can_render_in_parallel`), the sections that read only the loaded tables
    (``LOADED_TABLES_ONLY``: complaints, survey and audit) are computed in a forked process while this one
    computes those that query the store; the results are the same objects as computed in turn, in section
    order. ``while_waiting`` is called here after this process's own sections, before it waits for the others
    (the report imports its rendering libraries then)."""
    names = available_sections(areas)
    apart = [a for a in names if _reads_loaded_tables_only(a)] if parallel and can_render_in_parallel() else []
    if len(apart) == len(names):  # nothing left for this process: no point in a second one
        apart = []
    worker = _ForkedWork(f"sections {', '.join(apart)}", functools.partial(_computed_apart, ctx, apart),
                         forbidden="a section marked LOADED_TABLES_ONLY queried the data; remove the mark or read "
                                   "only ctx.data's loaded tables in its compute(ctx)") if apart else None
    try:
        here = {a: _compute_one(ctx, a) for a in names if a not in apart}
        if while_waiting is not None:
            while_waiting()
        if worker is not None:
            here.update({r.key: dataclasses.replace(r, context=ctx) for r in worker.result()})
    finally:
        if worker is not None:
            worker.stop()
    return [here[a] for a in names]


def _computed_apart(ctx: ComputeContext, areas: list[str]) -> list[SectionResult]:
    """In a forked child: compute ``areas`` and return them without their context (the parent's is the same)."""
    return [dataclasses.replace(_compute_one(ctx, a), context=None) for a in areas]


def render_sections(results: list[SectionResult], lang: str) -> list[Section]:
    """Call every section's ``render(result, lang)``: the page content of one language from computed results."""
    bokeh_defaults.install()  # the same charts, built faster (sqc.plotting.bokeh_defaults)
    sections = []
    for result in results:
        area = result.key
        started = time.perf_counter()
        try:
            if _LEGACY_BUILD in result.values:
                section = result.values[_LEGACY_BUILD](result.context.in_language(lang))
            else:
                section = _section_module(area).render(result, lang)
        except Exception as exc:
            raise PipelineError(f"dashboard section {area!r} failed for {result.context.period} ({lang}): "
                                f"{type(exc).__name__}: {exc}") from exc
        if not isinstance(section, Section):
            raise PipelineError(f"dashboard section {area!r} returned {type(section).__name__}, not a Section")
        section.seconds = round(result.seconds + time.perf_counter() - started, 2)
        sections.append(section)
    return sections


def build_sections(ctx: ReportContext, areas: Iterable[str] | None = None) -> list[Section]:
    """The sections of one language: ``compute`` then ``render`` (for callers that want a single page)."""
    return render_sections(compute_sections(ctx, areas), ctx.lang)


_SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}


def _note_markup(note: str):
    """A note escaped, keeping the one piece of markup sections use: **bold**."""
    from markupsafe import Markup

    return Markup(re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", html.escape(note)))


def _warnings_html(ctx: ReportContext, sections: list[Section], load_summary: pd.DataFrame | None) -> str:
    ordered = sorted(((s, w) for s in sections for w in s.warnings),
                     key=lambda sw: _SEVERITY_ORDER.get(sw[1].severity, 3))  # stable: section order kept within
    warning_rows = [{"section": s.title, "code": w.code, "severity": w.severity,
                     "severity_text": ctx.t("report.severity_" + w.severity),
                     "subject": ctx.display_names(w.subject, subject=True),
                     "message": ctx.display_names(w.text(ctx.lang))} for s, w in ordered]
    load_rows = []
    if load_summary is not None and not load_summary.empty:
        def cell(r, c):
            if c == "table":  # the table's name for readers, not its file or column name
                return ctx.t(f"report.table_{r[c]}") if translate(f"report.table_{r[c]}") != f"table_{r[c]}" else str(r[c])
            return f"{r[c]:,}" if isinstance(r[c], (int, np.integer)) else str(r[c])

        cols = ("table", "rows_read", "rows_kept", "excluded", "reasons")
        load_rows = [[cell(r, c) for c in cols] for _, r in load_summary.iterrows()]
    return render_template(
        "warnings.html", load_rows=load_rows, load_intro=ctx.t("report.load_summary"),
        load_columns=[ctx.t("report." + k) for k in ("col_table", "col_rows_read", "col_rows_kept", "col_excluded",
                                                      "col_reasons")],
        warning_rows=warning_rows, no_warnings=ctx.t("report.no_warnings"),
        warning_columns=[ctx.t("report." + k) for k in ("col_section", "col_code", "col_severity", "col_subject",
                                                         "col_message")])


def summary_html(ctx: ReportContext, sections: list[Section]) -> str:
    """The top of the page: the summary table (network KPIs, then branch KPIs with a signal, each with an action)
    and "needs action" (at most 7 items in a manager's words), every finding in full behind a details toggle."""
    from markupsafe import Markup

    from ..plotting.scorecard import icon_html
    from .sections.scorecard import branch_label, fmt_kpi_value
    from .summary import ACTIONS, action_items, findings, severity_counts, summary_rows

    rows = []
    scorecard = next((s.result.values.get("scorecard") for s in sections
                      if s.key == "scorecard" and s.result is not None), None)
    if scorecard is not None:
        table = scorecard.table
        words = table.set_index(["branch", "kpi"])[["variation", "variation_zh", "assurance", "assurance_zh"]]
        first_branch = True
        for r in summary_rows(table).itertuples():
            w = words.loc[(r.branch, r.kpi)]
            zh = ctx.lang == "zh"
            provisional = r.assurance_basis == "earlier_limits"
            assurance = w["assurance_zh" if zh else "assurance"]
            if provisional:
                assurance = f"{assurance} {ctx.t('summary.provisional')}"
            n = "—" if pd.isna(r.n) else f"{int(r.n):,}"
            rows.append({
                "network": r.branch == "ALL", "first_branch": r.branch != "ALL" and first_branch,
                "where": ctx.t("summary.network") if r.branch == "ALL" else branch_label(ctx, r.branch),
                "kpi": ctx.t(f"kpi.{r.kpi}"), "value": fmt_kpi_value(ctx, r.kpi, r.value),
                "n_ci": ctx.t("summary.n_ci", n=n, lo=fmt_kpi_value(ctx, r.kpi, r.ci_low),
                              hi=fmt_kpi_value(ctx, r.kpi, r.ci_high)),
                "target": fmt_kpi_value(ctx, r.kpi, r.target),
                "variation_icon": Markup(icon_html("variation", r.variation_code, w["variation_zh" if zh else "variation"], 16)),
                "assurance_icon": Markup(icon_html("assurance", r.assurance_code, assurance, 16)),
                "provisional": provisional, "action": r.action, "action_text": ctx.t(f"summary.action_{r.action}"),
                "action_why": ctx.t(f"summary.action_{r.action}_why"), "branch": r.branch})
            first_branch = first_branch and r.branch == "ALL"
        for i, row in enumerate(rows):  # one "where" cell per run of rows of the same branch
            same = i > 0 and rows[i - 1]["branch"] == row["branch"]
            row["where_span"] = 0 if same else next((j for j, r in enumerate(rows[i:]) if r["branch"] != row["branch"]),
                                                    len(rows) - i)
    used = list(dict.fromkeys(r["action"] for r in rows))
    legend = [{"code": a, "text": ctx.t(f"summary.action_{a}"), "why": ctx.t(f"summary.action_{a}_why")}
              for a in ACTIONS if a in used]
    found = findings(s.result for s in sections if s.result is not None)
    items = action_items(found)
    needing = sum(n.severity != "info" for _, n in found)
    actions = [{"severity": a.severity, "severity_text": ctx.t(f"report.severity_{a.severity}"),
                "text": ctx.note_text(a.note, plain=True)} for a in items]
    details = [{"title": s.title, "notes": [{"severity": n.severity, "text": _note_markup(ctx.note_text(n))}
                                            for n in s.result.notes]}
               for s in sections if s.result is not None and s.result.notes]
    details += [{"title": s.title, "notes": [{"severity": "info", "text": _note_markup(t)} for t in s.notes]}
                for s in sections if s.result is None and s.notes]
    counts = severity_counts(w for s in sections for w in s.warnings)
    n_more = len(found) - len(items)
    return render_template(
        "summary.html", title=ctx.t("summary.title", period=ctx.fmt_period(ctx.period)),
        intro=ctx.t("summary.intro"),
        columns=[ctx.t(f"summary.col_{c}") for c in ("where", "kpi", "value", "target", "variation", "assurance",
                                                     "action")],
        rows=rows, legend=legend, branch_heading=ctx.t("summary.branch_rows"), provisional=ctx.t("summary.provisional"),
        needs_action=ctx.t("summary.needs_action"), actions=actions, no_actions=ctx.t("summary.no_actions"),
        more=ctx.t("summary.more_actions", n=n_more) if n_more > 0 else "",
        warnings_line=ctx.t("summary.warnings_line", tab=ctx.t("report.data_quality"), **counts),
        details_label=ctx.t("summary.details"), details=details)


def assemble(ctx: ReportContext, sections: list[Section], *, load_summary: pd.DataFrame | None = None,
             code_version: str = "", fingerprint: str = ""):
    """Lay the sections out as one Panel page (no template: templates pull CDN resources)."""
    import panel as pn

    n_all = len(ctx.data.branches) if "branches" in getattr(ctx.data, "tables", {}) else len(ctx.branches)
    branch_text = (ctx.t("report.all_branches", n=n_all) if len(ctx.branches) == n_all
                   else ", ".join(ctx.branches))
    header = pn.pane.HTML(render_template(
        "header.html", title=ctx.t("report.title"), period=ctx.fmt_period(ctx.period),
        branches_label=ctx.t("report.branches"), branches=branch_text, generated_label=ctx.t("report.generated"),
        generated=dt.datetime.now().strftime("%Y-%m-%d %H:%M")), sizing_mode="stretch_width", stylesheets=[CSS])
    top = pn.pane.HTML(summary_html(ctx, sections), sizing_mode="stretch_width", stylesheets=[CSS])
    quality = pn.Column(pn.pane.HTML(_warnings_html(ctx, sections, load_summary), sizing_mode="stretch_width",
                                     stylesheets=[CSS]), sizing_mode="stretch_width")
    tabs = pn.Tabs(*[(s.title, s.body) for s in sections], (ctx.t("report.data_quality"), quality),
                   dynamic=False, sizing_mode="stretch_width")
    footer = pn.pane.HTML(render_template("footer.html", text=ctx.t("report.footer", code=code_version,
                                                                     fp=fingerprint[:12])),
                          sizing_mode="stretch_width", stylesheets=[CSS])
    return pn.Column(header, top, tabs, footer, sizing_mode="stretch_width", stylesheets=[CSS],
                     styles={"max-width": "1400px", "margin": "0 auto"})


def find_remote_resources(html_text: str) -> list[str]:
    """Every place in a saved page that would make the browser fetch something from the network."""
    return [m.group(0) for m in _REMOTE_RESOURCE.finditer(html_text)]


def page_document(page):
    """The Bokeh document of a Panel page, built once (the page's models, as ``page.save`` would build them)."""
    from bokeh.document import Document
    from panel.io.model import add_to_doc
    from pyviz_comms import Comm

    bokeh_defaults.install()
    doc = Document()
    add_to_doc(page.get_root(doc, Comm()), doc, True)
    return doc


def bokeh_components(page) -> list[str]:
    """The BokehJS bundles the models of ``page`` (a Panel page or its Bokeh document) need: ``bokeh``,
    ``bokeh-widgets`` and ``bokeh-tables`` always (Panel's bundle imports widget and table modules when it loads),
    ``bokeh-gl`` only for a WebGL plot. Panel's ``save`` inlines all of them whatever the page holds."""
    from bokeh.document import Document
    from bokeh.models import Plot

    doc = page if isinstance(page, Document) else page_document(page)
    components = ["bokeh", "bokeh-widgets", "bokeh-tables"]
    if any(isinstance(m, Plot) and m.output_backend == "webgl" for m in doc.models):
        components.append("bokeh-gl")
    return components


# Scripts and the page's document data this large are stored gzip-compressed (base64) and unpacked by the
# browser's DecompressionStream: BokehJS and Panel's bundle are ~2.4 MB as text, ~0.85 MB packed; the document
# JSON of ~100 browser-drawn charts ~1.3 MB, ~0.2 MB packed. :func:`unpack_page` gives the readable file back.
_PACK_MIN_CHARS = 20_000
_INLINE_SCRIPT = re.compile(r'<script(?: type="text/javascript")?>(.*?)</script>', re.S)
_DOCUMENT_JSON = re.compile(r'<script type="application/json" id="([^"]+)">(.*?)</script>', re.S)
_PACKED_JSON = re.compile(r'<script type="application/json" id="([^"]+)" data-encoding="gzip-base64">(.*?)</script>',
                          re.S)
_PACKED_SCRIPT = re.compile(r'<script type="text/x-sqc-deferred"( data-encoding="gzip-base64")?>(.*?)</script>', re.S)
_DEFERRED_TYPE = "text/x-sqc-deferred"
_LOADER = """<script type="text/javascript">
(async () => {
  // unpack the page's document data, then run its scripts in document order (large ones are gzip + base64)
  if (typeof DecompressionStream === "undefined") {
    document.body.insertAdjacentHTML("afterbegin", "<p>This report needs a current browser (Chrome/Edge 80+, Firefox 113+, Safari 16.4+).</p>");
    return;
  }
  const gunzip = async (text) => {
    const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
    return await new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"))).text();
  };
  for (const el of document.querySelectorAll('script[type="application/json"][data-encoding="gzip-base64"]')) {
    el.textContent = await gunzip(el.textContent);
    el.removeAttribute("data-encoding");
  }
  for (const el of document.querySelectorAll('script[type="%(type)s"]')) {
    const script = document.createElement("script");
    script.text = el.dataset.encoding === "gzip-base64" ? await gunzip(el.textContent) : el.textContent;
    document.head.appendChild(script);
  }
})();
</script>""" % {"type": _DEFERRED_TYPE}


def _gzip_base64(text: str) -> str:
    import base64
    import gzip

    return base64.b64encode(gzip.compress(text.encode("utf-8"), 9, mtime=0)).decode("ascii")


def _gunzip_base64(text: str) -> str:
    import base64
    import gzip

    return gzip.decompress(base64.b64decode(text)).decode("utf-8")


def pack_scripts(html_text: str) -> str:
    """Store the page's inline scripts for the loader appended at the end of the body: large ones gzip-compressed
    and base64-encoded, small ones as they are (so they still run after the libraries, in order); a large
    document JSON is compressed the same way and unpacked by the loader before any script runs."""
    def replace(match: re.Match) -> str:
        code = match.group(1)
        if len(code) < _PACK_MIN_CHARS:
            return f'<script type="{_DEFERRED_TYPE}">{code}</script>'
        return f'<script type="{_DEFERRED_TYPE}" data-encoding="gzip-base64">{_gzip_base64(code)}</script>'

    def replace_json(match: re.Match) -> str:
        ident, data = match.group(1), match.group(2)
        if len(data) < _PACK_MIN_CHARS:
            return match.group(0)
        return f'<script type="application/json" id="{ident}" data-encoding="gzip-base64">{_gzip_base64(data)}</script>'

    text, n = _INLINE_SCRIPT.subn(replace, html_text)
    if n == 0 or "</body>" not in text:
        raise PipelineError("the saved dashboard has no inline scripts or no </body>; Panel's page layout changed")
    text = _DOCUMENT_JSON.sub(replace_json, text)
    head, _, tail = text.rpartition("</body>")
    return head + _LOADER + "</body>" + tail


def unpack_page(html_text: str) -> str:
    """A saved dashboard with its packed document data and scripts decompressed, as readable text (for checks
    and for anyone reading the file: the browser does the same on load)."""
    text = _PACKED_JSON.sub(lambda m: f'<script type="application/json" id="{m.group(1)}">'
                                      f'{_gunzip_base64(m.group(2))}</script>', html_text)
    return _PACKED_SCRIPT.sub(lambda m: f'<script type="{_DEFERRED_TYPE}">'
                                        f'{_gunzip_base64(m.group(2)) if m.group(1) else m.group(2)}</script>', text)


@contextlib.contextmanager
def _without_bokeh_validation():
    """Skip Bokeh's model integrity check while saving: it walks every model of the page once more (about a fifth
    of the save) to log developer warnings. The test suite checks the dashboards' documents instead
    (tests/test_report_parallel.py)."""
    from bokeh.settings import settings

    setting = settings.perform_document_validation
    previous = setting._user_value  # a value the user set (BOKEH_VALIDATE_DOC is read when none is)
    setting.set_value(False)
    try:
        yield
    finally:
        setting._user_value = previous


def save_dashboard(page, path: str | Path, *, title: str = "sqc") -> Path:
    """Save a Panel page as one self-contained HTML file and verify it makes no network request.

    Only the BokehJS bundles the page uses are inlined (:func:`bokeh_components`), the large library scripts
    are stored compressed (:func:`pack_scripts`), and a print stylesheet (:data:`PRINT_CSS`) is added."""
    from bokeh.resources import Resources

    from panel.io.save import save

    path = Path(path)
    # the page's models are built once, for the bundle choice and the file (embed=False: the page has no widgets
    # whose states need pre-rendering; Tabs switch client-side)
    doc = page_document(page)
    with _without_bokeh_validation():
        save(doc, str(path), resources=Resources(mode="inline", components=bokeh_components(doc)), title=title)
    text = inline_panel_cdn(path.read_text(encoding="utf-8"))
    # checked before packing: compressed scripts could hide an address
    remote = find_remote_resources(text)
    if remote:
        raise PipelineError(f"the saved dashboard {path} would load {len(remote)} resource(s) from the network "
                            f"(first: {remote[0][:120]!r}); it must work offline")
    # after the title, before the first script (library code contains the string "</head>")
    head, sep, tail = text.partition("</title>")
    if not sep or "<script" in head:
        raise PipelineError(f"the saved dashboard {path} has no <title> before its scripts; Panel's page layout changed")
    path.write_text(pack_scripts(head + sep + PRINT_CSS + tail), encoding="utf-8")
    return path


def _jsonable(obj: Any):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        f = float(obj)
        return None if math.isnan(f) or math.isinf(f) else f
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, (pd.Timestamp, dt.date, dt.datetime)):
        return obj.isoformat()
    if obj is pd.NA or obj is None:
        return None
    return obj


def _summary_actions(ctx: ReportContext, sections: list[Section]) -> dict:
    """``actions``: the "needs action" items in order (codes, parameters and the text in each language, for the
    index page); ``warning_counts``: warnings by severity."""
    from .summary import action_items, findings, severity_counts

    items = action_items(findings(s.result for s in sections if s.result is not None))
    langs = {lang: ctx.in_language(lang) for lang in ("en", "zh")}
    return {"actions": [dict(a.to_dict(), text={lang: c.note_text(a.note, plain=True) for lang, c in langs.items()})
                        for a in items],
            "warning_counts": severity_counts(w for s in sections for w in s.warnings)}


def summary_dict(ctx: ReportContext, sections: list[Section], *, load_summary: pd.DataFrame | None = None,
                 fingerprint: str = "") -> dict:
    """The machine-readable summary of one report (headline numbers with n and CI, warnings, notes)."""
    return _jsonable({
        "period": ctx.period, "branches": ctx.branches, "input_fingerprint": fingerprint,
        "generated": dt.datetime.now().isoformat(timespec="seconds"),
        "sections": {s.key: {"title": s.title, "headline": s.headline, "build_seconds": s.seconds} for s in sections},
        "notes": {s.key: s.notes for s in sections},
        "note_codes": {s.key: s.note_codes for s in sections},
        "warnings": [dict(w.to_dict(), section=s.key) for s in sections for w in s.warnings],
        **_summary_actions(ctx, sections),
        "load": [] if load_summary is None else load_summary.to_dict(orient="records"),
    })


def _render_and_save(results: list[SectionResult], run: ComputeContext, lang: str, *, output_dir: Path,
                     load_summary, version: str, fingerprint: str) -> tuple[Path, list[Section]]:
    """One language's dashboard from the computed results: render, assemble, save."""
    sections = render_sections(results, lang)
    page = assemble(run.in_language(lang), sections, load_summary=load_summary, code_version=version,
                    fingerprint=fingerprint)
    path = save_dashboard(page, output_dir / f"dashboard_{lang}.html",
                          title=f"{translate('report.title', lang)} {run.period}")
    return path, sections


def _without_bodies(sections: list[Section]) -> list[Section]:
    """The sections without their page content (Panel objects stay in the process that drew them) and without the
    computed results they were rendered from (the parent has those: :func:`_with_results`)."""
    return [dataclasses.replace(s, body=None, result=None) for s in sections]


def _with_results(sections: list[Section], results: list[SectionResult]) -> list[Section]:
    """Sections sent back by a child, linked again to this process's computed results (by section key)."""
    by_key = {r.key: r for r in results}
    return [dataclasses.replace(s, result=by_key.get(s.key)) for s in sections]


def _forbid_queries(why: str) -> None:
    """In a forked child: make any query of the store an error saying ``why``. The parent's DuckDB threads do not
    exist in the child, so a query there could hang; what a child does needs none (rendering lays out what
    ``compute`` produced; a ``LOADED_TABLES_ONLY`` section reads the loaded tables)."""
    import ibis.expr.types.core as ibis_core

    from ..store.store import Store

    def refuse(*args, **kwargs):
        raise PipelineError(why)

    for name in ("execute", "to_pandas", "to_pyarrow", "to_pyarrow_batches"):
        setattr(ibis_core.Expr, name, refuse)
    Store.connect = Store.ibis = refuse


class _ForkedWork:
    """A forked child process that does one piece of the run's work and sends its picklable result back.

    The child shares everything computed so far with the parent copy-on-write (nothing is pickled on the way
    in); it may not query the store (:func:`_forbid_queries`). It ends with ``os._exit`` so that nothing
    inherited (the store's connection, atexit handlers) runs twice."""

    def __init__(self, what: str, work: Callable[[], Any], *, forbidden: str):
        import pickle

        self.what = what
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child
            os.close(read_fd)
            code = 1
            # what the child prints (library warnings) goes back to the parent, which shows it in the run log
            sys.stdout, sys.stderr = io.StringIO(), io.StringIO()
            try:
                _forbid_queries(forbidden)
                result, code = ("ok", work()), 0
            except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent as text
                result = ("error", str(exc) if isinstance(exc, PipelineError) else f"{type(exc).__name__}: {exc}")
            try:
                payload = pickle.dumps((*result, sys.stdout.getvalue(), sys.stderr.getvalue()))
            except Exception as exc:  # noqa: BLE001 - an unpicklable result: the parent must still hear of it
                payload, code = pickle.dumps(("error", f"cannot send the result back: {exc}", "", "")), 1
            try:
                with os.fdopen(write_fd, "wb") as fh:
                    fh.write(payload)
            finally:
                os._exit(code)
        os.close(write_fd)
        self.pid, self._read_fd = pid, read_fd

    def result(self) -> Any:
        """Wait for the child; its result, or :class:`PipelineError` if it failed."""
        import pickle

        with os.fdopen(self._read_fd, "rb") as fh:
            payload = fh.read()
        _, status = os.waitpid(self.pid, 0)
        self.pid = None
        try:
            kind, value, printed, warned = pickle.loads(payload)
        except Exception:  # noqa: BLE001 - killed or crashed before it could answer
            kind, value, printed, warned = "error", f"the process ended without a result ({_exit_text(status)})", "", ""
        sys.stdout.write(printed)
        sys.stderr.write(warned)
        if kind != "ok" or os.waitstatus_to_exitcode(status) != 0:
            raise PipelineError(f"the {self.what} failed: {value}")
        return value

    def stop(self) -> None:
        """End the child if it is still running (the parent failed first)."""
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass  # already reaped
            os.close(self._read_fd)
            self.pid = None


def _rendered_apart(render: Callable[[str], tuple[Path, list[Section]]], lang: str) -> tuple[Path, list[Section]]:
    """In a forked child: render and save ``lang``; its sections go back without their bodies."""
    path, sections = render(lang)
    return path, _without_bodies(sections)


def _exit_text(status: int) -> str:
    code = os.waitstatus_to_exitcode(status)
    return f"killed by signal {-code}" if code < 0 else f"exit status {code}"


@contextlib.contextmanager
def _collector_paused():
    """Imports make hundreds of thousands of objects that all live to the end of the run; a garbage collection in
    between would only walk them again (about 15% of the import time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _import_statistics_libraries() -> None:
    """Import scipy's and statsmodels' models before forking a process that computes sections: once, not in each."""
    with _collector_paused():
        import scipy.stats  # noqa: F401
        import statsmodels.api  # noqa: F401


def _import_render_libraries() -> None:
    """Import Panel, Bokeh and matplotlib before forking a process that renders a language: once, not in each
    (about 1 s of CPU)."""
    with _collector_paused():
        import bokeh.plotting  # noqa: F401
        import matplotlib.pyplot  # noqa: F401
        import panel  # noqa: F401
    bokeh_defaults.install()


@contextlib.contextmanager
def _frozen_heap():
    """Exempt what exists now (the imported modules, the loaded tables) from garbage collection until the run
    ends (``gc.freeze``): collections during the run then walk only what it makes, and forked children do not
    copy those pages by writing collector state into them."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def can_render_in_parallel() -> bool:
    """Whether languages can be rendered in forked processes here: ``os.fork`` exists (POSIX) and this process may
    use more than one core."""
    if not hasattr(os, "fork"):
        return False
    try:
        return len(os.sched_getaffinity(0)) > 1
    except AttributeError:  # macOS: no affinity call
        return (os.cpu_count() or 1) > 1


def write_report(data, period: str, *, branches=None, languages=("en",), output_dir: str | Path,
                 areas: Iterable[str] | None = None, parallel: bool = False,
                 compute_cache: MutableMapping | None = None) -> dict:
    """Build and save the dashboard(s) and ``summary.json`` for one period into ``output_dir``.

    Every section's statistics are computed once (:func:`compute_sections`); each language only renders them
    (:func:`render_sections`). With ``parallel=True`` (on a POSIX system with more than one core) the run uses
    forked child processes: the sections that read only the loaded tables are computed in one while this
    process computes the others (:func:`compute_sections`), and every language after the first is rendered and
    saved in one while this process renders the first: the same dashboards as in turn. A language or section
    that fails fails the whole call (:class:`PipelineError`) before ``summary.json`` is written.

    ``compute_cache`` (a mapping the caller keeps, e.g. the served app's worker) holds the computed results keyed
    by the data's fingerprint, the period, the branches and the areas: a later call with the same key (another
    language of the same live page) only renders. Changed data has another fingerprint, so it is computed afresh.

    This is what the report notebook calls; it returns ``{"dashboards": [...], "summary": path, "sections":
    {lang: [Section, ...]}}`` so the notebook can show the headline numbers in the run log (the sections of a
    language rendered in a child process come back without their ``body``).
    """
    from ..pipeline import code_version, validate_branches, validate_languages, validate_period

    period = validate_period(period)
    languages = validate_languages(list(languages) if not isinstance(languages, str) else languages)
    known = list(data.branches["branch"])
    branches = validate_branches(branches) or known
    unknown = [b for b in branches if b not in known]
    if unknown:
        from ..errors import ParameterError

        raise ParameterError(f"unknown branch id(s) {unknown}; the data has {known}")
    periods = data.periods
    if period not in periods:
        from ..errors import ParameterError

        raise ParameterError(f"no data for period {period}: the data covers {periods[0]} to {periods[-1]}")
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    load_summary = data.load_summary()
    fingerprint = data.fingerprint()
    version = code_version()
    forked = parallel and can_render_in_parallel()
    if forked:
        _import_statistics_libraries()
    with _frozen_heap():
        # statistics once per run; only labels, text and figures per language
        key = (fingerprint, period, tuple(branches), None if areas is None else tuple(areas))
        cached = compute_cache.get(key) if compute_cache is not None else None
        if cached is None:
            run = ComputeContext(data=data, period=period, branches=branches)
            # the rendering libraries are imported while the forked process computes its sections
            results = compute_sections(run, areas, parallel=forked,
                                       while_waiting=_import_render_libraries if forked else None)
            if compute_cache is not None:
                compute_cache[key] = (run, results)
        else:
            run, results = cached
        if forked:
            _import_render_libraries()  # (imported already unless the results came from the cache)
        render = functools.partial(_render_and_save, results, run, output_dir=output_dir,
                                   load_summary=load_summary, version=version, fingerprint=fingerprint)
        workers: dict[str, _ForkedWork] = {}
        done: dict[str, tuple[Path, list[Section]]] = {}
        try:
            if forked:
                for lang in languages[1:]:
                    workers[lang] = _ForkedWork(f"{lang} dashboard", functools.partial(_rendered_apart, render, lang),
                                                forbidden="a section queried the data while rendering; query it "
                                                          "in compute(ctx)")
            for lang in languages:
                if lang not in workers:
                    done[lang] = render(lang)
            for lang, worker in workers.items():
                path, sections = worker.result()
                done[lang] = (path, _with_results(sections, results))
        finally:
            for worker in workers.values():
                worker.stop()
    out = {"dashboards": [done[lang][0] for lang in languages],
           "sections": {lang: done[lang][1] for lang in languages}}
    # headline numbers do not depend on the language: the summary comes from the first one
    summary = summary_dict(run.in_language(languages[0]), done[languages[0]][1], load_summary=load_summary,
                           fingerprint=fingerprint)
    summary["languages"] = languages
    summary_path = output_dir / "summary.json"
    summary_path.write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    out["summary"] = summary_path
    return out


def headline_frame(sections: list[Section]) -> pd.DataFrame:
    """The sections' headline numbers as one long table (section, metric, value, ci_low, ci_high, n), for the
    run log and for regression checks."""
    rows = []

    def walk(section_key: str, prefix: str, obj: Any):
        if isinstance(obj, dict) and "value" in obj:
            rows.append({"section": section_key, "metric": prefix, "value": obj.get("value"),
                         "ci_low": obj.get("ci_low"), "ci_high": obj.get("ci_high"), "n": obj.get("n")})
        elif isinstance(obj, dict):
            for k, v in obj.items():
                walk(section_key, f"{prefix}.{k}" if prefix else str(k), v)
        else:
            rows.append({"section": section_key, "metric": prefix, "value": obj, "ci_low": None, "ci_high": None,
                         "n": None})

    for s in sections:
        walk(s.key, "", s.headline)
    return pd.DataFrame(rows, columns=["section", "metric", "value", "ci_low", "ci_high", "n"])
