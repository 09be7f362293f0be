"""KPI scorecard (sqc.scorecard): composite formula by hand, verdict wiring on constructed series, and the demo
data's planted B07 waiting-time shift (datasets/README.md effect 1)."""
import numpy as np
import pandas as pd
import pytest

from sqc.errors import InsufficientDataError, ParameterError
from sqc.scorecard import composite_scores, kpi_scorecard

TARGETS = pd.DataFrame({"kpi": ["service_level", "asa_s", "abandonment_rate"], "target": [0.8, 30.0, 0.06],
                        "direction": ["higher_is_better", "lower_is_better", "lower_is_better"],
                        "unit": ["proportion", "s", "proportion"]})


def _kpi_frame(asa_values, sl_counts=None, periods=None, branch="B01"):
    periods = periods or [str(p) for p in pd.period_range("2024-11", periods=len(asa_values), freq="M")]
    rows = []
    for p, v in zip(periods, asa_values):
        rows.append({"branch": branch, "period": p, "kpi": "asa_s", "numerator": v * 1000, "denominator": 1000,
                     "value": v, "n": 1000, "sd": 10.0, "ci_low": v - 0.6, "ci_high": v + 0.6})
    if sl_counts is not None:
        for p, x in zip(periods, sl_counts):
            rows.append({"branch": branch, "period": p, "kpi": "service_level", "numerator": x, "denominator": 1000,
                         "value": x / 1000, "n": 1000, "sd": np.nan, "ci_low": x / 1000 - 0.02,
                         "ci_high": x / 1000 + 0.02})
    return pd.DataFrame(rows)


def test_composite_by_hand():
    z = 1.959963984540054
    k = pd.DataFrame([
        {"branch": "B01", "period": "2026-10", "kpi": "service_level", "value": 0.72, "ci_low": 0.70, "ci_high": 0.74},
        {"branch": "B01", "period": "2026-10", "kpi": "asa_s", "value": 20.0, "ci_low": 18.0, "ci_high": 22.0}])
    out = composite_scores(k, TARGETS, weights={"service_level": 0.75, "asa_s": 0.25}, cap=1.0).iloc[0]
    # SL attainment .72/.8 = .9 -> 90; ASA attainment 30/20 = 1.5 capped at 1 -> 100
    assert out["composite"] == pytest.approx(0.75 * 90 + 0.25 * 100)
    se_sl = 100 * (0.04 / (2 * z)) / 0.8
    se_asa = 100 * (30 / 20 ** 2) * (4.0 / (2 * z))
    se = np.sqrt((0.75 * se_sl) ** 2 + (0.25 * se_asa) ** 2)
    assert out["ci_low"] == pytest.approx(92.5 - z * se) and out["ci_high"] == pytest.approx(min(100, 92.5 + z * se))
    assert out["kpis_used"] == 2
    # cap 1.2 credits beating the target
    out2 = composite_scores(k, TARGETS, weights={"service_level": 0.75, "asa_s": 0.25}, cap=1.2).iloc[0]
    assert out2["composite"] == pytest.approx(0.75 * 90 + 0.25 * 120)


def test_weights_validation():
    k = _kpi_frame([20.0] * 24)
    for bad in ({"asa_s": -1.0}, {"asa_s": 0.0}, {"nps": 1.0}, [1, 2]):
        with pytest.raises(ParameterError):
            kpi_scorecard(kpis=k, targets=TARGETS, period="2026-10", include=("asa_s",), weights=bad)
    with pytest.raises(ParameterError):
        kpi_scorecard(kpis=k, targets=TARGETS, period="Oct 2026", include=("asa_s",))
    with pytest.raises(ParameterError):
        kpi_scorecard(kpis=k, targets=TARGETS, period="2026-10", include=("asa_s",), cap=0)
    with pytest.raises(InsufficientDataError):
        kpi_scorecard(kpis=k, targets=TARGETS, period="2027-05", include=("asa_s",))


def test_verdict_wiring_stable_then_shift():
    rng = np.random.default_rng(3)
    stable = list(20 + rng.normal(0, 0.5, 24))
    sc = kpi_scorecard(kpis=_kpi_frame(stable), targets=TARGETS, period="2026-10", include=("asa_s",))
    r = sc.tiles("B01").loc["asa_s"]
    assert r["chart"] == "i"
    assert r["variation_code"] == "common_cause"
    assert r["assurance_code"] == "consistently_pass"  # target 30 s far above the UCL, lower is better
    shifted = stable[:17] + [v + 6 for v in stable[17:]]  # up from the 18th month: worse for ASA
    sc2 = kpi_scorecard(kpis=_kpi_frame(shifted), targets=TARGETS, period="2026-10", include=("asa_s",))
    r2 = sc2.tiles("B01").loc["asa_s"]
    assert r2["variation_code"] == "concern"
    assert any(w.code == "W-SC-03" for w in sc2.warnings)
    # data after the report month are never used
    sc3 = kpi_scorecard(kpis=_kpi_frame(shifted), targets=TARGETS, period="2026-03", include=("asa_s",))
    assert sc3.history["period"].max() == "2026-03"
    assert sc3.tiles("B01").loc["asa_s", "variation_code"] == "common_cause"


def test_proportion_kpi_uses_p_chart_and_missing_target_is_flagged():
    rng = np.random.default_rng(5)
    sl = rng.binomial(1000, 0.72, 24)
    k = _kpi_frame([20.0 + 0.1 * i % 3 for i in range(24)], sl_counts=sl)
    tg = TARGETS.loc[TARGETS["kpi"] != "service_level"]
    sc = kpi_scorecard(kpis=k, targets=tg, period="2026-10", include=("service_level", "asa_s"))
    r = sc.tiles("B01").loc["service_level"]
    assert r["chart"] in ("p", "p_laney")
    assert r["assurance_code"] == "none" and np.isnan(r["target"])
    assert any(w.code == "W-SC-01" for w in sc.warnings)
    sc_t = kpi_scorecard(kpis=k, targets=TARGETS, period="2026-10", include=("service_level",))
    assert sc_t.tiles("B01").loc["service_level", "assurance_code"] == "consistently_fail"  # 0.8 above UCL ≈ .76


def test_too_few_months_gives_no_verdict():
    sc = kpi_scorecard(kpis=_kpi_frame([20.0, 21.0, 19.0]), targets=TARGETS, period="2025-01", include=("asa_s",))
    r = sc.tiles("B01").loc["asa_s"]
    assert r["variation_code"] == "none" and r["assurance_code"] == "none"
    w2 = [w for w in sc.warnings if w.code == "W-SC-02"]
    assert len(w2) == 1 and w2[0].evidence["series"] == ["B01 asa_s"]


# ---- demo data
@pytest.fixture(scope="module")
def demo_scorecard(demo_data):
    return kpi_scorecard(demo_data, period="2026-10")


def test_demo_b07_waiting_time_shift_is_a_concern(demo_scorecard, demo_data):
    t = demo_scorecard.tiles("B07")
    for k in ("service_level", "asa_s", "abandonment_rate"):
        assert t.loc[k, "variation_code"] == "concern", k
    # B07 has the most KPIs in concern among the branches
    br = demo_scorecard.table.loc[demo_scorecard.table["branch"] != "ALL"]
    counts = br.loc[br["variation_code"] == "concern"].groupby("branch").size()
    assert counts.idxmax() == "B07"
    # before the shift (2026-03) B07's waiting-time KPIs are common cause
    before = kpi_scorecard(demo_data, period="2026-03", branches=["B07"])
    for k in ("service_level", "asa_s", "abandonment_rate"):
        assert before.tiles("B07").loc[k, "variation_code"] == "common_cause", k


def test_demo_tiles_carry_n_ci_target_and_definitions(demo_scorecard, demo_data):
    net = demo_scorecard.tiles("ALL")
    assert set(net.index) == {"service_level", "asa_s", "abandonment_rate", "aht_s", "fcr_rate",
                              "complaint_rate_per_1000", "csat_mean"}
    assert (net["n"] > 0).all()
    assert (net["ci_low"] <= net["value"]).all() and (net["value"] <= net["ci_high"]).all()
    assert net.loc["service_level", "target"] == 0.8
    # monthly network proportions over ~80,000 calls are overdispersed on one stage of limits: Laney p′ (sqc.spc's
    # W-SPC-03 rule); with the limits recalculated at the 2026-04 shift the stages take up that extra variation
    one = kpi_scorecard(kpis=demo_scorecard.history, targets=demo_data.targets, period="2026-10",
                        include=("service_level",), branches=["B01"], recalculate=False)
    assert one.tiles("ALL").loc["service_level", "chart"] == "p_laney"
    assert demo_scorecard.recalculations.set_index(["branch", "kpi"]).loc[("ALL", "service_level"), "period"] \
        == "2026-04"
    assert net.loc["service_level", "chart"] in ("p", "p_laney")
    assert net.loc["complaint_rate_per_1000", "chart"] in ("u", "u_laney")
    assert np.isfinite(net.loc["asa_s", "median"]) and np.isfinite(net.loc["asa_s", "p90"])
    assert net.loc["asa_s", "median"] < net.loc["asa_s", "value"] < net.loc["asa_s", "p90"]  # right-skewed
    sl = demo_scorecard.definitions.set_index("kpi").loc["service_level", "definition_en"]
    assert "20 s" in sl and "offered" in sl  # the SL variant is printed
    assert demo_scorecard.history["period"].max() == "2026-10"
    comp = demo_scorecard.composite
    last = comp.loc[(comp["period"] == "2026-10") & (comp["branch"] != "ALL")]
    assert sorted(last["rank"].astype(int)) == list(range(1, 13))
    assert "composite weights" in demo_scorecard.summary()


def test_quantiles_of_the_report_month_only(demo_data, demo_scorecard):
    """quantile_history=False (what the report uses) computes the waiting/handle-time quantiles of the report month
    only: the scorecard is the same, and its history lacks only the earlier months' quantile rows."""
    from sqc.kpi import QUANTILE_KPIS

    short = kpi_scorecard(demo_data, period="2026-10", quantile_history=False)
    pd.testing.assert_frame_equal(short.table, demo_scorecard.table, check_exact=True)
    pd.testing.assert_frame_equal(short.composite, demo_scorecard.composite, check_exact=True)
    assert [w.to_dict() for w in short.warnings] == [w.to_dict() for w in demo_scorecard.warnings]
    assert short.table["median"].notna().sum() > 0 and short.table["p90"].notna().sum() > 0
    quantile = demo_scorecard.history["kpi"].isin([name for name, _, _ in QUANTILE_KPIS])
    earlier = quantile & (demo_scorecard.history["period"] < "2026-10")
    assert earlier.sum() > 0
    key = ["kpi", "branch", "period"]
    expected = demo_scorecard.history.loc[~earlier].sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(short.history.sort_values(key).reset_index(drop=True), expected,
                                  check_exact=True)


def test_quantiles_of_the_report_month_only_from_frames(demo_data):
    """The same rule on plain pandas frames (no store): the same scorecard with and without the quantile history."""
    class Frames:
        store = None
        aggregation_source = None

        def __getattr__(self, name):
            return getattr(demo_data, name)

    full = kpi_scorecard(Frames(), period="2026-10", branches=["B01", "B07"])
    short = kpi_scorecard(Frames(), period="2026-10", branches=["B01", "B07"], quantile_history=False)
    pd.testing.assert_frame_equal(short.table, full.table, check_exact=True)
    pd.testing.assert_frame_equal(short.composite, full.composite, check_exact=True)
    assert short.table["p90"].notna().sum() > 0
