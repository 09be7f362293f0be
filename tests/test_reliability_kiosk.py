"""Golden values on the public kiosk export (bundled in sqc/data/tutorials/kiosk; MIT).

α_E = .879 and α_P = .907 on the 207 complete respondents (methods.md §1.10); exact values from R 4.2 / psych 2.2.9
``alpha()`` computed 2026-11-22: α_E 0.8788158046 (std 0.9147357762), α_P 0.9065173704 (std 0.9073225049);
pairwise P (211 rows) G6 0.9347207574; ``omega(P[complete, ], 1)`` omega total 0.9080855265.
"""
from pathlib import Path

import pandas as pd
import pytest

from sqc.reliability import alpha, omega

# the copy bundled with the tutorials (MIT, with its licence and attribution): the tests never depend on ../shared
KIOSK = Path(__file__).resolve().parents[1] / "sqc" / "data" / "tutorials" / "kiosk" / "kiosk.csv"
INSTRUMENT = Path(__file__).resolve().parent / "data" / "kiosk_instrument.csv"


@pytest.fixture(scope="module")
def kiosk():
    raw = pd.read_csv(KIOSK, encoding="cp949")
    inst = pd.read_csv(INSTRUMENT)
    e, p = raw[list(inst["e_column"])], raw[list(inst["p_column"])]
    complete = e.notna().all(axis=1) & p.notna().all(axis=1)
    return e, p, complete


def test_golden_alphas(kiosk):
    e, p, ok = kiosk
    assert int(ok.sum()) == 207
    ae, ap = alpha(e[ok], scale=(1, 7)), alpha(p[ok], scale=(1, 7))
    assert round(ae.alpha, 3) == 0.879 and round(ap.alpha, 3) == 0.907          # methods.md golden values
    assert ae.alpha == pytest.approx(0.8788158046, abs=1e-8)
    assert ae.std_alpha == pytest.approx(0.9147357762, abs=1e-8)
    assert ap.alpha == pytest.approx(0.9065173704, abs=1e-8)
    assert ap.std_alpha == pytest.approx(0.9073225049, abs=1e-8)
    assert ae.n == 207


def test_pairwise_and_omega(kiosk):
    _, p, ok = kiosk
    a = alpha(p)
    assert a.n == 211 and a.g6 == pytest.approx(0.9347207574, abs=1e-8)
    assert omega(p[ok], 1).omega_total == pytest.approx(0.9080855265, abs=1e-6)
