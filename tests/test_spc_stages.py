"""Limits that follow the process (sqc.spc.staged_chart, issue 10 item 2): the recalculation rule on synthetic
series, an explicit stage table overriding it, and the demo data's two assurance cases (B04 first-contact
resolution after its 2025-09 step; the network complaint surge from 2026-08)."""
import json

import numpy as np
import pandas as pd
import pytest

from sqc import spc
from sqc.errors import DataError, ParameterError

MONTHS = [str(p) for p in pd.period_range("2023-01", periods=60, freq="M")]
# fixed ±0.8 alternation: no run longer than 1 on either side of the centre, σ̂ from MR̄ = 1.6 / 1.128 ≈ 1.42
WIGGLE = np.tile([0.8, -0.8], 30)


def _staged(x, **kw):
    d = pd.DataFrame({"month": MONTHS[:len(x)], "v": x})
    return spc.staged_chart(lambda ids: spc.imr(d, "v", time="month", baseline=12, stages=ids), d["month"], **kw)


def _step(after: int):
    """20 points around 0, then ``after`` points 2σ̂ (≈ 2.84) higher with the same wiggle."""
    sigma = 1.6 / 1.128
    return np.r_[WIGGLE[:20], 2 * sigma + WIGGLE[20:20 + after]]


def test_step_of_two_sigma_is_picked_up_after_run_length_points():
    st = _staged(_step(7))
    rec = st.recalculations
    assert len(rec) == 1
    r = rec.iloc[0]
    assert (r["index"], r["label"], r["rule"], r["run_length"], r["side"]) == (20, "2024-09", "shift", 7, "above")
    assert r["old_center"] == pytest.approx(0.0)  # mean of the first 12 wiggles
    assert r["new_center"] == pytest.approx(2 * 1.6 / 1.128 + 0.8 / 7)  # mean of the stage: +0.8 ×4, −0.8 ×3
    assert st.current_stage_start == 20 and st.ongoing_shift == "above"
    # the new stage has its own limits: centre ≈ 2σ̂ from 2024-09 on, the old one before
    c = st.chart.i.center
    assert c[19] == pytest.approx(0.0) and c[20] == pytest.approx(r["new_center"])
    # the recalculation is explained on the chart (drawn with the stage boundary by sqc.plotting)
    assert "7 points in a row above" in st.chart.i.annotations[20]["en"]
    assert "连续 7 点" in st.chart.i.annotations[20]["zh"]
    # one point short of the run: no recalculation yet
    assert _staged(_step(6)).recalculations.empty
    # a custom run length (a parameter; Making Data Count uses 7)
    assert _staged(_step(6), run_length=6).recalculations["index"].tolist() == [20]
    assert _staged(_step(7), run_length=8).recalculations.empty


def test_noise_alone_rarely_recalculates():
    """Run of 7 alone: about 1 in 4 pure-noise series of 35 months would be re-based; with the 1σ guard about
    1 in 10 (300 seeds: 26% and 10% measured). A real 2σ step after 20 points is found in ≥ 80%."""
    noise = [_staged(np.random.default_rng(s).normal(0, 1, 35)).recalculations for s in range(150)]
    share = np.mean([len(r) > 0 for r in noise])
    assert share <= 0.16, share
    raw = np.mean([len(_staged(np.random.default_rng(s).normal(0, 1, 35), min_shift=0).recalculations) > 0
                   for s in range(150)])
    assert raw > share  # the guard does something
    step = [_staged(np.r_[r.normal(0, 1, 20), r.normal(2, 1, 10)]).recalculations
            for r in (np.random.default_rng(s) for s in range(150))]
    assert np.mean([len(x) > 0 and 16 <= x["index"].iloc[-1] <= 20 for x in step]) >= 0.65
    # the pure wiggle never recalculates
    assert _staged(WIGGLE[:40]).recalculations.empty


def test_explicit_stage_table_overrides_the_rule():
    x = _step(10)
    st = _staged(x, starts=["2024-03"])  # the user's stage table: a new stage from month 15, not 21
    rec = st.recalculations
    assert rec["index"].tolist() == [14] and rec["rule"].tolist() == ["stage_table"]
    assert rec["run_length"].tolist() == [16]  # the stage's length
    assert st.ongoing_shift == ""  # a stage table is not a shift under way
    # an empty table: no stages even though the rule would find one
    assert _staged(x, starts=[]).recalculations.empty
    # a start before the first point is ignored; one that is not a point is an error naming the range
    assert _staged(x, starts=["2020-01"]).recalculations.empty
    with pytest.raises(ParameterError, match="2023-01"):
        _staged(x, starts=["2024-13"])
    with pytest.raises(ParameterError):
        _staged(x, run_length=1)
    with pytest.raises(ParameterError):
        _staged(x, min_shift=-1)


def test_stage_table_for_the_scorecard(demo_data):
    from sqc.scorecard import kpi_scorecard

    tbl = pd.DataFrame({"branch": ["B04"], "kpi": ["fcr_rate"], "start": ["2025-10"]})
    sc = kpi_scorecard(demo_data, period="2026-10", branches=["B04"], include=("fcr_rate",), stages=tbl)
    rec = sc.recalculations.set_index(["branch", "kpi"])
    assert rec.loc[("B04", "fcr_rate"), "period"] == "2025-10" and rec.loc[("B04", "fcr_rate"), "rule"] == \
        "stage_table"
    bad = pd.concat([tbl, tbl.assign(start=["Oct 2025"])], ignore_index=True)
    with pytest.raises(DataError, match="column 'start', row 2, value 'Oct 2025'"):
        kpi_scorecard(demo_data, period="2026-10", branches=["B04"], include=("fcr_rate",), stages=bad)
    with pytest.raises(ParameterError):
        kpi_scorecard(demo_data, period="2026-10", branches=["B04"], include=("fcr_rate",), stages=[1, 2])
    with pytest.raises(ParameterError, match="B99"):  # a typo in the table is an error, not silently ignored
        kpi_scorecard(demo_data, period="2026-10", branches=["B04"], include=("fcr_rate",),
                      stages={("B99", "fcr_rate"): ["2025-10"]})


# ---- demo data: the two cases of issue 10
@pytest.fixture(scope="module")
def demo_scorecard(demo_data):
    from sqc.scorecard import kpi_scorecard

    return kpi_scorecard(demo_data, period="2026-10")


def test_b04_fcr_is_judged_on_its_new_stage(demo_scorecard, demo_data):
    from sqc.scorecard import kpi_scorecard

    r = demo_scorecard.tiles("B04").loc["fcr_rate"]
    # ~80% since 2025-09 against a 75% target: no longer "consistently missed"
    assert r["target"] == 0.75 and r["value"] > 0.75
    assert r["assurance_code"] == "consistently_pass" and r["assurance_basis"] == "current_stage"
    assert r["stage_start"] == "2025-09" and r["stages"] == 2
    assert r["variation_code"] == "improvement"  # the step is kept in view while it lasts
    rec = demo_scorecard.recalculations.set_index(["branch", "kpi"]).loc[("B04", "fcr_rate")]
    assert rec["rule"] == "shift" and rec["period"] == "2025-09" and rec["run_length"] == 14
    assert rec["old_center"] == pytest.approx(0.70, abs=0.01) and rec["new_center"] == pytest.approx(0.80, abs=0.01)
    # the frozen limits (first 12 months) said the opposite: the old verdict this change corrects
    frozen = kpi_scorecard(demo_data, period="2026-10", branches=["B04"], include=("fcr_rate",),
                           recalculate=False)
    assert frozen.tiles("B04").loc["fcr_rate", "assurance_code"] == "consistently_fail"


def test_network_complaints_assurance_rests_on_earlier_limits(demo_scorecard):
    r = demo_scorecard.tiles("ALL").loc["complaint_rate_per_1000"]
    assert r["target"] == 1.2 and r["direction"] == "lower_is_better" and r["value"] > 1.2
    assert r["variation_code"] == "concern"
    # three surge months are a special cause, not yet a stage: the assurance is not settled
    assert r["assurance_basis"] == "earlier_limits"
    assert r["stages"] == 1
    assert not ((demo_scorecard.recalculations["branch"] == "ALL")
                & (demo_scorecard.recalculations["kpi"] == "complaint_rate_per_1000")).any()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_tile_says_the_assurance_is_provisional(demo_data, lang):
    pytest.importorskip("panel")
    from sqc.report.context import ComputeContext
    from sqc.report.sections import scorecard
    from test_scorecard_section import BRANCHES, _html

    res = scorecard.compute(ComputeContext(demo_data, "2026-10", BRANCHES))
    assert res.headline["network"]["complaint_rate_per_1000"]["assurance_basis"] == "earlier_limits"
    json.dumps(res.headline)
    html = _html(scorecard.render(res, lang))
    text = {"en": "Assurance provisional", "zh": "达标判断为暂定"}[lang]
    tiles = html.split("sqc-assurance-provisional")
    assert len(tiles) >= 2 and text in tiles[1]
    # the FCR tile shows where its current limits start (the network FCR shifted up in 2025-09 too)
    assert {"en": "limits recalculated from", "zh": "控制限自"}[lang] in html
    # and the section lists every recalculation with its reason, in the page's language
    assert {"en": "Limits recalculated", "zh": "控制限重新计算"}[lang] in html
    from sqc.report.sections.scorecard import _recalc_view

    view = _recalc_view(res.context.in_language(lang), res.values["scorecard"])
    assert len(view) == len(res.values["scorecard"].recalculations)
    b04 = view.loc[view.iloc[:, 0].eq("B04")].iloc[0].tolist()
    # the demo's stage table (limit_stages.csv) records B04's process change at 2025-09, with its reason
    assert b04[2] == {"en": "Sep 2025", "zh": "2025年9月"}[lang]
    assert b04[3] == {"en": "stage table: Process change: the first agent keeps ownership of the case until it is "
                            "resolved", "zh": "阶段表: 流程变更：首位坐席负责到底，直至问题解决"}[lang]
    assert b04[4] == "68.1% → 80.1%"


def test_stage_table_file_sets_the_stages_and_names_bad_rows(demo_data):
    """The data folder's limit_stages table replaces the automatic rule for the charts it lists; a chart that is not
    a declared branch is refused with file, column, 1-based row and value; rows of other branches and stages
    after the report month do not apply."""
    import pandas as pd

    from sqc.errors import DataError
    from sqc.scorecard import kpi_scorecard, stages_from_table

    table = pd.DataFrame({"chart": ["B04", "ALL", "B09", "B04"], "kpi": ["fcr_rate", "aht_s", "fcr_rate", "asa_s"],
                          "start": ["2025-09", "2026-02", "2025-12", "2026-11"]})
    known = list(demo_data.branches["branch"])
    applied = stages_from_table(table, period="2026-10", branches=["B01", "B04"], known_branches=known)
    assert applied.values.tolist() == [["B04", "fcr_rate", "2025-09"], ["ALL", "aht_s", "2026-02"]]
    sc = kpi_scorecard(demo_data, period="2026-10", branches=["B01", "B04"], stages=applied)
    rec = sc.recalculations
    assert rec.loc[(rec["branch"] == "ALL") & (rec["kpi"] == "aht_s"), ["period", "rule"]].values.tolist() == \
        [["2026-02", "stage_table"]]
    bad = table.assign(chart=["B04", "ALL", "B99", "B04"])
    with pytest.raises(DataError) as err:
        stages_from_table(bad, period="2026-10", branches=known, known_branches=known)
    msg = str(err.value)
    assert "limit_stages.csv" in msg and "chart" in msg and "row 3" in msg and "B99" in msg


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_recalculation_is_marked_on_the_chart(lang):
    from sqc.plotting.spc import control_spec

    st = _staged(_step(9))
    spec = control_spec(st.chart.i, lang)
    vertical = [ly for ly in spec.layers if ly.kind == "rule" and ly.style.get("axis") == "x"]
    # the stage boundary line at the first month of the new stage (dates on the x axis)
    assert any(pd.Timestamp(ly.data["value"]) == pd.Timestamp("2024-09-01") and ly.style["dash"] == "dashdot"
               for ly in vertical)
    texts = spec.texts()
    note = {"en": "limits recalculated: 9 points in a row above the centre", "zh": "控制限重新计算：连续 9 点位于中心线上方"}
    assert note[lang] in texts
    assert "2024-09" not in texts  # the note replaces the bare stage label at that boundary (no overlap)
