"""The public kiosk SERVQUAL export (hanakim120/kiosk-servqual-research, MIT; bundled in sqc/data/tutorials/kiosk),
loaded as a new user would: cp949 CSV with Korean headers, mapped by tests/data/kiosk_instrument.csv.

References: methods.md §1.10 / §9 D5 and an independent R 4.2 run (psych 2.2.9 alpha(), stats cor(), t.test(),
wilcox.test()) computed 2026-11-22 on the same file (listwise-complete 24 E/P pairs).

Note on two methods.md golden values: r_PE(composites) = 0.672 and ρ_DD = 0.676 could not be reproduced. In R the
correlation of the 24-item E and P sum scores of the 207 complete respondents is 0.3640777, and the Lord /
Peter–Churchill–Brown formula then gives ρ_DD = 0.8433724 (equal-variance form 0.832). α_E, α_P and the α of the
gap items do match. The test asserts the R values and records the discrepancy. The "52.9 % at the top" golden is
2681 answers of 7 over all 5 064 E cells *including* the 96 missing ones; over the 4 968 given answers it is 54.0 %.
"""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sqc.servqual import Instrument, hodges_lehmann, score

# the copy bundled with the tutorials (MIT, with its licence and attribution): the tests never depend on ../shared
KIOSK = Path(__file__).resolve().parents[1] / "sqc" / "data" / "tutorials" / "kiosk" / "kiosk.csv"
INSTRUMENT = Path(__file__).resolve().parent / "data" / "kiosk_instrument.csv"


@pytest.fixture(scope="module")
def kiosk():
    inst = Instrument.from_csv(INSTRUMENT)
    raw = pd.read_csv(KIOSK, encoding="cp949")
    return inst, raw, score(raw, inst)


def test_instrument_maps_24_pairs(kiosk):
    inst, raw, res = kiosk
    assert inst.k == 24 and len(inst.dimensions) == 8
    assert set(inst.columns("E")) | set(inst.columns("P")) <= set(raw.columns)
    assert all(c.rstrip().endswith("(기대 설문)") for c in inst.columns("E"))
    assert all(c.rstrip().endswith("(인지 설문)") for c in inst.columns("P"))
    assert inst.columns("E")[7].startswith("8-1")       # file order has 9-1 before 8-1; mapping is by number


def test_complete_n_and_alphas(kiosk):
    _, _, res = kiosk
    psy = res.psychometrics.loc["all items"]
    assert psy["n_complete"] == 207                            # methods.md D5
    assert psy["alpha_E"] == pytest.approx(0.8788158, abs=1e-6)   # R psych alpha: 0.8788158 (golden .879)
    assert psy["alpha_P"] == pytest.approx(0.9065174, abs=1e-6)   # R psych alpha: 0.9065174 (golden .907)
    assert psy["alpha_gap_items"] == pytest.approx(0.8899998, abs=1e-6)  # R: 0.8899998 (golden .890)


def test_difference_score_reliability_r_reference(kiosk):
    _, _, res = kiosk
    psy = res.psychometrics.loc["all items"]
    assert psy["r_PE"] == pytest.approx(0.3640777, abs=1e-6)      # R cor(rowSums(E), rowSums(P))
    assert psy["rho_DD"] == pytest.approx(0.8433724, abs=1e-6)    # R, Lord formula with the alphas above
    # the alpha of the gap items (0.890) is higher than the difference-score reliability: it overstates it
    assert psy["alpha_gap_items"] > psy["rho_DD"]


def test_ceiling_share(kiosk):
    _, _, res = kiosk
    psy = res.psychometrics.loc["all items"]
    assert psy["n_top_E"] == 2681 and psy["n_answers_E"] == 4968 and psy["n_cells_E"] == 5064
    assert psy["n_top_E"] / psy["n_cells_E"] == pytest.approx(0.529, abs=5e-4)    # golden 52.9 % (all cells)
    assert psy["ceiling_share_E"] == pytest.approx(0.5396538, abs=1e-6)          # R: of the answers given
    assert any(w.code == "W-SQ-04" and w.subject == "all items" for w in res.warnings)


def test_largest_shortfall_paired_t_matches_r(kiosk):
    _, _, res = kiosk
    worst = res.item_gaps.sort_values("mean")
    assert worst.index[0] == 23 and worst.index[1] == 15
    r = worst.iloc[0]
    # R: t.test(P23, E23, paired=TRUE): mean −1.980676, CI [−2.224823, −1.736529], t −15.994, df 206
    assert r["mean"] == pytest.approx(-1.980676, abs=1e-6)
    assert r["P_mean"] == pytest.approx(4.521739, abs=1e-6) and r["E_mean"] == pytest.approx(6.502415, abs=1e-6)
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((-2.224823, -1.736529), abs=1e-6)
    assert r["t"] == pytest.approx(-15.994, abs=1e-3) and r["n"] == 207
    assert worst.iloc[1]["mean"] == pytest.approx(-1.94, abs=0.005)               # golden −1.94


def test_hodges_lehmann_r_convention_on_item_23(kiosk):
    inst, raw, res = kiosk
    P = pd.to_numeric(raw[inst.columns("P")[22]], errors="coerce")
    E = pd.to_numeric(raw[inst.columns("E")[22]], errors="coerce")
    g = (P - E).dropna().to_numpy()
    # R wilcox.test(P23, E23, paired=TRUE, conf.int=TRUE) drops zero differences:
    # pseudo-median −2.500069 (uniroot), CI [−2.999999, −2.499968]
    est, lo, hi = hodges_lehmann(g, zeros="drop")
    assert est == pytest.approx(-2.5, abs=1e-3)
    assert (lo, hi) == pytest.approx((-3.0, -2.5), abs=1e-3)
    # sqc's default keeps the 48 zero differences (Pratt): the Walsh median of all 207
    assert res.item_gaps.loc[23, "hl"] == -2.0


def test_full_analysis_runs_and_warns(kiosk):
    _, _, res = kiosk
    codes = {w.code for w in res.warnings}
    assert {"W-SQ-03", "W-SQ-04"} <= codes
    assert res.dimension_gaps.loc["security", "mean"] == pytest.approx(res.dimension_gaps["mean"].min())
    assert res.overall < 0 and res.n == 211
