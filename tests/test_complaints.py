"""Complaints and recovery (sqc.complaints) against R survival / stats reference numbers and the demo data."""
import numpy as np
import pandas as pd
import pytest

from sqc.complaints import (_poisson_ci, check_sheet, compare_periods, complaint_pareto, detect_surges,
                            prepare_complaints, rate_ratio_exact, recovery_metrics, time_to_resolve)
from sqc.errors import DataError, InsufficientDataError, ParameterError

CUT = pd.Timestamp("2026-11-01")  # as_of="2026-10"

# R 4.2.2, survival 3.5.3, computed 2026-11-22:
#   f <- survfit(Surv(time, status) ~ 1, conf.type = "log-log"); quantile(f, c(.5, .9)); summary(f, times = 5)
KM1_TIME = [0.5, 1.2, 1.2, 2.0, 2.5, 3.1, 3.1, 3.1, 4.0, 4.4, 5.0, 5.5, 6.1, 7.0, 7.0, 8.2, 9.0, 10.5, 12.0, 15.0,
            0.8, 2.2, 3.5, 6.5, 9.5, 11.0, 14.0, 20.0]
KM1_STATUS = [1, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 1, 0, 1, 0, 1, 0, 1, 0, 0]
KM1_R = dict(median=7, median_ci=(4, 11), p90=15, p90_ci=(11, np.nan), s5=0.6079508727, s5_ci=(0.3912649470,
                                                                                                 0.7680251804))
# second data set, same R call with summary(f, times = 10)
KM2_TIME = [1, 2, 2, 3, 4, 4, 5, 6, 7, 8, 9, 10, 12, 14, 15, 18, 20, 21, 25, 30, 3, 5, 8, 11, 16]
KM2_STATUS = [1, 1, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 1, 0, 1, 0, 1, 0, 1, 0]
KM2_R = dict(median=11, median_ci=(5, 18), p90=30, p90_ci=(20, np.nan), s10=0.5172222, s10_ci=(0.2954069, 0.7001587))


def complaints_from_durations(days, closed, *, category="billing", start="2026-03-01"):
    """Complaints whose time to resolve (closed) or time open at the cut-off (censored) equals ``days``."""
    days = np.asarray(days, dtype=float)
    closed = np.asarray(closed, dtype=bool)
    td = pd.to_timedelta(days, unit="D")
    opened = np.where(closed, pd.Timestamp(start), CUT - td)
    opened = pd.to_datetime(opened)
    closed_at = pd.Series(opened + td).where(closed)
    n = len(days)
    return pd.DataFrame({"complaint_id": [f"C{i:04d}" for i in range(n)], "opened_at": opened,
                         "closed_at": closed_at, "branch": "B01", "channel": "hotline", "category": category,
                         "severity": "low", "recovered": pd.array(np.where(closed, True, None), dtype="boolean"),
                         "reopened": False})


@pytest.mark.parametrize("time_, status, ref, t_sla",
                         [(KM1_TIME, KM1_STATUS, KM1_R, 5), (KM2_TIME, KM2_STATUS, KM2_R, 10)])
def test_kaplan_meier_matches_R_survival(time_, status, ref, t_sla):
    c = complaints_from_durations(time_, status)
    ttr = time_to_resolve(c, as_of="2026-10", sla_days=t_sla)
    r = ttr.table.loc["ALL"]
    assert r["n"] == len(time_) and r["open"] == len(time_) - sum(status)
    assert r["median"] == pytest.approx(ref["median"], abs=1e-6)
    assert (r["median_ci_low"], r["median_ci_high"]) == pytest.approx(ref["median_ci"], abs=1e-6)
    assert r["p90"] == pytest.approx(ref["p90"], abs=1e-6)
    assert r["p90_ci_low"] == pytest.approx(ref["p90_ci"][0], abs=1e-6)
    assert np.isnan(r["p90_ci_high"])  # R: NA (upper limit not reached)
    s_key = "s5" if t_sla == 5 else "s10"
    assert r["within_sla"] == pytest.approx(1 - ref[s_key], abs=1e-6)
    assert (r["within_sla_ci_low"], r["within_sla_ci_high"]) == pytest.approx(
        (1 - ref[f"{s_key}_ci"][1], 1 - ref[f"{s_key}_ci"][0]), abs=1e-6)


def test_open_cases_are_censored_not_dropped():
    # closing only the closed cases would make the median shorter (biased short)
    c = complaints_from_durations(KM1_TIME, KM1_STATUS)
    naive = np.median(np.asarray(KM1_TIME)[np.asarray(KM1_STATUS, bool)])
    km = time_to_resolve(c, as_of="2026-10").table.loc["ALL", "median"]
    assert naive < km


def test_closed_after_cutoff_counts_as_open():
    c = complaints_from_durations([2.0, 3.0], [True, True], start="2026-10-30")
    # both close after 2026-11-01: at the October cut-off they were open for 2 days
    r = time_to_resolve(c, as_of="2026-10", min_n=1).table.loc["ALL"]
    assert r["open"] == 2 and r["closed"] == 0
    assert np.isnan(r["median"])
    w = [w.code for w in time_to_resolve(c, as_of="2026-10", min_n=1).warnings]
    assert "W-CMP-02" in w
    rec = recovery_metrics(c, as_of="2026-10", min_n=1)
    assert (rec.table["n"] == 0).all()  # no closed complaint yet: no denominator, no fake rate
    assert rec.table["value"].isna().all()


def test_closed_before_opened_is_counted_or_raised():
    c = complaints_from_durations([1, 2, 3, 4], [True] * 4)
    c.loc[2, "closed_at"] = c.loc[2, "opened_at"] - pd.Timedelta(hours=5)
    prep = prepare_complaints(c, as_of="2026-10")
    assert len(prep.frame) == 3
    assert prep.exclusions.loc[0, "reason"] == "closed before opened"
    assert prep.exclusions.loc[0, "count"] == 1 and prep.exclusions.loc[0, "first_ids"] == ["C0002"]
    assert prep.warnings[0].code == "W-CMP-01"
    with pytest.raises(DataError) as e:
        prepare_complaints(c, as_of="2026-10", on_invalid="raise")
    assert e.value.column == "closed_at" and e.value.row == 2
    # the exclusion travels into every result
    assert any(w.code == "W-CMP-01" for w in time_to_resolve(c, as_of="2026-10").warnings)


def test_recovery_rates_wilson_golden():
    # methods.md §6.4 golden for the Wilson interval: 160/200 -> [0.7391, 0.8495]
    c = complaints_from_durations([1.0] * 200, [True] * 200)
    c["recovered"] = pd.array([True] * 160 + [False] * 40, dtype="boolean")
    c["reopened"] = pd.array([True] * 160 + [False] * 40, dtype="boolean")
    t = recovery_metrics(c, as_of="2026-10").table.set_index("metric")
    for m in ("recovery_rate", "reopen_rate"):
        assert t.loc[m, "value"] == pytest.approx(0.8)
        assert (t.loc[m, "ci_low"], t.loc[m, "ci_high"]) == pytest.approx((0.7391, 0.8495), abs=5e-5)
    assert t.loc["sla_compliance", "successes"] == 200


def test_recovery_missing_flag_leaves_denominator_and_is_counted():
    c = complaints_from_durations([1.0, 2.0, 9.0], [True] * 3)
    c["recovered"] = pd.array([True, None, False], dtype="boolean")
    t = recovery_metrics(c, as_of="2026-10", sla_days=5, min_n=1).table.set_index("metric")
    assert t.loc["recovery_rate", "n"] == 2 and t.loc["recovery_rate", "missing"] == 1
    assert t.loc["sla_compliance", "successes"] == 2


def test_rate_ratio_exact_matches_R_poisson_test():
    # R 4.2: poisson.test(c(737, 308), c(300, 290)) -> conf.int 2.0223250125 2.6507456487, p 3.607169875e-38
    ratio, lo, hi, p = rate_ratio_exact(737, 300, 308, 290)
    assert ratio == pytest.approx((737 / 300) / (308 / 290))
    assert (lo, hi) == pytest.approx((2.0223250125, 2.6507456487), abs=1e-8)
    assert p == pytest.approx(3.607169875e-38, rel=1e-6)


def test_poisson_rate_ci_matches_R():
    # R 4.2: poisson.test(40, 20)$conf.int -> 1.4288293221 2.7234323482; poisson.test(0, 20) -> 0 0.1844439727
    lo, hi = _poisson_ci(np.array([40.0, 0.0]), np.array([20.0, 20.0]), 0.95)
    assert lo == pytest.approx([1.4288293221, 0.0], abs=1e-8)
    assert hi == pytest.approx([2.7234323482, 0.1844439727], abs=1e-8)


def _mix_frame():
    # category × window table; R 4.2 chisq.test(m, correct = FALSE): X-squared = 6.9248320053, df = 6,
    # p = 0.3278547117 with m = cbind(c(51,70,47,26,23,25,28), c(67,62,37,37,25,23,21))
    cats = ["billing", "network", "installation", "product_info", "staff_attitude", "other", "waiting_time"]
    first = [51, 70, 47, 26, 23, 25, 28]
    second = [67, 62, 37, 37, 25, 23, 21]
    rows = []
    for month, counts in (("2026-02", first), ("2026-08", second)):
        for cat, k in zip(cats, counts):
            rows += [(cat, pd.Timestamp(f"{month}-10"))] * k
    f = pd.DataFrame(rows, columns=["category", "opened_at"])
    f["complaint_id"] = [f"C{i}" for i in range(len(f))]
    f["closed_at"] = f["opened_at"] + pd.Timedelta(days=1)
    f["branch"], f["channel"], f["severity"] = "B01", "online", "medium"
    f["recovered"], f["reopened"] = True, False
    return f


def test_compare_periods_chi_square_matches_R():
    cmp_ = compare_periods(_mix_frame(), "2026-02", "2026-08", as_of="2026-10")
    assert cmp_.chi2 == pytest.approx(6.9248320053, abs=1e-8)
    assert cmp_.df == 6
    assert cmp_.p_value == pytest.approx(0.3278547117, abs=1e-9)
    assert cmp_.merged == []
    b = cmp_.table.loc["billing"]
    assert b["share_1"] == pytest.approx(51 / 270) and b["share_2"] == pytest.approx(67 / 272)
    assert b["share_diff_ci_low"] < b["share_diff"] < b["share_diff_ci_high"]


def test_compare_periods_merges_small_expected_cells():
    f = _mix_frame()
    f = f.loc[~((f["category"] == "other") & (f.index % 10 != 0))]  # "other" now tiny
    cmp_ = compare_periods(f, "2026-02", "2026-08", as_of="2026-10")
    assert "other" in cmp_.merged and cmp_.df < 6
    assert any(w.code == "W-CMP-05" for w in cmp_.warnings)


def test_pareto_counts_weights_and_rates():
    f = _mix_frame()
    f.loc[f["category"] == "waiting_time", "severity"] = "high"
    vol = pd.DataFrame({"branch": "B01", "period": [f"2026-{m:02d}" for m in range(1, 11)],
                        "walk_ins": 100, "active_customers": 10_000})
    p = complaint_pareto(f, start="2026-08", end="2026-08", volumes=vol, as_of="2026-10")
    t = p.table
    # ties broken by name; "other" last although it outnumbers waiting_time
    assert list(t.index) == ["billing", "network", "installation", "product_info", "staff_attitude", "waiting_time",
                             "other"]
    assert t.loc["billing", "complaints"] == 67 and t["complaints"].sum() == 272
    assert t["cum_percent"].iloc[-1] == pytest.approx(100)
    assert t.index[-1] == "other"  # "other" never leads
    # weighted: medium 3, high 9
    assert t.loc["waiting_time", "weighted"] == 21 * 9 and t.loc["billing", "weighted"] == 67 * 3
    # rate per 10,000 customer-months, exact Poisson CI
    assert t.loc["billing", "rate"] == pytest.approx(67.0)
    assert p.vital_few[0] == "billing"
    w = complaint_pareto(f, start="2026-08", end="2026-08", basis="weighted", as_of="2026-10")
    # billing 67×3 = 201, waiting_time 21×9 = 189, network 62×3 = 186
    assert list(w.table.index[:3]) == ["billing", "waiting_time", "network"]
    assert w.table["count"].iloc[:3].tolist() == [201, 189, 186]


def test_check_sheet_tallies():
    f = _mix_frame()
    cs = check_sheet(f, columns="month", as_of="2026-10")
    assert cs.loc["billing", "2026-02"] == 51 and cs.loc["billing", "2026-08"] == 67
    assert cs.loc["Total", "Total"] == len(f)
    wk = check_sheet(f, columns="week", as_of="2026-10")
    assert wk.loc["Total", "Total"] == len(f)
    assert set(wk.columns) == {"2026-02-09", "2026-08-10", "Total"}


def test_parameter_errors():
    f = _mix_frame()
    with pytest.raises(ParameterError):
        complaint_pareto(f, by="colour")
    with pytest.raises(ParameterError):
        complaint_pareto(f, basis="rate")
    with pytest.raises(ParameterError):
        complaint_pareto(f, severity_weights={"low": -1, "medium": 1, "high": 1})
    with pytest.raises(ParameterError):
        complaint_pareto(f, severity_weights={"low": 0, "medium": 0, "high": 0})
    with pytest.raises(ParameterError):
        time_to_resolve(f, sla_days=0)
    with pytest.raises(ParameterError):
        prepare_complaints(f, on_invalid="ignore")
    with pytest.raises(ParameterError):
        prepare_complaints(f, as_of="October")
    with pytest.raises(DataError):
        prepare_complaints(f.drop(columns=["closed_at"]))
    with pytest.raises(InsufficientDataError):
        compare_periods(f, "2026-02", "2026-05")
    g = f.copy()
    g["severity"] = "urgent"
    with pytest.raises(DataError):
        complaint_pareto(g)


# ---- demo data: the planted billing surge from 2026-08 (datasets/README.md effect 2)
def test_demo_billing_surge_found(demo_data):
    s = detect_surges(demo_data.complaints, demo_data.volumes, as_of="2026-10")
    assert s.surging == ["billing"]
    b = s.table.loc["billing"]
    assert b["first_signal"] == "2026-08"
    assert 2.0 < b["rate_ratio_ci_low"] and b["rate_ratio"] == pytest.approx(2.5, abs=0.3)
    assert any(w.code == "W-CMP-04" and w.evidence["category"] == "billing" for w in s.warnings)
    before = detect_surges(demo_data.complaints, demo_data.volumes, as_of="2026-07")
    assert before.surging == []


def test_demo_pareto_billing_moves_first(demo_data):
    before = complaint_pareto(demo_data.complaints, start="2026-05", end="2026-07", as_of="2026-10")
    after = complaint_pareto(demo_data.complaints, start="2026-08", end="2026-10", as_of="2026-10")
    assert after.table.index[0] == "billing"
    assert after.table.loc["billing", "percent"] > before.table.loc["billing", "percent"] + 10
    cmp_ = compare_periods(demo_data.complaints, ("2026-05", "2026-07"), ("2026-08", "2026-10"),
                           volumes=demo_data.volumes, as_of="2026-10")
    assert cmp_.p_value < 1e-10
    assert cmp_.table.loc["billing", "p_adjusted"] < 1e-10
    assert cmp_.table.loc["billing", "rate_ratio_ci_low"] > 2


def test_demo_time_to_resolve_and_recovery(demo_data):
    ttr = time_to_resolve(demo_data.complaints, as_of="2026-10", by="severity", sla_days=5)
    t = ttr.table
    # README: median time to close ~2.5 / 1.7 / 0.9 days for low / medium / high severity
    assert t.loc["high", "median"] < t.loc["medium", "median"] < t.loc["low", "median"]
    assert t.loc["ALL", "open"] == 119  # README: 119 still open at the cut-off
    rec = recovery_metrics(demo_data.complaints, as_of="2026-10")
    r = rec.table.set_index("metric")
    assert r.loc["reopen_rate", "successes"] == 655  # closed and reopened (README: 663 reopened in all)


# ---- property: without censoring the KM quantile (R survival convention: midpoint where S equals 1 - q over an
# interval) is the averaged sample quantile, R type 2 = numpy method "averaged_inverted_cdf"
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 400), min_size=1, max_size=60))
def test_km_without_censoring_equals_empirical_quantiles(tenths):
    days = np.asarray(tenths, dtype=float) / 10
    c = complaints_from_durations(days, np.ones(days.size, dtype=bool))
    r = time_to_resolve(c, as_of="2026-10", min_n=1).table.loc["ALL"]
    for q, key in ((0.5, "median"), (0.9, "p90")):
        assert r[key] == pytest.approx(np.quantile(days, q, method="averaged_inverted_cdf"))
    assert r["open"] == 0 and r["closed"] == days.size


@pytest.mark.parametrize("days, closed, expected", [
    # R 4.2.2 survival 3.5.3: quantile(survfit(Surv(t, s) ~ 1), c(.5, .9))$quantile, computed 2026-11-22
    ([0.1, 0.2], [1, 1], (0.15, 0.20)),
    ([1, 2, 3, 4], [1, 1, 1, 1], (2.5, 4.0)),
    ([1, 2, 2, 3, 5], [1, 1, 0, 1, 0], (3.0, np.nan)),
])
def test_km_quantile_convention_matches_R(days, closed, expected):
    c = complaints_from_durations(days, np.asarray(closed, bool))
    r = time_to_resolve(c, as_of="2026-10", min_n=1).table.loc["ALL"]
    assert r["median"] == pytest.approx(expected[0])
    if np.isnan(expected[1]):
        assert np.isnan(r["p90"])
    else:
        assert r["p90"] == pytest.approx(expected[1])
