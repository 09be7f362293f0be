"""Benchmark: the cost of one language's dashboard page after the statistics are computed, and of its
control-chart tab alone (the 7 KPIs x 13 browser-drawn small multiples).

Counts (deterministic): the Bokeh models of the control-chart tab's document and of the whole page's document
(:func:`sqc.report.dashboard.page_document`), by model type.
CPU time (``time.process_time``, best of ``--repeat``; the machine is shared, so the minimum is the fair number):
render (the sections' ``render``), Panel -> Bokeh document (``page_document``) and document -> JSON
(``Document.to_json``), for the control-chart tab and for the whole page; plus ``save_dashboard`` of the page.

Usage:  python benchmarks/bench_dashboard_render.py [--data ~/.cache/sqc-bench/scale-1] [--lang en] [--repeat 3]
                                                   [--spc-only]
"""
from __future__ import annotations

import argparse
import collections
import gc
import os
import tempfile
import time
from pathlib import Path


def cpu(fn, repeat):
    """Best CPU seconds of ``fn()`` over ``repeat`` calls, and the last call's value."""
    best, value = float("inf"), None
    for _ in range(repeat):
        gc.collect()
        t0 = time.process_time()
        value = fn()
        best = min(best, time.process_time() - t0)
    return best, value


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=os.path.expanduser("~/.cache/sqc-bench/scale-1"))
    ap.add_argument("--period", default="2026-10")
    ap.add_argument("--lang", default="en")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--spc-only", action="store_true", help="measure the control-chart tab only")
    args = ap.parse_args()

    import sqc.io
    from sqc.report import dashboard
    from sqc.report.context import ComputeContext
    from sqc.report.sections import spc

    data = sqc.io.load_network(args.data)
    run = ComputeContext(data=data, period=args.period, branches=list(data.branches["branch"]))
    results = dashboard.compute_sections(run)
    spc_result = next(r for r in results if r.key == "spc")
    dashboard._import_render_libraries()

    # ---- the control-chart tab alone
    t_render, section = cpu(lambda: spc.render(spc_result, args.lang), args.repeat)
    t_doc, doc = cpu(lambda: dashboard.page_document(section.body), args.repeat)
    t_json, _ = cpu(doc.to_json, args.repeat)
    models = list(doc.models)
    kinds = collections.Counter(type(m).__name__ for m in models)
    print(f"SPC tab ({args.lang}): {len(models)} Bokeh models; CPU render {t_render:.2f} s, document {t_doc:.2f} s, "
          f"JSON {t_json:.2f} s, total {t_render + t_doc + t_json:.2f} s")
    print("  most frequent:", ", ".join(f"{k} {v}" for k, v in kinds.most_common(14)))

    if args.spc_only:
        return
    # ---- the whole page of one language
    def page():
        sections = dashboard.render_sections(results, args.lang)
        return dashboard.assemble(run.in_language(args.lang), sections)

    t_page, whole = cpu(page, args.repeat)
    t_wdoc, wdoc = cpu(lambda: dashboard.page_document(whole), args.repeat)
    t_wjson, _ = cpu(wdoc.to_json, args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        t_save, path = cpu(lambda: dashboard.save_dashboard(whole, Path(tmp) / "page.html"), args.repeat)
        size = path.stat().st_size
    print(f"page ({args.lang}): {len(list(wdoc.models))} Bokeh models; CPU render+assemble {t_page:.2f} s, "
          f"document {t_wdoc:.2f} s, JSON {t_wjson:.2f} s, total {t_page + t_wdoc + t_wjson:.2f} s; "
          f"save_dashboard {t_save:.2f} s ({size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
