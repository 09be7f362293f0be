"""QFD House of Quality (sqc.qfd) against the methods.md §3 golden values and hand-computed normalisations."""
import numpy as np
import pandas as pd
import pytest

from sqc.errors import DataError, ParameterError
from sqc.qfd import house_of_quality

WHATS = ["quick service", "competent staff", "informed answer", "polite"]
HOWS = ["staffing", "training", "knowledge base"]


@pytest.fixture
def toy():
    imp = pd.Series([5, 4, 3, 2], index=WHATS, name="importance")
    rel = pd.DataFrame([[9, 1, 3], [0, 9, 9], [1, 9, 0], [0, 3, 3]], index=WHATS, columns=HOWS)
    plan = dict(current=[3, 2, 4, 3], target=4, sales_point=[1.5, 1.2, 1, 1])
    return imp, rel, plan


# ---- methods.md §3 golden values (toy service HoQ)
def test_golden_importance_only(toy):
    imp, rel, _ = toy
    ti = house_of_quality(imp, rel, weights="importance").technical_importance
    assert list(ti.index) == HOWS and list(ti.columns[:2]) == ["absolute", "relative"]
    assert ti["absolute"].tolist() == pytest.approx([48, 74, 57])
    assert ti["relative"].tolist() == pytest.approx([0.2682, 0.4134, 0.3184], abs=5e-5)
    assert ti["rank"].tolist() == [3, 1, 2]


def test_golden_no_planning_matrix_gives_same_relative(toy):
    # Without a planning matrix NW = I / ΣI, so RTI equals the importance-only RTI.
    imp, rel, _ = toy
    ti = house_of_quality(imp, rel).technical_importance
    assert ti["relative"].tolist() == pytest.approx([0.2682, 0.4134, 0.3184], abs=5e-5)


def test_golden_planning_matrix(toy):
    imp, rel, plan = toy
    h = house_of_quality(imp, rel, **plan)
    assert h.planning["raw_weight"].tolist() == pytest.approx([10, 9.6, 3, 2.667], abs=5e-4)
    assert h.planning["normalized_weight"].tolist() == pytest.approx([.3958, .3799, .1187, .1055], abs=5e-5)
    ti = h.technical_importance
    assert ti["absolute"].tolist() == pytest.approx([3.6807, 5.2005, 4.9235], abs=5e-5)
    assert ti["relative"].tolist() == pytest.approx([.2666, .3767, .3567], abs=5e-5)


def test_golden_lyman(toy):
    imp, rel, plan = toy
    ti = house_of_quality(imp, rel, normalization="lyman", **plan).technical_importance
    assert ti["relative"].tolist() == pytest.approx([.2859, .3800, .3341], abs=5e-5)


def test_wasserman_hand_computed(toy):
    # roof: staffing–knowledge base "+" (γ .3), training–knowledge base "++" (γ .9); weights = importance.
    # R·Γ rows: [9.9, 3.7, 6.6]/20.2, [2.7, 17.1, 17.1]/36.9, [1, 9, 8.4]/18.4, [.9, 5.7, 5.7]/12.3 (by hand)
    imp, rel, _ = toy
    roof = pd.DataFrame("", index=HOWS, columns=HOWS)
    roof.loc["staffing", "knowledge base"] = "+"
    roof.loc["training", "knowledge base"] = "++"
    h = house_of_quality(imp, rel, roof=roof, normalization="wasserman", weights="importance")
    rows = [(np.array([9.9, 3.7, 6.6]), 20.2), (np.array([2.7, 17.1, 17.1]), 36.9),
            (np.array([1, 9, 8.4]), 18.4), (np.array([.9, 5.7, 5.7]), 12.3)]
    expected = sum(w * r / s for w, (r, s) in zip([5, 4, 3, 2], rows))
    assert h.technical_importance["absolute"].to_numpy() == pytest.approx(expected)
    assert h.technical_importance["relative"].sum() == pytest.approx(1.0)


def test_sensitivity_and_roof_tradeoff_warnings():
    # Hand-built so that the 1-3-5 scale pushes the single-strong-link HOW "A" out of the top 3:
    # 1-3-9: A 45, B 39, C 33, D 29 ; 1-3-5: B 39, C 33, D 29, A 25.
    imp = pd.Series([5, 2, 2, 2, 2], index=list("vwxyz"))
    rel = pd.DataFrame({"A": [9, 0, 0, 0, 0], "B": [3, 3, 3, 3, 3], "C": [3, 3, 3, 3, 0], "D": [3, 3, 3, 0, 1]},
                       index=imp.index)
    roof = pd.DataFrame(0, index=rel.columns, columns=rel.columns)
    roof.loc["A", "B"] = -9
    h = house_of_quality(imp, rel, roof=roof, weights="importance")
    assert h.technical_importance["absolute"].tolist() == pytest.approx([45, 39, 33, 29])
    s = h.sensitivity
    assert s["rank_scale_1_3_5"].tolist() == [4, 1, 2, 3]
    codes = [w.code for w in h.warnings]
    assert "W-QFD-01" in codes
    assert "W-QFD-02" in codes  # A and B are the two top HOWs and strongly negatively correlated
    assert h.tradeoffs.iloc[0][["how_1", "how_2", "code"]].tolist() == ["A", "B", -9]
    assert "trade-offs" in h.summary()


def test_unrelated_rows_flagged():
    imp = pd.Series([3, 2], index=["a", "b"])
    rel = pd.DataFrame({"x": [9, 0], "y": [0, 0]}, index=imp.index)
    h = house_of_quality(imp, rel)
    w = [w for w in h.warnings if w.code == "W-QFD-04"]
    assert w and w[0].evidence == {"requirements": ["b"], "characteristics": ["y"]}


def test_benchmark_consistency_check(toy):
    # customers rate competitor X above us on "competent staff" (4 > 2), but our measured training hours beat X's
    # (training relates strongly, 9, to competent staff; more is better) -> W-QFD-03. Knowledge base (also 9): we
    # are worse than X there, consistent, so no conflict.
    imp, rel, plan = toy
    comp = pd.DataFrame({"X": [3, 4, 4, 3]}, index=WHATS)
    bench = pd.DataFrame({"us": [10, 40, 200], "X": [12, 30, 500]}, index=HOWS)
    direction = {"staffing": "up", "training": "up", "knowledge base": "up"}
    h = house_of_quality(imp, rel, competitors=comp, technical_benchmark=bench, improvement_direction=direction,
                         **plan)
    c = h.consistency
    assert c[["requirement", "characteristic", "competitor"]].values.tolist() == [
        ["competent staff", "training", "X"]]
    assert any(w.code == "W-QFD-03" for w in h.warnings)
    assert "competitor_X" in h.planning.columns
    with pytest.raises(ParameterError):
        house_of_quality(imp, rel, competitors=comp, **plan)
    with pytest.raises(DataError):
        house_of_quality(imp, rel, competitors=comp, technical_benchmark=bench,
                         improvement_direction={"training": "more"}, **plan)


# ---- bad input
def test_bad_relationship_value(toy):
    imp, rel, _ = toy
    bad = rel.copy()
    bad.iloc[1, 2] = 2
    with pytest.raises(DataError) as e:
        house_of_quality(imp, bad)
    assert e.value.column == "knowledge base" and e.value.row == "competent staff" and e.value.value == 2


def test_bad_inputs(toy):
    imp, rel, plan = toy
    with pytest.raises(DataError):
        house_of_quality(imp.rename(index={"polite": "courteous"}), rel)
    with pytest.raises(DataError):
        house_of_quality(imp.where(imp != 3, -3), rel)
    with pytest.raises(ParameterError):
        house_of_quality(imp, rel, current=[3, 2, 4, 3])
    with pytest.raises(ParameterError):
        house_of_quality(imp, rel, normalization="wasserman")
    with pytest.raises(ParameterError):
        house_of_quality(imp, rel, normalization="l2")
    with pytest.raises(ParameterError):
        house_of_quality(imp.to_list(), rel)
    with pytest.raises(DataError):
        house_of_quality(imp, rel, current=[3, 0, 4, 3], target=4)
    roof = pd.DataFrame(0, index=HOWS, columns=HOWS)
    roof.loc["staffing", "training"] = 5
    with pytest.raises(DataError):
        house_of_quality(imp, rel, roof=roof)


# ---- properties
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=2, max_size=6),
       st.lists(st.lists(st.sampled_from([0, 1, 3, 9]), min_size=4, max_size=4), min_size=6, max_size=6),
       st.floats(0.1, 50), st.permutations(range(6)))
def test_rti_invariances(imp_vals, rel_rows, scale, perm):
    m = len(imp_vals)
    rows = rel_rows[:m]
    if sum(map(sum, rows)) == 0:
        return
    whats = [f"w{i}" for i in range(m)]
    hows = list("ABCD")
    imp = pd.Series(imp_vals, index=whats, dtype=float)
    rel = pd.DataFrame(rows, index=whats, columns=hows)
    base = house_of_quality(imp, rel).technical_importance
    assert base["relative"].sum() == pytest.approx(1.0)
    # scaling the importance scale does not move RTI; reordering the requirements changes nothing
    scaled = house_of_quality(imp * scale, rel).technical_importance
    assert scaled["relative"].to_numpy() == pytest.approx(base["relative"].to_numpy())
    order = [whats[i] for i in perm if i < m]
    shuffled = house_of_quality(imp.loc[order], rel.loc[order]).technical_importance
    assert shuffled["absolute"].to_numpy() == pytest.approx(base["absolute"].to_numpy())
    # Lyman: every requirement with relationships contributes exactly its weight
    ly = house_of_quality(imp, rel, normalization="lyman").technical_importance
    related = rel.sum(axis=1) > 0
    assert ly["absolute"].sum() == pytest.approx((imp / imp.sum())[related].sum())
