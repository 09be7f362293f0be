"""Response-quality screens: hand-checkable toy data."""
import numpy as np
import pandas as pd
import pytest

from sqc.errors import DataError, ParameterError
from sqc.reliability import response_screens


@pytest.fixture()
def toy():
    return pd.DataFrame({
        "a": [7, 7, 1, 4, 5, np.nan, 7, 3],
        "b": [7, 6, 1, 4, 5, 2, 7, 3],
        "c": [7, 5, 1, 4, 6, 2, 7, 3],
        "d": [7, 7, 1, 4, 6, 2, 7, 2],
        "e": [7, 7, 1, 4, 6, 2, 7, 2],
    })


def test_straightlining_and_longest_string(toy):
    r = response_screens(toy, scale=(1, 7))
    # rows 0, 2, 3, 6 identical across 5 items; row 5 has only 4 answers (< min_answered=5)
    assert r.respondents["straightlined"].tolist() == [True, False, True, True, False, False, True, False]
    assert r.respondents["longest_string"].tolist() == [5, 2, 5, 5, 3, 4, 5, 3]
    s = r.straightline_share
    assert s.n == 7 and s.value == pytest.approx(4 / 7)
    # Wilson (1927) interval for 4/7 from the closed form (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²))/(1 + z²/n)
    assert (s.ci_low, s.ci_high) == pytest.approx((0.2504583645276572, 0.8417801447485302), abs=1e-9)
    assert any(w.code == "W-REL-16" for w in r.warnings)


def test_ceiling_floor_and_low_variance(toy):
    r = response_screens(toy, scale=(1, 7))
    it = r.items
    assert it.loc["a", "n"] == 7 and it.loc["a", "ceiling_share"] == pytest.approx(3 / 7)
    assert it.loc["b", "ceiling_share"] == pytest.approx(2 / 8)
    assert it.loc["a", "floor_share"] == pytest.approx(1 / 7)
    assert not it["low_variance"].any()
    assert any(w.code == "W-REL-17" and "a" in w.subject for w in r.warnings)
    flat = toy.assign(f=[4, 4, 4, 4, 4, 4, 4, 5])
    r2 = response_screens(flat, scale=(1, 7))
    assert r2.items.loc["f", "low_variance"]
    assert any(w.code == "W-REL-18" and w.subject == "f" for w in r2.warnings)
    assert "straight-lining" in r2.summary()


def test_bad_input(toy):
    with pytest.raises(DataError):
        response_screens(toy.assign(a=[9, 7, 1, 4, 5, 2, 7, 3]), scale=(1, 7))
    with pytest.raises(ParameterError):
        response_screens(toy, min_answered=1)
    with pytest.raises(ParameterError):
        response_screens(toy, max_ceiling_share=0)
