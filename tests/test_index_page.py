"""The reports folder's index page (sqc.pipeline.write_index): each month with its top "needs action" items and
its warnings by severity, newest first; older summary.json files without these keys still render; every string
read from the files is escaped."""
import json
import re
import subprocess
import sys

from sqc.pipeline import write_index

NEW_SUMMARY = {
    "period": "2026-10",
    "warnings": [{"code": "W-1", "severity": "critical"}] + [{"code": "W-2", "severity": "warning"}] * 3
                + [{"code": "W-3", "severity": "info"}] * 2,
    "warning_counts": {"critical": 1, "warning": 3, "info": 2},
    "actions": [
        {"key": "complaints.surge", "severity": "critical", "subject": "complaints:billing",
         "text": {"en": "Complaints about billing are 2.48 times their usual level", "zh": "计费投诉为 2.48 倍"}},
        {"key": "scorecard.note_concern", "severity": "warning", "subject": "B07",
         "text": {"en": "B07: Service level got worse", "zh": "B07：服务水平变差"}},
        {"key": "scorecard.note_concern", "severity": "warning", "subject": "B13",
         "text": {"en": "B13 <script>alert('x')</script> Hall: waiting times got worse", "zh": "—"}},
        {"key": "servqual.largest_clear", "severity": "warning", "subject": "servqual:largest_gap",
         "text": {"en": "FOURTH ITEM not on the index", "zh": "—"}},
    ],
}
OLD_SUMMARY = {"period": "2026-08", "warnings": [{"code": "W-1", "severity": "warning"},
                                                 {"code": "W-2", "severity": "info"}], "notes": {"spc": ["x"]}}


def _publish(reports, period, summary, files=("dashboard_en.html", "dashboard_zh.html")):
    d = reports / period
    d.mkdir(parents=True)
    (d / "manifest.json").write_text(json.dumps({"files": list(files) + ["summary.json"], "started": "2026-11-01",
                                                 "code_version": "abc123"}))
    for f in files:
        (d / f).write_text("<html></html>")
    if summary is not None:
        (d / "summary.json").write_text(summary if isinstance(summary, str) else json.dumps(summary))


def _rows(page):
    return re.findall(r"<tr>\s*<td class=\"period\">(.*?)</tr>", page, re.S)


def test_index_lists_top_actions_and_counts_newest_first(tmp_path):
    _publish(tmp_path, "2026-10", NEW_SUMMARY)
    _publish(tmp_path, "2026-08", OLD_SUMMARY)
    _publish(tmp_path, "2026-07", None)                    # published before summary.json existed
    _publish(tmp_path, "2026-09", "{not json")             # a damaged summary: the month is still listed
    page = write_index(tmp_path).read_text(encoding="utf-8")
    rows = _rows(page)
    assert [r[:7] for r in rows] == ["2026-10", "2026-09", "2026-08", "2026-07"]
    newest = rows[0]
    assert newest.count("<li") == 3 and "FOURTH ITEM" not in page
    assert newest.index("billing") < newest.index("B07")
    assert 'class="sev-critical">Complaints about billing' in newest
    counts = NEW_SUMMARY["warning_counts"]
    assert sum(1 for w in NEW_SUMMARY["warnings"] if w["severity"] == "critical") == counts["critical"]
    for sev, n in counts.items():
        assert f"{n} {sev}" in newest
    # an older summary.json: counts from its warnings list, no action column
    old = rows[2]
    assert "0 critical" in old and "1 warning" in old and "1 info" in old and "<li" not in old
    assert "critical" not in rows[3] and "critical" not in rows[1]
    assert '<a href="2026-10/dashboard_zh.html">中文</a>' in newest


def test_index_escapes_data_strings(tmp_path):
    _publish(tmp_path, "2026-10", NEW_SUMMARY)
    page = write_index(tmp_path).read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page


def test_index_with_nothing_published(tmp_path):
    page = write_index(tmp_path).read_text(encoding="utf-8")
    assert "No period has been published yet." in page and "<style>" in page and "&#34;" not in page


def test_index_renders_without_panel():
    code = ("import sys, tempfile, sqc.pipeline as p\n"
            "p.write_index(tempfile.mkdtemp())\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in {'panel', 'bokeh'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
