"""The manager's summary (issue 10 item 1): MDC-style KPI rows with an action, and the ranked, de-duplicated
"needs action" list, computed without Panel from the sections' results on the demo data (planted effects: the
B07 waiting-time shift from 2026-04, B04's first-contact resolution above target, the billing-complaints surge
from 2026-08 at 2.48× the baseline rate)."""
import json
import re

import pandas as pd
import pytest

from sqc.report.context import ComputeContext, Note
from sqc.report.summary import ACTION_LIMIT, action_items, findings, row_action, severity_counts, summary_rows

BRANCHES = [f"B{i:02d}" for i in range(1, 13)]
TEST_NAMES = re.compile(r"Holm|Welch|χ²|chi|CFI|RMSEA|p =|α|alpha|item-total|funnel|special-cause|Laney", re.I)


@pytest.fixture(scope="module")
def results(demo_data):
    from sqc.report.dashboard import compute_sections

    return compute_sections(ComputeContext(demo_data, "2026-10", BRANCHES))


@pytest.fixture(scope="module")
def rows(results):
    sc = next(r for r in results if r.key == "scorecard").values["scorecard"]
    return summary_rows(sc.table)


# ---- the action rule ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("variation, assurance, meets, basis, action", [
    ("concern", "consistently_fail", False, "current_stage", "investigate"),
    ("concern", "hit_and_miss", None, "current_stage", "investigate"),        # no target: a concern is a concern
    ("concern", "consistently_pass", True, "current_stage", "watch"),        # worse, but still on target
    ("improvement", "hit_and_miss", True, "earlier_limits", "sustain"),
    ("common_cause", "consistently_fail", False, "current_stage", "redesign"),  # MDC: won't meet it without change
    ("common_cause", "consistently_pass", True, "earlier_limits", "watch"),  # assurance provisional
    ("common_cause", "hit_and_miss", False, "current_stage", "reduce_variation"),
    ("common_cause", "consistently_pass", True, "current_stage", "keep"),
    ("none", "none", None, "current_stage", "no_verdict"),
])
def test_row_action_rule(variation, assurance, meets, basis, action):
    assert row_action(variation, assurance, meets, basis) == action


def test_summary_rows_network_first_with_n_and_ci(rows):
    net = rows.loc[rows["branch"] == "ALL"]
    assert list(rows["branch"].iloc[:len(net)]) == ["ALL"] * len(net) == ["ALL"] * 7
    assert {"service_level", "asa_s", "abandonment_rate", "aht_s", "fcr_rate", "complaint_rate_per_1000",
            "csat_mean"} == set(net["kpi"])
    assert (net["n"] > 0).all() and (net["ci_low"] <= net["value"]).all() and (net["value"] <= net["ci_high"]).all()
    sl = net.set_index("kpi").loc["service_level"]
    # network service level Oct 2026: 72.6% of 83,065 calls offered, below the 80% target, with a concern
    assert sl["n"] == 83065 and sl["value"] == pytest.approx(0.7256, abs=5e-4) and sl["target"] == 0.8
    assert sl["action"] == "investigate"
    # the complaints tile: a concern beside an assurance judged on limits the process has left
    cr = net.set_index("kpi").loc["complaint_rate_per_1000"]
    assert cr["assurance_basis"] == "earlier_limits" and cr["action"] == "investigate"


def test_summary_rows_branch_signals(rows):
    br = rows.loc[rows["branch"] != "ALL"]
    assert (br["variation_code"].isin(["concern", "improvement"]) | br["assurance_basis"].eq("earlier_limits")).all()
    b07 = br.loc[br["branch"] == "B07"].set_index("kpi")
    # the planted waiting-time shift: service level, ASA and abandonment all in concern
    assert {"service_level", "asa_s", "abandonment_rate"} <= set(b07.index)
    assert b07.loc["service_level", "action"] == "investigate"
    assert b07.loc["asa_s", "action"] == "watch"  # ASA 22.6 s is worse than usual but meets the 30 s target
    b06 = br.loc[(br["branch"] == "B06") & (br["kpi"] == "asa_s")].iloc[0]
    assert b06["variation_code"] == "improvement" and b06["action"] == "sustain"
    # B04's FCR step of 2025-09 is in the demo's stage table: judged on its new limits it is no longer a signal,
    # and meets the target consistently, so it has no row of its own
    assert br.loc[(br["branch"] == "B04") & (br["kpi"] == "fcr_rate")].empty
    # a branch's rows together, most urgent first within it; the branches with the most urgent action first
    assert list(dict.fromkeys(br["branch"])) == list(br["branch"].drop_duplicates())
    assert br["branch"].ne(br["branch"].shift()).sum() == br["branch"].nunique()
    rank = br["action"].map(["investigate", "redesign", "watch", "reduce_variation", "sustain", "keep",
                             "no_verdict"].index)
    assert (rank.groupby(br["branch"], sort=False).apply(lambda r: r.is_monotonic_increasing)).all()
    first = rank.groupby(br["branch"], sort=False).min()
    assert first.is_monotonic_increasing


def test_summary_rows_rejects_a_table_without_verdicts():
    with pytest.raises(ValueError, match="variation_code"):
        summary_rows(pd.DataFrame({"branch": ["ALL"], "kpi": ["asa_s"], "value": [1.0]}))


# ---- needs action -----------------------------------------------------------------------------------------------

def test_actions_ordered_deduplicated_and_capped(results):
    items = action_items(findings(results))
    assert 1 <= len(items) <= ACTION_LIMIT
    first = items[0]
    assert first.severity == "critical" and first.note.key == "complaints.surge"
    assert first.note.params["category"].key == "complaints.cat_billing"
    assert first.effect == pytest.approx(1.48, abs=0.01)        # rate ratio 2.48: |ratio − 1|
    subjects = [i.note.subject for i in items]
    assert len(subjects) == len(set(subjects))
    sev = [["critical", "warning", "info"].index(i.severity) for i in items]
    assert sev == sorted(sev) and "info" not in {i.severity for i in items}
    for s in set(sev):  # within a severity, the larger effect first
        eff = [i.effect for i in items if ["critical", "warning", "info"].index(i.severity) == s and i.effect is not None]
        assert eff == sorted(eff, reverse=True)
    assert "B07" in subjects and subjects.index("B07") < subjects.index("B04")


def test_same_subject_makes_one_item_led_by_the_most_severe():
    found = [("spc", Note("spc.concerns_note", {"n": 1}, severity="warning", subject="B07")),
             ("scorecard", Note("scorecard.note_concern", {}, severity="warning", effect=0.3, subject="B07")),
             ("complaints", Note("complaints.surge", {}, severity="critical", effect=0.2, subject="complaints:x")),
             ("servqual", Note("servqual.no_weak", {}, severity="info", subject="B07")),
             ("audit", Note("audit.note_funnel", {}, severity="warning", effect=0.9))]
    items = action_items(found)
    assert [i.note.key for i in items] == ["complaints.surge", "audit.note_funnel", "scorecard.note_concern"]
    b07 = items[2]
    assert [(s, n.key) for s, n in b07.related] == [("spc", "spc.concerns_note")]   # the info note never leads
    assert b07.to_dict()["related"] == [{"section": "spc", "key": "spc.concerns_note"}]
    assert len(action_items(found, limit=1)) == 1
    with pytest.raises(ValueError, match="limit"):
        action_items(found, limit=0)
    with pytest.raises(ValueError, match="severity"):
        Note("x.y", severity="urgent")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_action_texts_are_in_a_managers_words_and_all_findings_in_the_details(results, demo_data, lang):
    from sqc.report.context import ReportContext

    ctx = ReportContext(demo_data, "2026-10", BRANCHES, lang)
    items = action_items(findings(results))
    texts = [ctx.note_text(i.note, plain=True) for i in items]
    for t in texts:
        assert not TEST_NAMES.search(t), t
        assert "{" not in t and "…" not in t and "_" not in t, t
    if lang == "en":
        assert texts[0].startswith("Complaints about billing are 2.48 times")
    else:
        assert "计费" in texts[0] and "2.48" in texts[0]
    # every finding keeps its complete sentence (none cut with "…") for the details toggle
    every = [ctx.note_text(n) for _, n in findings(results)]
    assert len(every) > len(items) and not any("…" in t for t in every)
    assert any(TEST_NAMES.search(t) for t in every)  # the technical sentences are there, behind the toggle


def test_note_codes_carry_the_ranking_fields(results):
    codes = [n.to_dict() for _, n in findings(results)]
    json.dumps(codes)
    surge = next(c for c in codes if c["key"] == "complaints.surge")
    assert surge["severity"] == "critical" and surge["subject"] == "complaints:billing"
    assert surge["plain_key"] == "complaints.surge_plain" and surge["params"]["category"] == "complaints.cat_billing"


def test_severity_counts():
    from sqc.diagnostics import QualityWarning

    ws = [QualityWarning("W-1", "critical", "m"), {"severity": "info"}, {"severity": "info"}, {"severity": "x"}]
    assert severity_counts(ws) == {"critical": 1, "warning": 0, "info": 2}


# ---- the rendered top of the page (no Panel: sections carry their results) -------------------------------------

def _sections(results, lang):
    from sqc.report.context import Section

    return [Section(r.key, f"title of {r.key}", None, r.headline, r.warnings, [], result=r) for r in results]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_summary_html(results, demo_data, lang):
    from types import SimpleNamespace

    from sqc.report.context import ReportContext
    from sqc.report.dashboard import summary_html

    pytest.importorskip("jinja2")
    names = demo_data.branches.copy()
    names.loc[names["branch"] == "B07", ["name_en", "name_zh"]] = "<script>alert(1)</script>"
    ctx = ReportContext(SimpleNamespace(branches=names), "2026-10", BRANCHES, lang)
    page = summary_html(ctx, _sections(results, lang))
    assert page.count('<tr class="network') == 7
    # every row has its value, n and 95% interval: network service level 72.6% of 83,065 calls (72.3%–72.9%)
    assert "72.6%" in page and "n 83,065" in page and "72.3%–72.9%" in page
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    actions = re.search(r'<ol class="sqc-action-list">(.*?)</ol>', page, re.S).group(1)
    assert 1 <= actions.count("<li") <= ACTION_LIMIT
    assert not TEST_NAMES.search(re.sub(r"<[^>]+>", "", actions))
    details = re.search(r'<details class="sqc-details">(.*?)</details>', page, re.S).group(1)
    assert details.count("<li") == len(findings(results)) and "…" not in details
    assert ("Investigate" if lang == "en" else "查找原因") in page
