"""omega and split_half against R psych 2.2.9 (+ GPArotation).

Reference numbers: R 4.2, psych 2.2.9, computed 2026-11-22 on tests/data/reliability_servqual_sim.csv with P11
reverse-keyed (``d$P11 <- 8 - d$P11``): ``omega(d, nf)``, ``splitHalf(x, check.keys=FALSE)``; and on
``datasets::attitude``.
"""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sqc.errors import ParameterError
from sqc.reliability import omega, split_half
from sqc.reliability.omega import _glb

DATA = Path(__file__).with_name("data")
TOL = 1e-6


@pytest.fixture(scope="module")
def sim():
    d = pd.read_csv(DATA / "reliability_servqual_sim.csv")
    d["P11"] = 8 - d["P11"]
    return d


@pytest.fixture(scope="module")
def attitude():
    return pd.read_csv(DATA / "reliability_attitude.csv")


def test_omega_five_factors(sim):
    o = omega(sim, 5)
    assert o.omega_h == pytest.approx(0.72418952360566, abs=TOL)
    assert o.omega_total == pytest.approx(0.90871669431163, abs=TOL)
    assert o.alpha == pytest.approx(0.87849816567823, abs=TOL)
    assert o.ecv == pytest.approx(0.49319332371006, abs=TOL)
    sl = o.schmid_leiman
    np.testing.assert_allclose(sl.loc["P1", ["g", "F2*", "h2", "u2", "p2"]],
                               [0.42231657254, 0.54244808045, 0.480499600614, 0.5195003994, 0.3711788464], atol=1e-5)
    np.testing.assert_allclose(sl.loc["P11", ["g", "F3*"]], [0.53316921703, 0.47350012640], atol=1e-5)
    np.testing.assert_allclose(o.group["total"], [0.908716694312, 0.818283633827, 0.791620549406, 0.736796296493,
                                                  0.747180447614, 0.689502536586], atol=1e-5)
    np.testing.assert_allclose(o.group["group"], [0.145632718243, 0.394950726146, 0.436754227302, 0.329212435506,
                                                  0.385188796519, 0.340775090321], atol=1e-5)


def test_omega_three_and_two_factors(sim):
    o3 = omega(sim, 3)
    assert o3.omega_h == pytest.approx(0.66757160136588, abs=TOL)
    assert o3.omega_total == pytest.approx(0.89628768078489, abs=TOL)
    np.testing.assert_allclose(o3.group["general"], [0.667571601366, 0.534645211988, 0.401226646723,
                                                     0.397449448993], atol=1e-5)
    o2 = omega(sim, 2)  # psych option="equal"
    assert o2.omega_h == pytest.approx(0.65167951965289, abs=TOL)
    assert o2.omega_total == pytest.approx(0.88866777705471, abs=TOL)
    assert o2.ecv == pytest.approx(0.62501739261613, abs=TOL)


def test_omega_variants(sim):
    o1 = omega(sim[["P1", "P2", "P3", "P4"]], 1)  # one-factor omega total per scale
    assert o1.omega_total == pytest.approx(0.78821782813826, abs=TOL)
    assert o1.omega_h == pytest.approx(0.78818414230451, abs=TOL)
    op = omega(sim, 3, rotation="promax")
    assert op.omega_h == pytest.approx(0.73169394243249, abs=TOL)
    assert op.omega_total == pytest.approx(0.89628768078489, abs=TOL)
    om = omega(sim, 5, method="ml")
    assert om.omega_h == pytest.approx(0.72469289811456, abs=1e-5)
    assert om.omega_total == pytest.approx(0.90871939331651, abs=1e-6)
    assert "omega_h" in o1.summary()


def test_omega_reports_reflected_items():
    d = pd.read_csv(DATA / "reliability_servqual_sim.csv")  # P11 not reverse-keyed
    o = omega(d, 5)
    assert o.flipped == ["P11"]
    assert any(w.code == "W-REL-10" for w in o.warnings)


def test_omega_bad_parameters(sim):
    with pytest.raises(ParameterError):
        omega(sim, 3, rotation="varimax")
    with pytest.raises(ParameterError):
        omega(sim[["P1", "P2", "P3"]], 3)


def test_split_half_even_k_matches_psych(sim, attitude):
    s = split_half(sim[["P1", "P2", "P3", "P4"]])
    assert s.lambda4 == pytest.approx(0.81524961149301, abs=TOL)
    assert s.beta == pytest.approx(0.74901548247690, abs=TOL)
    assert s.mean_split == pytest.approx(0.78561656733105, abs=TOL)
    assert s.alpha == pytest.approx(0.78561656733105, abs=TOL)
    assert s.lambda2 == pytest.approx(0.78641999933586, abs=TOL)
    assert s.lambda6 == pytest.approx(0.73824879561878, abs=TOL)
    assert s.average_r == pytest.approx(0.47811607269524, abs=TOL)
    assert s.median_r == pytest.approx(0.47836723312490, abs=TOL)
    assert s.exhaustive and s.n_splits == 3
    a = split_half(attitude.iloc[:, :6])
    assert a.lambda4 == pytest.approx(0.91156264987234, abs=TOL)
    assert a.beta == pytest.approx(0.77895714524903, abs=TOL)
    assert a.mean_split == pytest.approx(0.83462649325566, abs=TOL)
    assert a.lambda2 == pytest.approx(0.84886205927654, abs=TOL)
    assert a.lambda6 == pytest.approx(0.85638761699893, abs=TOL)
    assert set(a.max_split[0]) in ({"rating", "privileges", "raises"}, {"complaints", "learning", "critical"})
    assert set(a.min_split[0]) in ({"rating", "complaints", "learning"}, {"privileges", "raises", "critical"})
    t = split_half(sim.iloc[:, 4:14])
    assert t.lambda4 == pytest.approx(0.87386095848877, abs=TOL)
    assert t.beta == pytest.approx(0.66424180215129, abs=TOL)
    assert t.mean_split == pytest.approx(0.82954625657439, abs=TOL)
    assert t.n_splits == 126


def test_split_half_chosen_split_spearman_brown(sim):
    x = sim[["P1", "P2", "P3", "P4"]]
    s = split_half(x, split=["P1", "P2"])
    # independent: correlation of the two standardized half sums from the pairwise covariance matrix
    c = x.cov().to_numpy()
    d = np.sqrt(np.diag(c))
    r = c / np.outer(d, d)
    a, b = np.array([1, 1, 0, 0.]), np.array([0, 0, 1, 1.])
    rab = a @ r @ b / np.sqrt((a @ r @ a) * (b @ r @ b))
    assert s.chosen_r == pytest.approx(rab, abs=1e-12)
    assert s.spearman_brown == pytest.approx(2 * rab / (1 + rab), abs=1e-12)
    with pytest.raises(ParameterError):
        split_half(x, split=["P9"])


def test_split_half_sampled_for_many_items(sim):
    s = split_half(sim, n_sample=2000, max_exhaustive=1000)
    assert not s.exhaustive and s.n_splits == 2000
    assert s.beta <= s.mean_split <= s.lambda4
    # over random splits the mean is close to standardized alpha
    assert s.mean_split == pytest.approx(s.alpha, abs=0.01)


def test_glb():
    # compound symmetry: the glb equals standardized alpha exactly
    r = np.full((5, 5), 0.4)
    np.fill_diagonal(r, 1)
    assert _glb(r) == pytest.approx(5 * 0.4 / (1 + 4 * 0.4), abs=1e-8)


def test_glb_is_largest_lower_bound(attitude):
    s = split_half(attitude.iloc[:, :6])
    assert s.glb >= s.lambda2 - 1e-9 >= s.alpha - 1e-9
    assert s.glb <= 1
