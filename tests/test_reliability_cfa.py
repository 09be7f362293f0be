"""cfa() against R lavaan 0.6.14 ``cfa()`` (ML, listwise, marker-variable identification).

References computed 2026-11-22 with R 4.2 / lavaan 0.6.14:
* HolzingerSwineford1939 (tests/data/reliability_hs1939.csv, exported from lavaan) with the classic 3-factor model;
* tests/data/reliability_servqual_sim.csv (P11 reverse-keyed) with the 5 SERVQUAL dimensions (212 complete rows).
lavaan's nlminb stops at a relative objective tolerance of 1e-10; its estimates are within ~1e-6 of the exact ML
optimum (tightening rel.tol moves them by that much and lavaan then reports non-convergence). Our χ² is *lower* than
lavaan's by ~2e-10, so parameters are compared at 1.5e-6 and fit indices at 1e-8.
HTMT reference: computed by hand in R from the absolute item correlations of the complete rows
(mean hetero-trait / sqrt(product of mean mono-trait)), Henseler et al. (2015).
"""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sqc.errors import DataError, InsufficientDataError, ParameterError
from sqc.reliability import cfa

DATA = Path(__file__).with_name("data")
HS_MODEL = {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"], "speed": ["x7", "x8", "x9"]}
SQ_MODEL = {"tangibles": ["P1", "P2", "P3", "P4"], "reliability": ["P5", "P6", "P7", "P8", "P9"],
            "responsiveness": ["P10", "P11", "P12", "P13"], "assurance": ["P14", "P15", "P16", "P17"],
            "empathy": ["P18", "P19", "P20", "P21", "P22"]}
PAR_TOL = 1.5e-6

# lavaan parameterEstimates(fit): lhs op rhs est se
HS_PARAMS = """visual =~ x2 0.553500293764 0.099665118768
visual =~ x3 0.729370209767 0.109109703120
textual =~ x5 1.113076578119 0.065420108610
textual =~ x6 0.926146236632 0.055448856242
speed =~ x8 1.179950839471 0.164986572021
speed =~ x9 1.081530156859 0.151167438086
x1 ~~ x1 0.549053973199 0.113600923264
x2 ~~ x2 1.133839016484 0.101723370956
x3 ~~ x3 0.844324045708 0.090623183537
x4 ~~ x4 0.371172992837 0.047717790989
x5 ~~ x5 0.446255070260 0.058392775476
x6 ~~ x6 0.356202664279 0.043034967866
x7 ~~ x7 0.799391638325 0.081381559056
x8 ~~ x8 0.487697083769 0.074194091252
x9 ~~ x9 0.566131293574 0.070736937103
visual ~~ visual 0.809315981091 0.145462407414
textual ~~ textual 0.979491372860 0.112105849301
speed ~~ speed 0.383747649264 0.086209194429
visual ~~ textual 0.408232442096 0.073523882196
visual ~~ speed 0.262224602049 0.056276399499
textual ~~ speed 0.173494684581 0.049314660447"""

HS_STD = {"x1": 0.771880420352, "x2": 0.423600991988, "x3": 0.581132323928, "x4": 0.851582222378,
          "x5": 0.855065446373, "x6": 0.838010073942, "x7": 0.569514683990, "x8": 0.723044432770,
          "x9": 0.665009218816}


@pytest.fixture(scope="module")
def hs_fit():
    return cfa(pd.read_csv(DATA / "reliability_hs1939.csv"), HS_MODEL)


@pytest.fixture(scope="module")
def sim():
    d = pd.read_csv(DATA / "reliability_servqual_sim.csv")
    d["P11"] = 8 - d["P11"]
    return d


def test_hs_fit_indices(hs_fit):
    f = hs_fit.fit
    ref = {"chisq": 85.305521769973, "df": 24, "pvalue": 0.000000008503, "baseline_chisq": 918.851589292384,
           "baseline_df": 36, "cfi": 0.930559651799, "tli": 0.895839477699, "rmsea": 0.092121484510,
           "rmsea_ci_lower": 0.071418490440, "rmsea_ci_upper": 0.113678016812, "srmr": 0.065205057184,
           "fmin": 0.141703524535, "logl": -3737.744926626196, "aic": 7517.489853252392, "bic": 7595.339168812118}
    for k, v in ref.items():
        assert f[k] == pytest.approx(v, abs=1e-8, rel=1e-10), k
    assert hs_fit.n == 301 and hs_fit.n_excluded == 0
    assert f["chisq"] <= 85.305521769973 + 1e-9  # our optimum is at least as good as lavaan's


def test_hs_parameters_and_se(hs_fit):
    p = hs_fit.parameters.set_index(["lhs", "op", "rhs"])
    for line in HS_PARAMS.splitlines():
        lhs, op, rhs, est, se = line.split()
        assert p.loc[(lhs, op, rhs), "est"] == pytest.approx(float(est), abs=PAR_TOL), line
        assert p.loc[(lhs, op, rhs), "se"] == pytest.approx(float(se), abs=PAR_TOL), line
    assert p.loc[("visual", "=~", "x1"), "est"] == 1.0 and p.loc[("visual", "=~", "x1"), "se"] == 0


def test_hs_standardized(hs_fit):
    np.testing.assert_allclose(hs_fit.standardized_loadings.loc[list(HS_STD), "loading"], list(HS_STD.values()),
                               atol=PAR_TOL)
    fc = hs_fit.factor_correlations
    assert fc.loc["visual", "textual"] == pytest.approx(0.458509300356, abs=PAR_TOL)
    assert fc.loc["visual", "speed"] == pytest.approx(0.470534544464, abs=PAR_TOL)
    assert fc.loc["textual", "speed"] == pytest.approx(0.282984730416, abs=PAR_TOL)
    # CR / AVE from the lavaan standardized loadings (Fornell & Larcker 1981)
    lam = np.array([HS_STD["x1"], HS_STD["x2"], HS_STD["x3"]])
    cr = lam.sum() ** 2 / (lam.sum() ** 2 + (1 - lam ** 2).sum())
    assert hs_fit.reliability.loc["visual", "CR"] == pytest.approx(cr, abs=1e-6)
    assert hs_fit.reliability.loc["visual", "AVE"] == pytest.approx(np.mean(lam ** 2), abs=1e-6)
    fl = hs_fit.fornell_larcker
    assert fl.loc["visual", "visual"] == pytest.approx(np.sqrt(np.mean(lam ** 2)), abs=1e-6)
    assert not hs_fit.fit_ok and any(w.code == "W-REL-12" for w in hs_fit.warnings)


def test_servqual_model_listwise(sim):
    r = cfa(sim, SQ_MODEL)
    assert r.n == 212 and r.n_excluded == 188
    ref = {"chisq": 204.352494609381, "df": 199, "pvalue": 0.382363688589, "baseline_chisq": 1467.389483869227,
           "cfi": 0.995670866924, "tli": 0.994974724922, "rmsea": 0.011263766804, "rmsea_ci_lower": 0.0,
           "rmsea_ci_upper": 0.032041920202, "srmr": 0.047655470251}
    for k, v in ref.items():
        assert r.fit[k] == pytest.approx(v, abs=1e-7), k
    sl = r.standardized_loadings["loading"]
    np.testing.assert_allclose(sl[["P1", "P11", "P20"]], [0.728547992823, 0.733464829404, 0.101483920217],
                               atol=5e-6)
    p = r.parameters.set_index(["lhs", "op", "rhs"])
    assert p.loc[("tangibles", "=~", "P2"), "est"] == pytest.approx(0.884798612797, abs=5e-6)
    assert p.loc[("empathy", "=~", "P20"), "se"] == pytest.approx(0.148509945038, abs=5e-6)
    assert r.factor_correlations.loc["tangibles", "reliability"] == pytest.approx(0.448458372057, abs=5e-6)
    h = r.htmt
    assert h.loc["tangibles", "reliability"] == pytest.approx(0.454639528133, abs=1e-9)
    assert h.loc["assurance", "empathy"] == pytest.approx(0.618551616216, abs=1e-9)
    assert h.loc["responsiveness", "empathy"] == pytest.approx(0.690975892917, abs=1e-9)
    assert r.fit_ok
    assert "HTMT" in r.summary()


def test_std_lv_same_fit(sim):
    a = cfa(sim, SQ_MODEL)
    b = cfa(sim, SQ_MODEL, std_lv=True)
    assert b.fit["chisq"] == pytest.approx(a.fit["chisq"], abs=1e-6)
    np.testing.assert_allclose(a.standardized_loadings["loading"], b.standardized_loadings["loading"], atol=1e-6)


def test_unknown_columns(sim):
    with pytest.raises(DataError) as e:
        cfa(sim, {"tangibles": ["P1", "P2", "Q3"]})
    assert e.value.column == "Q3"


def test_bad_models(sim):
    with pytest.raises(ParameterError):
        cfa(sim, {})
    with pytest.raises(ParameterError):
        cfa(sim, {"a": ["P1"]})
    with pytest.raises(ParameterError):
        cfa(sim, {"a": ["P1", "P2", "P3"], "b": ["P3", "P4", "P5"]})
    with pytest.raises((ParameterError, InsufficientDataError)):
        cfa(sim, {"a": ["P1", "P2"]})  # 2 items, one factor: not identified
    with pytest.raises(InsufficientDataError):
        cfa(sim.iloc[:4], SQ_MODEL)


def test_singular_covariance(sim):
    d = sim.dropna().copy()
    d["P4"] = d["P1"] + d["P2"] - d["P3"]
    with pytest.raises(DataError):
        cfa(d, {"t": ["P1", "P2", "P3", "P4"], "r": ["P5", "P6", "P7"]})
