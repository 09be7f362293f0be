"""Zone of tolerance, segment comparisons, shrinkage, trends, IPA and the gap model (sqc.servqual).

R references: R 4.2 stats, computed 2026-11-22 on the toy data written in the tests (oneway.test, kruskal.test;
Dunn z by hand from rank()).
"""
import numpy as np
import pandas as pd
import pytest

from sqc.errors import DataError, ParameterError
from sqc.servqual import (Instrument, audit_conformance, compare_segments, default_mapping, gap_model, ipa,
                          kpi_conformance, score, segment_heatmap, shrunken_means, trend, zone_of_tolerance)


def inst_of(k_per=(1,), scale=(1, 7)):
    dims = [d for j, m in enumerate(k_per) for d in [f"d{j + 1}"] * m]
    return Instrument.from_frame(pd.DataFrame({"item": range(1, len(dims) + 1), "dimension": dims,
                                               "reverse_keyed": False, "scale_min": scale[0],
                                               "scale_max": scale[1], "text_en": "", "text_zh": ""}))


# ------------------------------------------------------------------ zone of tolerance (§1.4)
def test_zot_by_hand_and_inconsistent_excluded():
    inst = inst_of((2,), scale=(1, 9))
    df = pd.DataFrame({"A1": [4, 5, 6, 3], "D1": [8, 7, 5, 6], "P1": [6, 4, 7, 7],
                       "A2": [3, 3, 3, 3], "D2": [9, 9, 9, 9], "P2": [5, 2, 9, 5]})
    z = zone_of_tolerance(df, inst)
    it = z.items.loc[1]
    # row 2 (D=5 < A=6) excluded: remaining (A,D,P) = (4,8,6), (5,7,4), (3,6,7)
    assert z.n_inconsistent == 1 and it["n"] == 3 and it["n_inconsistent"] == 1
    assert it["msa"] == pytest.approx(np.mean([2, -1, 4]))
    assert it["mss"] == pytest.approx(np.mean([-2, -3, 1]))
    assert it["width"] == pytest.approx(np.mean([4, 2, 3]))
    assert (it["share_below"], it["share_inside"], it["share_above"]) == pytest.approx((1 / 3, 1 / 3, 1 / 3))
    assert [w.code for w in z.warnings] == ["W-SQ-02"]
    kept = zone_of_tolerance(df, inst, inconsistent="keep")
    assert kept.items.loc[1, "n"] == 4 and kept.n_inconsistent == 1
    clean = zone_of_tolerance(df.drop(index=2), inst)
    assert clean.warnings == []


def test_zot_share_wilson_ci_golden():
    # methods.md §6.4: Wilson 160/200 → [0.7391, 0.8495]
    inst = inst_of((1,))
    inside = np.r_[np.ones(160), np.zeros(40)]
    df = pd.DataFrame({"A1": 3, "D1": 6, "P1": np.where(inside == 1, 5, 2)})
    z = zone_of_tolerance(df, inst)
    r = z.items.loc[1]
    assert r["share_inside"] == pytest.approx(0.8)
    assert r["share_inside_low"] == pytest.approx(0.7391, abs=1e-4)
    assert r["share_inside_high"] == pytest.approx(0.8495, abs=1e-4)


def test_zot_inside_score_and_missing_component():
    inst = inst_of((1,))
    df = pd.DataFrame({"E1": [7, 6] * 20, "P1": [5, 6] * 20, "A1": [4, 4] * 20, "D1": [6, 7] * 20})
    res = score(df, inst, structure=False)
    assert res.zot is not None and res.zot.items.loc[1, "share_inside"] == 1.0
    with pytest.raises(DataError):
        zone_of_tolerance(df.drop(columns="A1"), inst)


# ------------------------------------------------------------------ segments (§1.7)
G1 = [-1.0, -0.5, -1.5, -2.0, -0.75, -1.25, -0.5, -1.0]
G2 = [-0.25, 0.0, -0.5, 0.25, -0.75, 0.0, -0.25]
G3 = [-1.5, -2.5, -0.5, -3.0, -1.0, -2.0, -1.75, -2.25, -0.25]


def toy_result():
    g = np.r_[G1, G2, G3]
    inst = inst_of((1,), scale=(1, 9))
    # E fixed at 8 → gap = P − 8 with P = 8 + g, but P must be integer: use 4 items per respondent? simpler:
    # give respondents gap values via a 4-item dimension whose item gaps average to g (quarters are exact)
    rows = []
    for v in g:
        q = int(round(v * 4))               # total of 4 item gaps
        parts = [q // 4] * 4
        for i in range(q - sum(parts)):
            parts[i] += 1
        rows.append([8] * 4 + [8 + p for p in parts])
    df = pd.DataFrame(rows, columns=[f"E{i}" for i in range(1, 5)] + [f"P{i}" for i in range(1, 5)])
    df["grp"] = ["a"] * 8 + ["b"] * 7 + ["c"] * 9
    res = score(df, inst_of((4,), scale=(1, 9)), structure=False)
    assert res.respondents["G_d1"].to_numpy() == pytest.approx(g)
    return res


def test_welch_anova_kruskal_dunn_match_r():
    res = toy_result()
    cmp = compare_segments(res, "grp", min_n=5)
    t = cmp.tests.loc["d1"]
    # R: oneway.test(y ~ g): F = 12.948948, num df 2, denom df 13.47268, p = 0.0007290657
    assert t["welch_F"] == pytest.approx(12.948948, abs=1e-5)
    assert t["df2"] == pytest.approx(13.47268, abs=1e-4)
    assert t["welch_p"] == pytest.approx(0.0007290657, abs=1e-9)
    # R: kruskal.test: chi-squared = 11.70096, p = 0.002878517
    assert t["kw_H"] == pytest.approx(11.70096, abs=1e-4)
    assert t["kw_p"] == pytest.approx(0.002878517, abs=1e-8)
    assert t["epsilon2"] == pytest.approx(11.70096 * 25 / (24 ** 2 - 1), abs=1e-5)
    post = cmp.posthoc[cmp.posthoc["dimension"] == "d1"].set_index(["A", "B"])
    # Dunn z (R by hand): a-b -2.380409348 (p .01729341542), a-c 0.9484146023, b-c 3.359096547 (p .000781977423)
    assert post.loc[("a", "b"), "z_dunn"] == pytest.approx(-2.380409348, abs=1e-8)
    assert post.loc[("a", "c"), "z_dunn"] == pytest.approx(0.9484146023, abs=1e-8)
    assert post.loc[("b", "c"), "p_dunn"] == pytest.approx(0.000781977423, abs=1e-10)
    assert post.loc[("a", "b"), "p_dunn_adj"] == pytest.approx(min(1, 2 * 0.01729341542), abs=1e-9)  # Holm rank 2
    assert post.loc[("b", "c"), "diff"] == pytest.approx(np.mean(G2) - np.mean(G3))


def test_small_cell_suppression():
    res = toy_result()
    cmp = compare_segments(res, "grp", min_n=8)             # b has 7 → suppressed
    grp = cmp.groups[cmp.groups["dimension"] == "d1"].set_index("segment")
    assert grp.loc["b", "suppressed"] and np.isnan(grp.loc["b", "mean"])
    assert cmp.tests.loc["d1", "n_segments"] == 2
    assert any(w.code == "W-SQ-09" for w in cmp.warnings)
    hm = segment_heatmap(res, "grp", min_n=30)
    assert hm["suppressed"].all() and hm["mean"].isna().all()


def test_shrunken_means_by_hand():
    res = toy_result()
    sh = shrunken_means(res, "grp", dimension="d1")
    groups = [np.array(G1), np.array(G2), np.array(G3)]
    n = np.array([8, 7, 9.0]); N = n.sum(); k = 3
    m = np.array([g.mean() for g in groups]); grand = np.r_[G1, G2, G3].mean()
    msb = (n * (m - grand) ** 2).sum() / (k - 1)
    msw = sum(((g - g.mean()) ** 2).sum() for g in groups) / (N - k)
    n0 = (N - (n ** 2).sum() / N) / (k - 1)
    tau2 = (msb - msw) / n0
    lam = tau2 / (tau2 + msw / n)
    w = 1 / (tau2 + msw / n)
    mu = (w * m).sum() / w.sum()
    assert sh.attrs["tau2"] == pytest.approx(tau2)
    assert sh["shrunken"].to_numpy() == pytest.approx(mu + lam * (m - mu))
    assert sh.attrs["icc"] == pytest.approx(tau2 / (tau2 + msw))
    # shrinkage pulls every mean toward μ, never past it
    assert np.all(np.abs(sh["shrunken"] - mu) <= np.abs(sh["mean"] - mu) + 1e-12)


def test_trend_latest_change_is_welch():
    res = toy_result()
    res.respondents["wave"] = ["2026-03"] * 8 + ["2026-06"] * 7 + ["2026-09"] * 9
    tr = trend(res, "wave", min_n=5)
    ch = tr["change"].loc["d1"]
    from scipy import stats

    ref = stats.ttest_ind(G3, G2, equal_var=False)
    assert ch["diff"] == pytest.approx(np.mean(G3) - np.mean(G2))
    assert ch["p"] == pytest.approx(ref.pvalue)
    assert tr["order"] == ["2026-03", "2026-06", "2026-09"]
    assert "slope_per_wave" in tr["slope"].columns


def test_w_sq_08_expectations_differ():
    rng = np.random.default_rng(5)
    n = 200
    grp = np.repeat(["x", "y"], n // 2)
    e = np.where(grp == "x", 6.5, 4.5) + 0.3 * rng.normal(size=n)
    rows = {"E1": np.clip(np.round(e), 1, 7), "P1": np.clip(np.round(e - 1 + rng.normal(size=n)), 1, 7),
            "E2": np.clip(np.round(e), 1, 7), "P2": np.clip(np.round(e - 1 + rng.normal(size=n)), 1, 7), "grp": grp}
    res = score(pd.DataFrame(rows), inst_of((2,)), structure=False)
    assert any(w.code == "W-SQ-08" for w in compare_segments(res, "grp").warnings)
    rows["E1"] = rows["E2"] = np.full(n, 6.0)
    res2 = score(pd.DataFrame(rows), inst_of((2,)), structure=False)
    assert not any(w.code == "W-SQ-08" for w in compare_segments(res2, "grp").warnings)


def test_unknown_grouping_column():
    with pytest.raises(DataError):
        compare_segments(toy_result(), "branch")
    with pytest.raises(ParameterError):
        compare_segments(toy_result(), "grp", measure="loyalty")


# ------------------------------------------------------------------ IPA (§1.8)
def ipa_result():
    rng = np.random.default_rng(11)
    n = 300
    inst = inst_of((2, 2, 2))
    f = rng.normal(size=n)
    P = {f"P{i}": np.clip(np.round(5 + (i - 3) * 0.3 + f + 0.7 * rng.normal(size=n)), 1, 7) for i in range(1, 7)}
    E = {f"E{i}": np.clip(np.round(6 + 0.5 * rng.normal(size=n)), 1, 7) for i in range(1, 7)}
    df = pd.DataFrame({**E, **P})
    df["I_d1"], df["I_d2"], df["I_d3"] = 50, 30, 20
    df.loc[::2, ["I_d1", "I_d2", "I_d3"]] = [40, 40, 20]
    df["overall"] = np.clip(np.round(df["P1"] * 0.6 + df["P5"] * 0.2 + rng.normal(size=n)), 1, 7)
    return score(df, inst, structure=False)


def test_ipa_stated_data_and_scale_centred():
    res = ipa_result()
    a = ipa(res, importance="stated", centre="data")
    assert a.crosshair["importance"] == pytest.approx(res.importance["mean"].mean())
    assert a.crosshair["performance"] == pytest.approx(res.servperf["mean"].mean())
    assert "data-centred" in a.summary()
    b = ipa(res, importance="stated", centre="scale")
    assert b.crosshair == {"importance": pytest.approx(100 / 3), "performance": 4.0}
    assert "scale-centred" in b.summary()
    # d1: importance 45 with tight CI, performance above 4 → "keep up the good work" on the scale-centred grid
    assert b.table.loc["d1", "quadrant"] == "keep up the good work"
    assert set(a.table["quadrant"]) <= {"concentrate here", "keep up the good work", "low priority",
                                        "possible overkill", "unclassified"}


def test_ipa_unclassified_when_ci_straddles():
    res = ipa_result()
    sp = res.servperf.loc["d2", "mean"]
    a = ipa(res, importance="stated", crosshair=(30.0, sp))
    assert a.table.loc["d2", "quadrant"] == "unclassified"
    assert any(w.code == "W-IPA-01" for w in a.warnings)


def test_ipa_derived_importance_and_errors():
    res = ipa_result()
    d = ipa(res, importance="derived", outcome="overall", level="item", performance="gap")
    from scipy import stats

    P = res.item_values["P"]
    y = res.respondents["overall"].to_numpy(float)
    assert d.table.loc[1, "importance"] == pytest.approx(stats.pearsonr(P[:, 0], y).statistic)
    assert d.table["imp_low"].lt(d.table["importance"]).all()
    with pytest.raises(ParameterError):
        ipa(res, importance="derived")
    with pytest.raises(ParameterError):
        ipa(res, importance="stated", level="item")
    with pytest.raises(ParameterError):
        ipa(res, importance="derived", outcome="overall", centre="scale")


# ------------------------------------------------------------------ gap model (§2)
def test_gap_model_gap1_gap3_and_mapping():
    res = ipa_result()
    rng = np.random.default_rng(4)
    mgmt = pd.DataFrame({f"E{i}": np.clip(np.round(5 + 0.5 * rng.normal(size=25)), 1, 7) for i in range(1, 7)})
    conf = pd.DataFrame({"standard_id": ["s1", "s2", "s3", "s4"], "dimension": ["d1", "d1", "d2", None],
                         "successes": [160, 40, 5, 3], "n": [200, 50, 10, 4]})
    g = gap_model(res, management=mgmt, conformance=conf)
    dims = g.dimensions
    from scipy import stats

    C = res.item_values["E"]
    cust = np.nanmean(C[:, 0:2], axis=1)
    man = mgmt[["E1", "E2"]].mean(axis=1).to_numpy()
    ref = stats.ttest_ind(man, cust, equal_var=False)
    assert dims.loc["d1", "gap1"] == pytest.approx(man.mean() - cust.mean())
    assert dims.loc["d1", "gap1_p"] == pytest.approx(ref.pvalue)
    assert dims.loc["d1", "conformance"] == pytest.approx(200 / 250)
    assert dims.loc["d1", "standards"] == 2
    assert np.isnan(dims.loc["d3", "conformance"])
    assert g.gap3.loc[0, "ci_low"] == pytest.approx(0.7391, abs=1e-4)   # Wilson 160/200 (methods.md §6.4)
    assert any(w.code == "W-GAP-03" for w in g.warnings)
    assert dims.loc["d1", "gap5"] == pytest.approx(res.dimension_gaps.loc["d1", "mean"])
    with pytest.raises(DataError):
        gap_model(res, conformance=conf.assign(successes=[300, 1, 1, 1]))


def test_mapping_and_conformance_helpers():
    checklist = pd.DataFrame({"item_id": ["EX01", "BH06", "ZZ01"], "section": ["Exterior & signage",
                              "Business handling", "Unknown"], "text_en": ["a", "b", "c"], "text_zh": ["甲", "乙", "丙"],
                              "max_score": [1, 2, 1]})
    targets = pd.DataFrame({"kpi": ["service_level", "asa_s"], "target": [0.8, 30.0],
                            "direction": ["higher_is_better", "lower_is_better"]})
    m = default_mapping(None, checklist, targets)
    assert len(m) == 22 + 3 + 2
    mm = m.set_index("ref")
    assert mm.loc["EX01", "dimension"] == "tangibles" and mm.loc["BH06", "dimension"] == "reliability"
    assert pd.isna(mm.loc["ZZ01", "dimension"]) and mm.loc["service_level", "gap_no"] == 3
    visits = pd.DataFrame({"item_id": ["EX01", "EX01", "BH06", "BH06", "BH06"], "score": [1, 0, 2, 1, np.nan]})
    ac = audit_conformance(visits, checklist, m).set_index("ref")
    assert (ac.loc["EX01", "successes"], ac.loc["EX01", "n"]) == (1, 2)
    assert (ac.loc["BH06", "successes"], ac.loc["BH06", "n"]) == (1, 2)     # N/A left out
    kv = pd.DataFrame({"kpi": ["service_level"] * 3 + ["asa_s"] * 2, "value": [0.85, 0.7, 0.8, 25, 40]})
    kc = kpi_conformance(kv, targets, m).set_index("ref")
    assert (kc.loc["service_level", "successes"], kc.loc["service_level", "n"]) == (2, 3)
    assert (kc.loc["asa_s", "successes"], kc.loc["asa_s", "n"]) == (1, 2)
