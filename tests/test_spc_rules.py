"""Run rules, Making Data Count verdicts, chart results and property tests.

Rule references: Nelson (1984) tests 1-8, Western Electric Handbook (1956) rules 1-4, each flagging the point
that completes the pattern (qcc convention). Sequences are built by hand with centre 0 and σ = 1, so every
expected flag position can be checked by eye.
"""
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import sqc.spc as spc
from sqc.errors import DataError, InsufficientDataError, ParameterError
from sqc.spc.rules import evaluate_rules, resolve_rules


def flags(x, rule, **kw):
    x = np.asarray(x, dtype=float)
    specs = resolve_rules([rule], kw.get("lengths"))
    return np.flatnonzero(evaluate_rules(x, 0.0, 1.0, -3.0, 3.0, specs)[specs[0].name]).tolist()


def test_nelson_1_beyond_limits():
    assert flags([0, 3.5, 0, -3.1, 2.9], "nelson_1") == [1, 3]


def test_nelson_2_nine_same_side_and_configurable():
    x = [-1] + [0.5] * 9 + [-0.5]
    assert flags(x, "nelson_2") == [9]
    assert flags(x, "nelson_2", lengths={"nelson_2": 7}) == [7, 8, 9]
    assert flags([0.5] * 4 + [0.0] + [0.5] * 8, "we_4") == [12]      # a point on the centre breaks the run


def test_nelson_3_trend_of_six():
    assert flags([0, 1, 2, 3, 4, 5, 5.5, 5], "nelson_3") == [5, 6]
    assert flags([5, 4, 3, 2, 2, 1, 0], "nelson_3") == []            # a tie breaks the trend


def test_nelson_4_fourteen_alternating():
    x = [0, 1] * 7                                                   # 14 points alternating
    assert flags(x, "nelson_4") == [13]
    assert flags(x[:13], "nelson_4") == []


def test_nelson_5_two_of_three_beyond_2s_same_side():
    assert flags([0, 2.5, 0, 2.2], "nelson_5") == [3]
    assert flags([0, 2.5, 0, -2.2], "nelson_5") == []                # opposite sides
    assert flags([2.5, 2.6, 0], "we_2") == [1]


def test_nelson_6_four_of_five_beyond_1s():
    assert flags([1.5, 1.2, 0, 1.1, 1.3], "nelson_6") == [4]
    assert flags([1.5, 1.2, 0, 1.1, -1.3], "nelson_6") == []


def test_nelson_7_fifteen_within_1s_and_nelson_8_mixture():
    assert flags([0.1, -0.2] * 7 + [0.3], "nelson_7") == [14]
    assert flags([1.5, -1.5] * 4, "nelson_8") == [7]
    assert flags([1.5, -1.5, 0.5, 1.5, -1.5, 1.5, -1.5, 1.5], "nelson_8") == []


def test_rule_sets_and_errors():
    assert [s.name for s in resolve_rules("nelson")] == [f"nelson_{i}" for i in range(1, 9)]
    assert [s.name for s in resolve_rules("western_electric")] == ["we_1", "we_2", "we_3", "we_4"]
    assert [s.name for s in resolve_rules("default")] == ["nelson_1", "run_8"]
    assert resolve_rules(None) == []
    with pytest.raises(ParameterError):
        resolve_rules(["nelson_9"])
    with pytest.raises(ParameterError):
        resolve_rules(["nelson_5"], {"nelson_5": 3})


def test_windows_do_not_span_stages_and_chunking_matches():
    x = np.r_[np.full(5, 0.5), np.full(5, 0.5)]
    specs = resolve_rules(["we_4"])
    st_ = np.zeros(10, dtype=bool)
    st_[[0, 5]] = True
    assert not evaluate_rules(x, 0.0, 1.0, -3, 3, specs, st_)["we_4"].any()
    # the blocked evaluation (long series) equals the one-block evaluation
    rng = np.random.default_rng(0)
    y = rng.normal(size=600_000) + np.repeat(rng.normal(0, 0.6, 600), 1000)
    allr = resolve_rules("nelson")
    big = evaluate_rules(y, 0.0, 1.0, -3, 3, allr)
    import sqc.spc.rules as R
    one = R._evaluate_block(y, 0.0, 1.0, -3, 3, allr, np.r_[True, np.zeros(y.size - 1, dtype=bool)])
    for k in big:
        assert np.array_equal(big[k], one[k]), k


def test_signal_table_has_window_and_bilingual_explanations():
    df = pd.DataFrame({"y": [0.1, -0.1] * 10 + [5.0] + [0.0] * 3})
    r = spc.imr(df, "y", baseline=20, rules="nelson")
    s = r.i.signals
    assert {"rule", "index", "window_start", "window_end", "explanation_en", "explanation_zh"} <= set(s.columns)
    row = s[s.rule == "nelson_1"].iloc[0]
    assert row["index"] == 20 and "upper control limit" in row["explanation_en"] and "上控制限" in row["explanation_zh"]
    f = r.i.to_frame()
    assert f.loc[20, "signal"] and "nelson_1" in f.loc[20, "rules"]
    assert {"statistic", "center", "lcl", "ucl", "signal", "rules", "zone_1s_low", "zone_2s_high"} <= set(f.columns)


# --------------------------------------------------------------------------------------------- verdicts
def chart(values, **kw):
    return spc.imr(pd.DataFrame({"y": values}), "y", **kw)


def test_variation_verdict_shift_improvement_and_concern():
    base = [10, 11, 9, 10, 12, 8, 10, 11, 9, 10, 11, 9, 10, 10, 12, 8]
    up = base + [11.5] * 7                                           # 7 above the mean at the end
    v = spc.variation_verdict(chart(up, baseline=16), "higher_is_better")
    assert v.verdict == "improvement" and "shift" in v.rules
    v = spc.variation_verdict(chart(up, baseline=16), "lower_is_better")
    assert v.verdict == "concern"
    assert spc.variation_verdict(chart(base), "higher_is_better").verdict == "common_cause"


def test_variation_verdict_outside_trend_two_of_three():
    base = [10, 11, 9, 10, 12, 8, 10, 11, 9, 10, 11, 9, 10, 10, 12, 8]
    out = spc.variation_verdict(chart(base + [30], baseline=16), "lower_is_better")
    assert out.verdict == "concern" and out.rules == ("outside_limits",)
    tr = spc.variation_verdict(chart(base + [9.0, 9.2, 9.4, 9.6, 9.8, 10.0, 10.2], baseline=16), "higher_is_better")
    assert "trend" in tr.rules
    c = chart(base, baseline=16).i
    sig = float(c.sigma[0])
    ctr = float(c.center[0])
    near = base + [ctr + 2.5 * sig, ctr, ctr + 2.4 * sig]
    v = spc.variation_verdict(chart(near, baseline=16), "higher_is_better")
    assert v.verdict == "improvement" and "two_of_three" in v.rules
    assert "2 of the last 3" in v.text("en") and v.text("zh")


def test_assurance_verdict():
    c = chart([90, 92, 91, 89, 90, 93, 91, 90, 92, 88, 91, 90])
    lcl, ucl = float(c.i.lcl[-1]), float(c.i.ucl[-1])
    assert spc.assurance_verdict(c, ucl + 1, "higher_is_better").verdict == "consistently_fail"
    assert spc.assurance_verdict(c, lcl - 1, "higher_is_better").verdict == "consistently_pass"
    assert spc.assurance_verdict(c, 90, "higher_is_better").verdict == "hit_and_miss"
    assert spc.assurance_verdict(c, ucl + 1, "lower_is_better").verdict == "consistently_pass"
    with pytest.raises(ParameterError):
        spc.assurance_verdict(c, 90, "up")


# --------------------------------------------------------------------------------------------- bad input (issue list)
def test_bad_non_numeric_names_column_and_row():
    df = pd.DataFrame({"y": ["1", "2", "x", "4"]})
    with pytest.raises(DataError) as e:
        spc.imr(df, "y")
    assert e.value.column == "y" and e.value.row == 2


def test_bad_subgroup_of_one_for_range_chart():
    df = pd.DataFrame({"y": [1.0, 2, 3, 4, 5], "g": [1, 1, 2, 2, 3]})
    with pytest.raises(DataError) as e:
        spc.xbar_r(df, "y", "g")
    assert e.value.column == "g" and e.value.row == 4 and e.value.value == 3


def test_bad_negative_counts_and_defectives_above_size():
    with pytest.raises(DataError) as e:
        spc.c_chart(pd.DataFrame({"c": [1, -2, 3]}), "c")
    assert e.value.column == "c" and e.value.row == 1
    with pytest.raises(DataError) as e:
        spc.p_chart(pd.DataFrame({"d": [1, 12, 3], "n": [10, 10, 10]}), "d", "n")
    assert e.value.column == "d" and e.value.row == 1


def test_bad_zero_exposure():
    with pytest.raises(DataError) as e:
        spc.u_chart(pd.DataFrame({"c": [1, 2, 3], "n": [1.0, 0.0, 2.0]}), "c", "n")
    assert e.value.column == "n" and e.value.row == 1


def test_all_equal_data_reported():
    r = spc.imr(pd.DataFrame({"y": [5.0] * 15}), "y")
    assert any(w.code == "W-SPC-06" for w in r.warnings)
    with pytest.raises(DataError):
        spc.capability(pd.DataFrame({"y": [5.0] * 15}), "y", usl=6)


def test_baseline_with_fewer_than_two_subgroups():
    df = pd.DataFrame({"y": np.arange(10.0)})
    with pytest.raises(InsufficientDataError):
        spc.imr(df, "y", baseline=1)
    with pytest.raises(InsufficientDataError):
        spc.imr(df, "y", baseline=np.r_[True, np.zeros(9, dtype=bool)])
    r = spc.imr(df, "y", baseline=5)
    assert any(w.code == "W-SPC-04" for w in r.warnings)


def test_unsorted_and_duplicated_time_stamps():
    t = pd.to_datetime(["2026-01-03", "2026-01-01", "2026-01-02", "2026-01-04"])
    r = spc.imr(pd.DataFrame({"t": t, "y": [3.0, 1.0, 2.0, 4.0]}), "y", time="t")
    assert list(r.i.statistic) == [1.0, 2.0, 3.0, 4.0]
    assert any(w.code == "W-SPC-08" for w in r.warnings)
    dup = pd.DataFrame({"t": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-02"]), "y": [1.0, 2, 3]})
    with pytest.raises(DataError) as e:
        spc.imr(dup, "y", time="t")
    assert e.value.column == "t" and e.value.row == 2


def test_missing_values_counted_not_silent():
    r = spc.imr(pd.DataFrame({"y": [1.0, np.nan, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3, 2]}), "y")
    assert len(r.i) == 12
    ex = r.i.exclusions
    assert int(ex.loc[ex.reason.str.contains("missing"), "count"].iloc[0]) == 1


def test_parameter_errors():
    df = pd.DataFrame({"y": np.arange(20.0), "g": np.repeat(np.arange(5), 4)})
    with pytest.raises(ParameterError):
        spc.xbar_r(df, "y", "g", constants="approx")
    with pytest.raises(ParameterError):
        spc.xbar_r(df, "y", "g", sigma="magic")
    with pytest.raises(ParameterError):
        spc.imr(df, "y", L=-1)
    with pytest.raises(ParameterError):
        spc.ewma(df, "y", lam=1.5)
    with pytest.raises(ParameterError):
        spc.cusum(df, "y", h=2, headstart=3)
    with pytest.raises(DataError):
        spc.imr(df, "nope")


# --------------------------------------------------------------------------------------------- features
def test_iterative_phase1_exclusion_counted():
    rng = np.random.default_rng(2)
    y = rng.normal(0, 1, 30)
    y[5] = 12.0
    r = spc.imr(pd.DataFrame({"y": y}), "y", baseline=30, iterate=True)
    ex = r.i.exclusions
    assert int(ex.loc[ex.reason.str.contains("iteration"), "count"].iloc[0]) >= 1
    assert r.i.to_frame().loc[5, "phase"] == "II"                   # excluded from the limits, still plotted
    plain = spc.imr(pd.DataFrame({"y": y}), "y", baseline=30)
    assert r.i.ucl[0] < plain.i.ucl[0]


def test_stages_have_own_limits_and_baseline_by_dates():
    t = pd.date_range("2025-01-01", periods=24, freq="MS")
    y = np.r_[np.tile([10.0, 11, 9, 10], 3), np.tile([20.0, 22, 18, 20], 3)]
    df = pd.DataFrame({"t": t, "y": y, "stage": ["A"] * 12 + ["B"] * 12})
    r = spc.imr(df, "y", time="t", stages="stage")
    f = r.i.to_frame()
    assert f.loc[0, "center"] == pytest.approx(10.0) and f.loc[23, "center"] == pytest.approx(20.0)
    assert r.i.n_signals == 0
    d = spc.imr(df, "y", time="t", baseline=("2025-01-01", "2025-12-01"))
    assert (d.i.to_frame()["phase"] == "I").sum() == 12


def test_select_chart_overdispersion_and_measurement():
    r = np.array([266501, 264225, 276532, 281461, 269071, 261215, 270409, 279778, 270483, 270320])
    n = np.array([280443, 276823, 291681, 296155, 282343, 275888, 283867, 295251, 284468, 282529])
    rec = spc.select_chart("proportion", counts=r, sizes=n)
    assert rec.function == "laney_p" and any(w.code == "W-SPC-03" for w in rec.warnings)
    assert spc.select_chart("measurement", subgroup_size=1).function == "imr"
    assert spc.select_chart("measurement", subgroup_size=300).function == "imr"
    assert spc.select_chart("measurement", subgroup_size=5).function == "xbar_r"
    assert spc.select_chart("time_between_events").function == "t_chart"
    ac = spc.select_chart("measurement", values=np.cumsum(np.random.default_rng(1).normal(size=60)))
    assert any(w.code == "W-SPC-01" for w in ac.warnings)
    with pytest.raises(ParameterError):
        spc.select_chart("colour")


def test_pareto_order_ties_and_other_last():
    p = spc.pareto({"waiting_time": 5, "billing": 40, "other": 60, "network": 40, "staff": 10})
    assert list(p.index) == ["billing", "network", "staff", "waiting_time", "other"]
    assert p["cum_percent"].iloc[-1] == pytest.approx(100.0)
    assert p.loc["billing", "percent"] == pytest.approx(40 / 155 * 100)
    assert list(p["vital_few"]) == [True, True, True, True, False]        # "other" is never vital
    v = spc.pareto({"billing": 50, "network": 30, "staff": 10, "waiting_time": 5, "other": 5})
    assert list(v["vital_few"]) == [True, True, False, False, False]     # 50 % + 30 % reach 80 %
    with pytest.raises(DataError):
        spc.pareto({"a": -1})


def test_run_chart_flags_longest_run():
    y = [1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2] + [5] * 9
    r = spc.run_chart(pd.DataFrame({"y": y}), "y")
    assert r.params["anhoej"]["runs_signal"]
    assert r.flags["anhoej_run"][-9:].all()


# --------------------------------------------------------------------------------------------- properties
finite = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(finite, min_size=10, max_size=40), st.floats(0.1, 50), st.floats(-100, 100))
def test_imr_limits_scale_and_shift_with_data(values, a, b):
    x = np.asarray(values)
    if np.ptp(x) < 1e-6:
        return
    r1 = spc.imr(pd.DataFrame({"y": x}), "y").i
    r2 = spc.imr(pd.DataFrame({"y": a * x + b}), "y").i
    assert r2.center[0] == pytest.approx(a * r1.center[0] + b, rel=1e-9, abs=1e-6)
    assert r2.ucl[0] == pytest.approx(a * r1.ucl[0] + b, rel=1e-9, abs=1e-6)
    assert (r2.ucl[0] - r2.lcl[0]) == pytest.approx(a * (r1.ucl[0] - r1.lcl[0]), rel=1e-9)
    # signals are invariant under a positive affine change of units
    assert np.array_equal(r1.signal, r2.signal)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(finite, finite, finite, finite), min_size=5, max_size=20), st.randoms())
def test_xbar_r_invariant_to_row_and_column_order(groups, rnd):
    rows = [(g, v) for g, sg in enumerate(groups) for v in sg]
    df = pd.DataFrame(rows, columns=["g", "y"]).assign(unrelated=range(len(rows)), other="x")
    if df.groupby("g")["y"].agg(np.ptp).max() == 0:
        return
    a = spc.xbar_r(df, "y", "g", rules="nelson").xbar.to_frame()
    perm = list(range(len(df)))
    rnd.shuffle(perm)
    shuffled = df.iloc[perm][["other", "y", "unrelated", "g"]]
    b = spc.xbar_r(shuffled, "y", "g", rules="nelson").xbar.to_frame()
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 50), min_size=5, max_size=30), st.integers(60, 500))
def test_p_chart_limits_stay_in_unit_interval(counts, n):
    r = spc.p_chart(pd.DataFrame({"d": counts, "n": n}), "d", "n")
    assert np.all(np.asarray(r.lcl) >= 0) and np.all(np.asarray(r.ucl) <= 1)


def test_kpi_chart_picks_the_methods_md_chart():
    r = [266501, 264225, 276532, 281461, 269071, 261215, 270409, 279778, 270483, 270320, 267923, 271478, 255353,
         256820, 261835, 259144, 255910, 260863, 264465, 260989]
    n = [280443, 276823, 291681, 296155, 282343, 275888, 283867, 295251, 284468, 282529, 279618, 283932, 266629,
         268091, 276803, 271578, 266005, 273520, 278574, 273772]
    s = pd.DataFrame({"period": pd.period_range("2025-01", periods=20, freq="M").strftime("%Y-%m"),
                      "numerator": r, "denominator": n, "value": np.array(r) / np.array(n)})
    res = spc.kpi_chart(s, "proportion", baseline=12)
    assert res.chart == "p_laney" and any(w.code == "W-SPC-03" for w in res.warnings)
    assert spc.kpi_chart(s, "proportion", laney="never").chart == "p"
    assert spc.kpi_chart(s, "mean").chart == "i"
    assert spc.kpi_chart(s.iloc[:5], "mean", baseline=12).to_frame()["phase"].eq("I").all()
    with pytest.raises(ParameterError):
        spc.kpi_chart(s, "ratio")


def test_long_series_with_stages_chunked_equals_single_block():
    import sqc.spc.rules as R
    rng = np.random.default_rng(3)
    n = 200_000
    y = rng.normal(size=n) + np.repeat(rng.normal(0, 0.7, 200), 1000)
    starts = np.zeros(n, dtype=bool)
    starts[[0, 65_530, 65_540, 131_072, 150_001]] = True            # stage starts around block edges
    specs = resolve_rules("nelson")
    sparse = evaluate_rules(y, 0.0, 1.0, -3, 3, specs, starts)
    dense = R._evaluate_block(y, 0.0, 1.0, -3, 3, specs, starts)
    for k in dense:
        assert np.array_equal(sparse[k], dense[k]), k
