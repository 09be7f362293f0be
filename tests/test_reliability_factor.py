"""KMO, Bartlett, EFA and parallel analysis against R psych 2.2.9 (+ GPArotation).

Reference numbers: R 4.2, psych 2.2.9, computed 2026-11-22 on tests/data/reliability_servqual_sim.csv with
P11 reverse-keyed (``d$P11 <- 8 - d$P11``): ``KMO(d)``, ``cortest.bartlett(cor(d, use="pairwise"), n=400)``,
``fa(d, 5, fm=<fm>, rotate=<rot>)``.
psych's minres stops at optim's default tolerance; our solution is the exact optimum, so minres numbers agree to
~1e-7 (tolerance 1e-6); ML agrees to ~1e-9.
"""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sqc.errors import DataError, InsufficientDataError, ParameterError
from sqc.reliability import bartlett, efa, kmo, parallel_analysis

DATA = Path(__file__).with_name("data")
ROWS = ["P1", "P5", "P11", "P20", "P22"]
# GPArotation stops oblimin at a gradient norm < 1e-5 and stats::varimax at a relative change < 1e-5, so a 1e-7 difference in the unrotated loadings (psych's
# optim tolerance) can move the rotated solution by a few 1e-6: rotated oblique loadings are compared at 1e-5.
# The ML discrepancy is flat near its optimum: our ML objective is *lower* than psych's (by ~4e-11) while minor
# loadings differ by up to ~3e-6, so ML loadings are compared at 1e-5 as well.
LOAD_TOL = {"none": 1e-6, "varimax": 1e-5, "promax": 1e-5, "oblimin": 1e-5}


@pytest.fixture(scope="module")
def sim():
    d = pd.read_csv(DATA / "reliability_servqual_sim.csv")
    d["P11"] = 8 - d["P11"]
    return d


def test_kmo_matches_psych(sim):
    k = kmo(sim)
    assert k.overall == pytest.approx(0.898570678576215, abs=1e-9)
    np.testing.assert_allclose(k.per_item[["P1", "P11", "P20"]], [0.866603640248107, 0.900505900917935,
                                                                  0.445772511537826], atol=1e-9)
    assert k.n == 400 and "meritorious" in k.summary()


def test_kmo_handles_missing_listwise(sim):
    k = kmo(sim, missing="listwise")
    assert k.n == int(sim.dropna().shape[0])
    assert 0 < k.overall < 1


def test_bartlett_matches_psych(sim):
    b = bartlett(sim)
    assert b.chi2 == pytest.approx(2669.0789816685, rel=1e-10)
    assert b.df == 231 and b.p_value < 1e-100


# psych fa() references: loadings rows P1, P5, P11, P20, P22 in psych's column order
REF = {
    ("oblimin", "minres"): dict(
        cols=["MR1", "MR3", "MR4", "MR5", "MR2"],
        L=[[0.02372541571295, 0.6950695779281, -0.0984415324743, 0.0641292256786, -0.01364448068993],
           [0.56598193406667, -0.1013417567240, 0.0380688088383, 0.0531969546549, 0.09661886753335],
           [0.05491883923763, 0.0507819653545, -0.0352590597654, 0.6753785265728, 0.00974363172173],
           [0.00798455165035, -0.0106440633038, 0.0116955164232, -0.0283542929681, 0.08759678465084],
           [0.14227660875130, -0.0297190775059, 0.0146010564793, -0.0107624931009, 0.63517729387595]],
        phi0=[1.0, 0.426068678228, 0.487599467215, 0.487687305015, 0.370979356419],
        h2=[0.48049960061408, 0.00654815369257],
        fit=dict(objective=0.3595108754299, chi2=139.3104642290826, p_value=0.2932418129624, TLI=0.9939327457648,
                 RMSEA=0.0123422437763, BIC=-645.5713914420630, rms=0.0223113274736, crms=0.0296275508864,
                 chi_empirical=86.5825545472994, null_chi2=2669.0789816684969),
        rmsea_ci=(0.0, 0.0279467726629)),
    ("oblimin", "ml"): dict(
        cols=["ML1", "ML2", "ML4", "ML5", "ML3"],
        L=[[0.0279764383478, 0.68329295027380, -0.0988738041559, 0.0677685123884, -0.0147966525692],
           [0.5685761312661, -0.09698015328854, 0.0437023142604, 0.0491867740819, 0.0887225889298],
           [0.0604199060091, 0.04860134630308, -0.0381986011740, 0.6751151055357, 0.0111989322256],
           [0.0104024432473, -0.00856827287301, 0.0257495065955, -0.0352208679409, 0.0806519897742],
           [0.1453752074618, -0.03070689440438, 0.0133760110936, -0.0186218300013, 0.6440655425386]],
        phi0=[1.0, 0.427655772402, 0.486420723473, 0.487596520375, 0.372858547845],
        h2=[0.46821486608130, 0.00667083362567],
        fit=dict(objective=0.3577095192685, chi2=138.6124387165328, p_value=0.3076609513617, TLI=0.9944423560742,
                 RMSEA=0.0117902452843, BIC=-646.2694169546128, rms=0.0224417754157, crms=0.0298007746914,
                 chi_empirical=87.5979610908347),
        rmsea_ci=(0.0, 0.0276620646547)),
    ("varimax", "minres"): dict(
        cols=["MR1", "MR3", "MR2", "MR4", "MR5"],
        L=[[0.1370526958996, 0.65426290891096, 0.14630827232433, 0.0314777529055, 0.1061095929009],
           [0.5457248401423, 0.04634650134952, 0.16707599312806, 0.1602966583736, 0.1633509234148],
           [0.2187536656975, 0.18850279696099, 0.63266778386773, 0.0904261526105, 0.1484777331650],
           [0.0142931995014, 0.00452349411025, -0.00206078269002, 0.0186606818598, 0.0772717818408],
           [0.2231134362605, 0.12082021255979, 0.17274697292659, 0.1253702769649, 0.6029268424292]],
        phi0=None, h2=[0.48049960061408, 0.00654815369257], fit=dict(TLI=0.9939327457648), rmsea_ci=None),
    ("varimax", "ml"): dict(
        cols=["ML1", "ML3", "ML2", "ML4", "ML5"],
        L=[[0.1396837170548, 0.64328910166471, 0.14936777156636, 0.0317665558425, 0.1075295852204],
           [0.5476931367010, 0.04902691118859, 0.16542313836491, 0.1618243139234, 0.1594780256211],
           [0.2225238145377, 0.18769914551636, 0.63476504832818, 0.0849351141295, 0.1444497005425],
           [0.0172401138526, 0.00606361842111, -0.00617786512804, 0.0294732787826, 0.0736885639155],
           [0.2250615744683, 0.11722890829098, 0.17207884330596, 0.1159553953320, 0.6110804968052]],
        phi0=None, h2=[0.46821486608130, 0.00667083362567], fit=dict(BIC=-646.2694169546128), rmsea_ci=None),
    ("promax", "minres"): dict(
        cols=["MR1", "MR3", "MR2", "MR4", "MR5"],
        L=[[0.01507992950409, 0.7225638686920, 0.0347933340786, -0.10797785196086, -0.0248245810674],
           [0.58683157605962, -0.1009751800100, 0.0429632206431, 0.02746738614008, 0.0689511715532],
           [0.06517223794536, 0.0543196702843, 0.6997576728056, -0.07418546240723, -0.0238126766174],
           [0.00436417939139, -0.0103013072869, -0.0240467908170, 0.00677431700475, 0.0899819463041],
           [0.12323518475455, -0.0236242884431, 0.0227496989747, -0.03407305147784, 0.6396007298303]],
        phi0=[1.0, 0.476625323149, 0.543187756749, 0.538263102473, 0.458379515360],
        h2=[0.48049960061408, 0.00654815369257], fit=dict(RMSEA=0.0123422437763), rmsea_ci=None),
    ("promax", "ml"): dict(
        cols=["ML1", "ML3", "ML2", "ML4", "ML5"],
        L=[[0.0193970519850, 0.70543171064258, 0.0344698596496, -0.0996267970398, -0.0194865230266],
           [0.5884359676233, -0.09747732776132, 0.0440155060574, 0.0277602398224, 0.0633066513465],
           [0.0749412585301, 0.05029475794044, 0.6894320019273, -0.0662655056875, -0.0172899034117],
           [0.0062088170696, -0.00911336019389, -0.0298222069389, 0.0183543605157, 0.0841066921017],
           [0.1257628311954, -0.03164382220618, 0.0228107441483, -0.0596994341232, 0.6607719029484]],
        phi0=[1.0, 0.474363035681, 0.529097613120, 0.536849433942, 0.467352474039],
        h2=[0.46821486608130, 0.00667083362567], fit=dict(chi2=138.6124387165328), rmsea_ci=None),
    ("none", "minres"): dict(
        cols=["MR1", "MR2", "MR3", "MR4", "MR5"],
        L=[[0.4828360604195, 0.3292619040517, -0.3630722187248, -0.04065401781047, -0.0740361583212],
           [0.5094020292251, -0.3107422863291, -0.0322484627816, -0.10918980917752, 0.1060328062910],
           [0.5728864952249, 0.0362570600225, 0.1570202859779, -0.26427162497416, -0.2997818356679],
           [0.0481389581265, 0.0175714504919, 0.0315459454663, 0.00442071695624, 0.0539198397336],
           [0.5455070719414, 0.1262377656545, 0.2268751310033, -0.09059220258510, 0.3166447824830]],
        phi0=None, h2=[0.48049960061408, 0.00654815369257], fit=dict(crms=0.0296275508864), rmsea_ci=None),
    ("none", "ml"): dict(
        cols=["ML1", "ML2", "ML3", "ML4", "ML5"],
        L=[[0.487635455439, 0.3243949015327, -0.3425670820397, -0.0498616964606, -0.0731852585440],
           [0.513052830041, -0.3170326978161, -0.0289112834331, -0.0910818022908, 0.0921513919222],
           [0.568608427192, 0.0388584760872, 0.1750918706747, -0.2765755750479, -0.2894433224576],
           [0.050711527711, 0.0115079715967, 0.0276656158904, 0.0149296373144, 0.0545752764508],
           [0.537796955029, 0.1149249529427, 0.2268084148779, -0.1022243134734, 0.3413887928232]],
        phi0=None, h2=[0.46821486608130, 0.00667083362567], fit=dict(TLI=0.9944423560742), rmsea_ci=None),
}


@pytest.mark.parametrize("rotation,method", list(REF))
def test_efa_matches_psych_fa(sim, rotation, method):
    ref = REF[(rotation, method)]
    e = efa(sim, 5, method=method, rotation=rotation)
    assert list(e.loadings.columns) == ref["cols"]
    tol = 1e-5 if method == "ml" else LOAD_TOL[rotation]
    np.testing.assert_allclose(e.loadings.loc[ROWS].to_numpy(), ref["L"], atol=tol)
    if "objective" in ref["fit"]:
        assert e.fit["objective"] <= ref["fit"]["objective"] + 1e-12 or method == "minres"
    np.testing.assert_allclose(e.communalities[["P1", "P20"]], ref["h2"], atol=1e-6)
    if ref["phi0"] is None:
        assert e.phi is None
    else:
        # Phi ordered like the loadings (first row = first column's correlations)
        np.testing.assert_allclose(e.phi.iloc[0].to_numpy(), ref["phi0"], atol=tol)
        assert list(e.phi.columns) == ref["cols"]
    for key, val in ref["fit"].items():
        assert e.fit[key] == pytest.approx(val, rel=1e-6, abs=1e-7), key
    if ref["rmsea_ci"] is not None:
        assert e.fit["RMSEA_ci"] == pytest.approx(ref["rmsea_ci"], abs=1e-7)
    assert e.fit["dof"] == 131 and e.n == 400


def test_oblique_communality_is_not_row_sum_of_pattern(sim):
    e = efa(sim, 5, rotation="oblimin")
    row_ss = (e.loadings ** 2).sum(axis=1)
    model_h2 = np.diag(e.loadings.to_numpy() @ e.phi.to_numpy() @ e.loadings.T.to_numpy())
    np.testing.assert_allclose(e.communalities, model_h2, atol=1e-10)
    assert np.max(np.abs(row_ss - e.communalities)) > 0.01


def test_one_factor_and_summary(sim):
    e = efa(sim[[f"P{i}" for i in range(1, 5)]], 1)
    assert e.phi is None and e.loadings.shape == (4, 1) and (e.loadings.iloc[:, 0] > 0).all()
    assert "TLI" in e.summary()


def test_parallel_analysis_finds_structure(sim):
    pa = parallel_analysis(sim, n_iter=20)
    # R psych 2.2.9: set.seed(1); fa.parallel(d) -> "number of factors = 5 and the number of components = 4"
    assert (pa.n_factors, pa.n_components) == (5, 4)
    assert pa.eigen.shape == (22, 6)
    noise = parallel_analysis(pd.DataFrame(np.random.default_rng(0).normal(size=(300, 8))), n_iter=20)
    assert noise.n_factors == 0 and noise.n_components == 0


def test_bad_inputs(sim):
    with pytest.raises(ParameterError):
        efa(sim, 5, method="pca")
    with pytest.raises(ParameterError):
        efa(sim, 5, rotation="geomin")
    with pytest.raises(ParameterError):
        efa(sim[["P1", "P2", "P3", "P4"]], 3)
    with pytest.raises(InsufficientDataError):
        kmo(sim[["P1"]])
    bad = sim.copy().astype(object)
    bad.loc[3, "P2"] = "seven"
    with pytest.raises(DataError):
        bartlett(bad)


def test_singular_matrix_reported(sim):
    d = sim[["P1", "P2", "P3", "P4"]].dropna().copy()
    d["sum"] = d.sum(axis=1)
    k = kmo(d)
    assert any(w.code == "W-REL-06" for w in k.warnings)
    b = bartlett(d)
    assert any(w.code == "W-REL-06" for w in b.warnings)


def test_efa_singular_matrix_reported_not_crashing(sim):
    d = sim[["P1", "P2", "P3", "P4", "P5", "P6"]].dropna().copy()
    d["S"] = d["P1"] + d["P2"]
    for method in ("minres", "ml"):
        e = efa(d, 2, method=method)
        assert any(w.code == "W-REL-06" for w in e.warnings)


# R psych 2.2.9 fa(attitude, 2, fm, rotate) on datasets::attitude (n = 30), computed 2026-11-22.
ATT = {
    ("minres", "oblimin"): dict(
        cols=["MR1", "MR2"],
        L=[0.9142697876, 0.9578565208, 0.4873973120, 0.5784551404, 0.5679584331, 0.1130220324, -0.0421580789,
           -0.1078915260, -0.0538889644, 0.2052450466, 0.3521085788, 0.4538928262, 0.2735654683, 0.9659743670],
        phi12=0.3428826001,
        h2_fit=[0.7798846007, 0.8849953782, 0.3482827970, 0.5982667828, 0.7053804391, 0.1088151682, 0.9069569375,
                5.6668830298, 1.0842937095, 0.0, 0.0, 0.1704915231, -21.5426960235]),
    ("ml", "varimax"): dict(
        cols=["ML2", "ML1"],
        L=[0.8819806841, 0.9139564666, 0.5049157961, 0.5866040297, 0.6128220093, 0.1519529739, 0.0526561701,
           0.1112820822, 0.1798528927, 0.3225595170, 0.5094241278, 0.5538136747, 0.2829381599, 0.9801074312],
        phi12=None,
        h2_fit=[0.7902736290, 0.8676634859, 0.3589846031, 0.6036172297, 0.6822604014, 0.1031437086, 0.9633832489,
                5.4742011942, 1.0912551550, 0.0, 0.0, 0.1656532136, -21.7353778591]),
    ("minres", "promax"): dict(
        cols=["MR1", "MR2"],
        L=[1.0002145794, 1.0313694655, 0.4597822258, 0.5153539150, 0.4757717182, 0.0434677515, -0.3146848530,
           -0.2202434770, -0.1629697318, 0.1836783286, 0.3423418845, 0.4600822460, 0.3015259939, 1.1113324449],
        phi12=0.6106743236, h2_fit=None),
}


@pytest.mark.parametrize("method,rotation", list(ATT))
def test_efa_attitude_matches_psych(method, rotation):
    ref = ATT[(method, rotation)]
    att = pd.read_csv(DATA / "reliability_attitude.csv")
    e = efa(att, 2, method=method, rotation=rotation)
    assert list(e.loadings.columns) == ref["cols"]
    np.testing.assert_allclose(e.loadings.to_numpy().ravel(order="F"), ref["L"], atol=1e-5)
    if ref["phi12"] is not None:
        assert e.phi.iloc[0, 1] == pytest.approx(ref["phi12"], abs=1e-5)
    if ref["h2_fit"] is not None:
        got = list(e.communalities) + [e.fit["chi2"], e.fit["TLI"], e.fit["RMSEA"], *e.fit["RMSEA_ci"], e.fit["BIC"]]
        np.testing.assert_allclose(got, ref["h2_fit"], atol=1e-5)
