"""KPI definitions (methods.md §5.1): every number below is counted by hand from the toy table."""
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sqc.errors import DataError, ParameterError
from sqc.kpi import complaint_rates, definitions, hotline_kpis, kpi_series


def toy_hotline():
    # B01, 2026-03: 6 calls; B01, 2026-04: 2 calls; B02, 2026-03: 2 calls.
    rows = [
        # ts, branch, wait, answered, handle, fcr, csat
        ("2026-03-01 09:00", "B01", 10.0, True, 100.0, True, 5),
        ("2026-03-01 10:00", "B01", 25.0, True, 200.0, False, 4),
        ("2026-03-02 09:00", "B01", 3.0, False, None, None, None),    # short abandon (< 5 s), within T
        ("2026-03-02 11:00", "B01", 15.0, False, None, None, None),   # abandon within T (20 s)
        ("2026-03-03 09:00", "B01", 40.0, False, None, None, None),   # abandon after T
        ("2026-03-03 12:00", "B01", 20.0, True, 300.0, True, 2),      # exactly T: meets SL
        ("2026-04-01 09:00", "B01", 5.0, True, 50.0, None, None),
        ("2026-04-02 09:00", "B01", 30.0, True, 70.0, True, 3),
        ("2026-03-05 09:00", "B02", 1.0, True, 60.0, True, None),
        ("2026-03-06 09:00", "B02", 50.0, False, None, None, None),
    ]
    df = pd.DataFrame(rows, columns=["ts", "branch", "wait_s", "answered", "handle_s", "resolved_first_contact",
                                     "csat"])
    df["ts"] = pd.to_datetime(df["ts"])
    df["resolved_first_contact"] = df["resolved_first_contact"].astype("boolean")
    df["csat"] = df["csat"].astype("Int64")
    df.insert(0, "contact_id", range(len(df)))
    return df


def get(frame, branch, period, kpi):
    r = frame[(frame.branch == branch) & (frame.period == period) & (frame.kpi == kpi)]
    assert len(r) == 1, (branch, period, kpi)
    return r.iloc[0]


def test_hand_counted_month():
    k = hotline_kpis(toy_hotline())
    # offered 6, answered 3 (waits 10, 25, 20), answered within 20 s: 2 (10 and 20)
    r = get(k, "B01", "2026-03", "service_level")
    assert (r.numerator, r.denominator, r.value) == (2, 6, pytest.approx(2 / 6))
    r = get(k, "B01", "2026-03", "asa_s")
    assert r.value == pytest.approx((10 + 25 + 20) / 3) and r.n == 3
    assert r.sd == pytest.approx(np.std([10, 25, 20], ddof=1))
    half = stats.t.ppf(0.975, 2) * np.std([10, 25, 20], ddof=1) / np.sqrt(3)
    assert r.ci_low == pytest.approx(55 / 3 - half)
    assert get(k, "B01", "2026-03", "abandonment_rate").value == pytest.approx(3 / 6)
    assert get(k, "B01", "2026-03", "aht_s").value == pytest.approx(200.0)
    assert get(k, "B01", "2026-03", "fcr_rate").value == pytest.approx(2 / 3)
    assert get(k, "B01", "2026-03", "csat_mean").value == pytest.approx((5 + 4 + 2) / 3)
    assert get(k, "B01", "2026-03", "csat_top2").value == pytest.approx(2 / 3)
    # B01 April: FCR recorded on one answered call only
    assert get(k, "B01", "2026-04", "fcr_rate").denominator == 1
    assert set(k.columns) >= {"branch", "period", "kpi", "numerator", "denominator", "value", "n"}


@pytest.mark.parametrize("variant,num,den", [
    ("offered", 2, 6),
    ("exclude_abandoned_within_T", 2, 6 - 2),      # abandons at 3 s and 15 s are ≤ 20 s
    ("exclude_short_abandons", 2, 6 - 1),          # only the 3 s abandon is short
    ("abandoned_within_T_as_met", 2 + 2, 6),
    ("answered", 2, 3),
])
def test_service_level_variants(variant, num, den):
    k = hotline_kpis(toy_hotline(), sl_variant=variant)
    r = get(k, "B01", "2026-03", "service_level")
    assert (r.numerator, r.denominator) == (num, den)
    assert any(variant_text in k.attrs["definitions"][0]["definition_en"] for variant_text in ("20 s",))


def test_threshold_and_short_abandon_parameters():
    k = hotline_kpis(toy_hotline(), sl_threshold=10, exclude_short_abandons=True)
    assert get(k, "B01", "2026-03", "service_level").numerator == 1
    r = get(k, "B01", "2026-03", "abandonment_rate")
    assert (r.numerator, r.denominator) == (2, 5)
    assert "10 s" in definitions(sl_threshold=10).iloc[0]["definition_en"]


def test_daily_and_totals_are_sums_not_means():
    k = hotline_kpis(toy_hotline(), total=True)
    r = get(k, "ALL", "2026-03", "service_level")
    # B01: 2/6, B02: 1/2 → pooled 3/8 (not the mean of 1/3 and 1/2)
    assert (r.numerator, r.denominator) == (3, 8)
    d = hotline_kpis(toy_hotline(), freq="day")
    assert get(d, "B01", "2026-03-01", "asa_s").value == pytest.approx(17.5)


def test_start_end_filter_and_series():
    k = hotline_kpis(toy_hotline(), end="2026-03")
    assert set(k.period) == {"2026-03"}
    s = kpi_series(hotline_kpis(toy_hotline()), "asa_s", "B01")
    assert list(s.period) == ["2026-03", "2026-04"]


def test_quantiles_optional():
    k = hotline_kpis(toy_hotline(), quantiles=True)
    assert get(k, "B01", "2026-03", "asa_median_s").value == pytest.approx(20.0)


def test_bad_inputs():
    df = toy_hotline()
    with pytest.raises(ParameterError):
        hotline_kpis(df, sl_variant="nonsense")
    with pytest.raises(ParameterError):
        hotline_kpis(df, freq="week")
    bad = df.copy()
    bad.loc[3, "wait_s"] = -1
    with pytest.raises(DataError) as e:
        hotline_kpis(bad)
    assert e.value.column == "wait_s" and e.value.row == 3
    bad = df.copy().astype({"csat": object})
    bad.loc[0, "csat"] = "excellent"
    with pytest.raises(DataError) as e:
        hotline_kpis(bad)
    assert e.value.column == "csat"
    with pytest.raises(DataError):
        hotline_kpis(df.drop(columns="answered"))


def test_complaint_rate_exposure():
    comp = pd.DataFrame({"complaint_id": range(5), "opened_at": pd.to_datetime(
        ["2026-03-02", "2026-03-20", "2026-03-21", "2026-04-01", "2026-03-05"]),
        "branch": ["B01", "B01", "B01", "B01", "B02"], "category": ["billing"] * 5})
    vol = pd.DataFrame({"branch": ["B01", "B01", "B02", "B02"], "period": ["2026-03", "2026-04", "2026-03", "2026-04"],
                        "walk_ins": 1, "active_customers": [20000, 20000, 5000, 5000]})
    r = complaint_rates(comp, vol, total=True)
    b01 = r[(r.branch == "B01") & (r.period == "2026-03")].iloc[0]
    assert b01.value == pytest.approx(3 / 20)          # 3 complaints per 20 thousand customers
    assert b01.denominator == 20 and b01.n == 20000
    # exact Poisson CI (Garwood): chi2(0.025, 6)/2/20 .. chi2(0.975, 8)/2/20
    assert b01.ci_low == pytest.approx(stats.chi2.ppf(0.025, 6) / 2 / 20)
    assert b01.ci_high == pytest.approx(stats.chi2.ppf(0.975, 8) / 2 / 20)
    zero = r[(r.branch == "B02") & (r.period == "2026-04")].iloc[0]
    assert zero.numerator == 0 and zero.value == 0
    tot = r[(r.branch == "ALL") & (r.period == "2026-03")].iloc[0]
    assert tot.value == pytest.approx(4 / 25)
    vol0 = vol.copy()
    vol0.loc[1, "active_customers"] = 0
    with pytest.raises(DataError) as e:
        complaint_rates(comp, vol0)
    assert e.value.column == "active_customers"
