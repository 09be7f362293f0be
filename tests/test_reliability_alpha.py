"""sqc.reliability.alpha against R psych 2.2.9 alpha().

Reference numbers: R 4.2, psych 2.2.9 ``alpha()``, computed 2026-11-22 on tests/data/reliability_servqual_sim.csv
(simulated, seed 20261122, written by the script quoted in tests/data/reliability_README.md) and on R's
``datasets::attitude``.
"""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sqc.errors import DataError, InsufficientDataError, ParameterError
from sqc.reliability import alpha

DATA = Path(__file__).with_name("data")
TOL = 1e-6


@pytest.fixture(scope="module")
def sim():
    return pd.read_csv(DATA / "reliability_servqual_sim.csv")


@pytest.fixture(scope="module")
def attitude():
    return pd.read_csv(DATA / "reliability_attitude.csv")


EMP = [f"P{i}" for i in range(18, 23)]
RESP = [f"P{i}" for i in range(10, 14)]


def test_alpha_pairwise_matches_psych(sim):
    # R: alpha(d[, paste0("P", 18:22)])
    r = alpha(sim[EMP])
    assert r.alpha == pytest.approx(0.657206805274379, abs=TOL)
    assert r.std_alpha == pytest.approx(0.653275190912147, abs=TOL)
    assert r.g6 == pytest.approx(0.63748215920598, abs=TOL)
    assert r.average_r == pytest.approx(0.273691985385498, abs=TOL)
    assert r.signal_noise == pytest.approx(1.88413166231385, abs=TOL)
    assert r.ase == pytest.approx(0.0265289194143718, abs=TOL)
    assert r.mean_total == pytest.approx(4.58925, abs=TOL)
    assert r.sd_total == pytest.approx(0.855361972099438, abs=TOL)
    assert r.median_r == pytest.approx(0.392196994119524, abs=TOL)
    # psych $feldt
    assert r.ci == pytest.approx((0.601072660648142, 0.707593738783534), abs=TOL)
    assert r.ci_method == "feldt" and r.n == 400
    # psych print "Duhachek": alpha +/- 1.96 * ase
    z = 1.959963984540054
    assert r.ci_duhachek == pytest.approx((0.657206805274379 - z * 0.0265289194143718,
                                           0.657206805274379 + z * 0.0265289194143718), abs=TOL)
    s = r.item_stats
    np.testing.assert_array_equal(s["n"], [386, 391, 389, 385, 390])
    np.testing.assert_allclose(s["r_raw"], [0.704952855316235, 0.736033193779678, 0.372093423585216,
                                            0.711725313937415, 0.730114683461415], atol=TOL)
    np.testing.assert_allclose(s["r_std"], [0.701687663849815, 0.740529756563230, 0.368297418137455,
                                            0.705803842815140, 0.720012529698822], atol=TOL)
    np.testing.assert_allclose(s["r_cor"], [0.5953736180076309, 0.6676980984868294, 0.0771061110142337,
                                            0.6059607316866529, 0.6378285365797294], atol=TOL)
    np.testing.assert_allclose(s["r_drop"], [0.4856359287738640, 0.5434803254121998, 0.0634038188277321,
                                             0.4911652012829706, 0.5118830369571660], atol=TOL)
    np.testing.assert_allclose(s["mean"], [4.61658031088083, 4.59846547314578, 4.59383033419023,
                                           4.53766233766234, 4.58205128205128], atol=TOL)
    np.testing.assert_allclose(s["sd"], [1.28856497854125, 1.30478319181809, 1.25983266030218,
                                         1.29673457683929, 1.35182858066480], atol=TOL)
    # psych $alpha.drop
    np.testing.assert_allclose(s["alpha_if_deleted"], [0.569378439741401, 0.539998110434652, 0.746698470718068,
                                                       0.566415726111660, 0.554136544350653], atol=TOL)
    np.testing.assert_allclose(s["std_alpha_if_deleted"], [0.563960415114090, 0.535006695413032,
                                                           0.746606370736346, 0.560991999884669,
                                                           0.550566914111290], atol=TOL)
    np.testing.assert_allclose(s["g6_if_deleted"], [0.543237894447727, 0.509013339183226, 0.691078566784955,
                                                    0.538077498006410, 0.521853098734081], atol=TOL)
    np.testing.assert_allclose(s["average_r_if_deleted"], [0.244337694486487, 0.223386714994572,
                                                           0.424164570763713, 0.242117474743852,
                                                           0.234453471938868], atol=TOL)
    np.testing.assert_allclose(s["sn_if_deleted"], [1.29336976426498, 1.15056859988178, 2.94642913046368,
                                                    1.27786281739124, 1.22502532946055], atol=TOL)
    np.testing.assert_allclose(s["ase_if_deleted"], [0.0346531156061500, 0.0370468970133047, 0.0206751886028553,
                                                     0.0349196100176312, 0.0360364797474862], atol=TOL)
    np.testing.assert_allclose(s["var_r_if_deleted"], [0.04746468487320107, 0.04179611965387010,
                                                       0.00123039991602625, 0.04463494181977222,
                                                       0.03906553330223359], atol=TOL)
    np.testing.assert_allclose(s["median_r_if_deleted"], [0.238138214350059, 0.222161664384266,
                                                          0.416710164830833, 0.234713228602992,
                                                          0.234713228602992], atol=TOL)
    # psych $response.freq (P18 and P19 rows)
    f = r.response_freq
    np.testing.assert_allclose(f.loc["P18"].to_numpy(), [0.0103626943005181, 0.0621761658031088, 0.0958549222797927,
                                                         0.274611398963731, 0.300518134715026, 0.202072538860104,
                                                         0.0544041450777202, 0.0350], atol=TOL)
    np.testing.assert_allclose(f.loc["P19"].to_numpy(), [0.0, 0.0460358056265985, 0.1636828644501279,
                                                         0.273657289002558, 0.268542199488491, 0.158567774936061,
                                                         0.0895140664961637, 0.0225], atol=TOL)


def test_weak_item_flagged(sim):
    r = alpha(sim[EMP])
    codes = {(w.code, w.subject) for w in r.warnings}
    assert ("W-REL-02", "P20") in codes


def test_reverse_key_matches_psych(sim):
    # R: alpha(d[, paste0("P", 10:13)], keys = c("P11"))
    r = alpha(sim[RESP], keys=["P11"])
    assert r.alpha == pytest.approx(0.73212998898972, abs=TOL)
    assert r.std_alpha == pytest.approx(0.730951146580876, abs=TOL)
    assert r.g6 == pytest.approx(0.677168276617296, abs=TOL)
    assert r.average_r == pytest.approx(0.404478066503236, abs=TOL)
    assert r.ase == pytest.approx(0.0217708312931538, abs=TOL)
    assert r.mean_total == pytest.approx(4.609375, abs=TOL)
    assert r.sd_total == pytest.approx(0.97771693634521, abs=TOL)
    assert r.ci[0] == pytest.approx(0.686545461752567, abs=TOL)
    s = r.item_stats
    np.testing.assert_allclose(s["r_raw"], [0.729305806747570, 0.787937274893754, 0.787918631736700,
                                            0.688105577563687], atol=TOL)
    np.testing.assert_allclose(s["r_drop"], [0.490465774902908, 0.574141238673701, 0.578910098076145,
                                             0.449442475538904], atol=TOL)
    np.testing.assert_allclose(s["alpha_if_deleted"], [0.690475419493939, 0.640862007566842, 0.638076677490893,
                                                       0.711852970202900], atol=TOL)
    assert s.loc["P11", "mean"] == pytest.approx(4.53385416666667, abs=TOL)
    assert s.loc["P11", "reverse_keyed"]
    assert not any(w.code == "W-REL-01" for w in r.warnings)


def test_reverse_key_detection_reports_never_flips(sim):
    # R: alpha(d[, paste0("P", 10:13)]) (no keys) raw_alpha -0.179654524923529, r.drop of P11 -0.574141238673701
    r = alpha(sim[RESP])
    assert r.alpha == pytest.approx(-0.179654524923529, abs=TOL)
    assert r.std_alpha == pytest.approx(-0.140596132485336, abs=TOL)
    np.testing.assert_allclose(r.item_stats["r_drop"], [0.197253213946689, -0.574141238673701,
                                                        0.168523450367610, 0.258018224816631], atol=TOL)
    w = [w for w in r.warnings if w.code == "W-REL-01"]
    assert len(w) == 1 and w[0].subject == "P11" and w[0].message_zh
    assert r.keys == []


def test_listwise_matches_psych_on_complete_rows(sim):
    # R: alpha(na.omit(d[, paste0("P", 18:22)])), 348 complete rows
    r = alpha(sim[EMP], missing="listwise")
    assert r.n == 348 and r.n_complete == 348 and r.n_rows == 400
    assert r.alpha == pytest.approx(0.642626122032677, abs=TOL)
    assert r.std_alpha == pytest.approx(0.637689981753383, abs=TOL)
    assert r.g6 == pytest.approx(0.621538516067538, abs=TOL)
    assert r.ase == pytest.approx(0.0296461187872936, abs=TOL)
    assert r.mean_total == pytest.approx(4.57241379310345, abs=TOL)
    assert r.sd_total == pytest.approx(0.831330263467039, abs=TOL)
    assert r.ci == pytest.approx((0.579626398536009, 0.698735263845576), abs=TOL)
    np.testing.assert_allclose(r.item_stats["r_raw"], [0.692948128667901, 0.742179753841134, 0.356637210288648,
                                                       0.694821893631558, 0.707951551617438], atol=TOL)
    np.testing.assert_allclose(r.item_stats["alpha_if_deleted"], [0.554006755301485, 0.517955071342256,
                                                                  0.730703772033683, 0.552532380767578,
                                                                  0.544864516980354], atol=TOL)
    assert (r.item_stats["n"] == 348).all()


def test_attitude_complete_data(attitude):
    # R: alpha(attitude) (datasets package)
    r = alpha(attitude)
    assert r.alpha == pytest.approx(0.84314276956476, abs=TOL)
    assert r.std_alpha == pytest.approx(0.839083803029511, abs=TOL)
    assert r.g6 == pytest.approx(0.875215137360349, abs=TOL)
    assert r.ase == pytest.approx(0.0424356955905744, abs=TOL)
    assert r.mean_total == pytest.approx(60.4380952380952, abs=TOL)
    assert r.ci[0] == pytest.approx(0.739375685643107, abs=TOL)
    np.testing.assert_allclose(r.item_stats["r_cor"], [0.751317336126294, 0.820367586259464, 0.598757828768454,
                                                       0.775213515161647, 0.850602006875359, 0.311644837675643,
                                                       0.563197670401359], atol=TOL)
    np.testing.assert_allclose(r.item_stats["r_drop"], [0.671262057223664, 0.742109710222238, 0.560711111480256,
                                                        0.714445498133676, 0.786275593834400, 0.265034339196676,
                                                        0.460810549468496], atol=TOL)
    # psych gives no response frequencies for > 10 categories
    assert r.response_freq is None


def test_duhachek_and_bootstrap_ci(sim):
    r = alpha(sim[EMP], ci_method="duhachek")
    assert r.ci == r.ci_duhachek
    b = alpha(sim[EMP], ci_method="bootstrap", n_boot=300, seed=1)
    lo, hi = b.ci_bootstrap
    assert lo < b.alpha < hi and hi - lo < 0.2
    # the bootstrap interval should be close to the analytic ones (n=400)
    assert abs(lo - r.ci_feldt[0]) < 0.05 and abs(hi - r.ci_feldt[1]) < 0.05


def test_chunking_does_not_change_results(sim):
    a1 = alpha(sim[EMP])
    a2 = alpha(sim[EMP], chunk_rows=37)
    assert a1.alpha == pytest.approx(a2.alpha, abs=1e-12)
    pd.testing.assert_frame_equal(a1.item_stats, a2.item_stats, atol=1e-10)
    pd.testing.assert_frame_equal(a1.response_freq, a2.response_freq, atol=1e-12)


def test_two_items():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(50, 1))
    df = pd.DataFrame({"a": (x + rng.normal(size=(50, 1)))[:, 0], "b": (x + rng.normal(size=(50, 1)))[:, 0]})
    r = alpha(df)
    c = df.cov().to_numpy()
    assert r.alpha == pytest.approx(2 * (1 - np.trace(c) / c.sum()), abs=1e-12)


# ---- bad input -------------------------------------------------------------------------------------------------
def test_fewer_than_two_items(sim):
    with pytest.raises(InsufficientDataError):
        alpha(sim[["P1"]])


def test_fewer_than_two_respondents(sim):
    with pytest.raises(InsufficientDataError):
        alpha(sim[EMP].iloc[:1])


def test_non_numeric_value_named(sim):
    df = sim[EMP].copy().astype(object)
    df.loc[5, "P19"] = "n/a"
    with pytest.raises(DataError) as e:
        alpha(df)
    assert e.value.column == "P19" and e.value.row == 5 and e.value.value == "n/a"


def test_out_of_scale_value(sim):
    df = sim[EMP].copy()
    df.loc[7, "P21"] = 9
    with pytest.raises(DataError) as e:
        alpha(df, scale=(1, 7))
    assert e.value.column == "P21" and e.value.value == 9


def test_zero_variance_and_all_missing_items_reported(sim):
    df = sim[EMP].copy()
    df["const"] = 4.0
    df["empty"] = np.nan
    r = alpha(df)
    assert set(r.exclusions) == {"const", "empty"}
    assert any(w.code == "W-REL-04" for w in r.warnings)
    assert r.k == 5
    # the coefficients are those of the 5 real items
    assert r.alpha == pytest.approx(0.657206805274379, abs=TOL)


def test_only_one_usable_item_left(sim):
    df = pd.DataFrame({"a": sim["P1"], "const": 3.0})
    with pytest.raises(InsufficientDataError):
        alpha(df)


def test_bad_parameters(sim):
    with pytest.raises(ParameterError):
        alpha(sim[EMP], missing="everything")
    with pytest.raises(ParameterError):
        alpha(sim[EMP], keys=["P99"])
    with pytest.raises(ParameterError):
        alpha(sim[EMP], ci=1.5)
    with pytest.raises(ParameterError):
        alpha(sim[EMP], ci_method="magic")


def test_small_n_warning(sim):
    r = alpha(sim[EMP].dropna().iloc[:20])
    assert any(w.code == "W-REL-05" for w in r.warnings)
    assert "N = 20" in r.summary()


def test_infinite_value_named(sim):
    df = sim[EMP].copy()
    df.loc[11, "P22"] = np.inf
    with pytest.raises(DataError) as e:
        alpha(df)
    assert e.value.column == "P22" and e.value.row == 11


def test_non_integer_answers_give_no_frequencies(sim):
    df = sim[EMP] + 0.5 * (np.arange(len(sim)) % 2)[:, None]
    r = alpha(df)
    assert r.response_freq is None
    assert r.alpha == pytest.approx(alpha(df.to_numpy()).alpha)


def test_singular_correlation_matrix_reported(sim):
    d = sim[["P1", "P2", "P3", "P4"]].dropna().copy()
    d["S"] = d["P1"] + d["P2"]
    r = alpha(d)
    assert any(w.code == "W-REL-06" for w in r.warnings)
    assert np.isfinite(r.g6) and np.isfinite(r.alpha)


def test_frequencies_when_lowest_category_unused(sim):
    df = sim[EMP].clip(lower=2).astype("Int64")  # nobody answers 1; nullable integer columns
    r = alpha(df)
    assert list(r.response_freq.columns) == [2, 3, 4, 5, 6, 7, "miss"]
    np.testing.assert_allclose(r.response_freq.drop(columns="miss").sum(axis=1), 1.0)
    shifted = alpha(sim[EMP] - 3)  # answers -2..3 (lowest below 1): the general code path
    assert list(shifted.response_freq.columns)[:2] == [-2, -1]
    np.testing.assert_allclose(shifted.response_freq.drop(columns="miss").to_numpy(),
                               alpha(sim[EMP]).response_freq.drop(columns="miss").to_numpy())
