"""Instrument as data and validation of survey answers against it (sqc.servqual.instrument)."""
import numpy as np
import pandas as pd
import pytest

from sqc.errors import DataError, ParameterError
from sqc.servqual import DEFAULT_DONT_KNOW, Instrument, default_instrument, prepare_responses


def _frame(k=4, dims=("a", "a", "b", "b"), smin=1, smax=7, rev=None):
    return pd.DataFrame({"item": range(1, k + 1), "dimension": list(dims), "reverse_keyed": rev or [False] * k,
                         "scale_min": smin, "scale_max": smax, "text_en": [f"t{i}" for i in range(k)],
                         "text_zh": [f"题{i}" for i in range(k)]})


def test_default_instrument_structure():
    inst = default_instrument()
    assert inst.k == 22
    assert inst.dimensions == ["tangibles", "reliability", "responsiveness", "assurance", "empathy"]
    assert inst.dimension_items == {"tangibles": [1, 2, 3, 4], "reliability": [5, 6, 7, 8, 9],
                                    "responsiveness": [10, 11, 12, 13], "assurance": [14, 15, 16, 17],
                                    "empathy": [18, 19, 20, 21, 22]}
    assert inst.common_scale == (1, 7)
    assert not inst.reverse_keyed.any()
    assert inst.columns("E")[0] == "E1" and inst.columns("P")[-1] == "P22" and inst.columns("D")[4] == "D5"
    # bilingual wording present for every item, and it is ours (no published SERVQUAL sentence)
    f = inst.to_frame()
    assert f["text_en"].str.len().min() > 20 and f["text_zh"].str.len().min() > 8
    assert not f["text_en"].str.contains("XYZ|excellent companies", case=False).any()
    assert inst.importance_columns["reliability"] == "I_reliability"


def test_round_trip_csv(tmp_path):
    inst = default_instrument()
    p = tmp_path / "inst.csv"
    inst.to_csv(p)
    back = Instrument.from_csv(p)
    pd.testing.assert_frame_equal(back.to_frame(), inst.to_frame())


def test_other_instrument_9_point_three_dimensions_and_string_ids():
    f = pd.DataFrame({"item": ["q1", "q2", "q3", "q4", "q5", "q6"], "dimension": ["x", "x", "y", "y", "z", "z"],
                      "reverse_keyed": ["no", "yes", "0", "1", "false", "true"], "scale_min": 1, "scale_max": 9,
                      "text_en": "", "text_zh": ""})
    inst = Instrument.from_frame(f)
    assert inst.item_ids == ["q1", "q2", "q3", "q4", "q5", "q6"]
    assert inst.reverse_keyed.tolist() == [False, True, False, True, False, True]
    assert inst.columns("P") == ["Pq1", "Pq2", "Pq3", "Pq4", "Pq5", "Pq6"]
    assert inst.text("q1") == "q1"  # empty wording falls back to the id


def test_column_mapping_and_five_point_scale():
    f = _frame(smax=5)
    f["e_column"] = ["exp_a", "exp_b", "exp_c", "exp_d"]
    f["p_column"] = ["per_a", "per_b", "", None]
    inst = Instrument.from_frame(f)
    assert inst.columns("E") == ["exp_a", "exp_b", "exp_c", "exp_d"]
    assert inst.columns("P") == ["per_a", "per_b", "P3", "P4"]


@pytest.mark.parametrize("mutate, column", [
    (lambda f: f.drop(columns="dimension"), None),
    (lambda f: f.assign(item=[1, 1, 2, 3]), "item"),
    (lambda f: f.assign(scale_min=[1, 7, 1, 1], scale_max=[7, 7, 7, 7]), "scale_max"),
    (lambda f: f.assign(scale_max=["7", "x", "7", "7"]), "scale_max"),
    (lambda f: f.assign(reverse_keyed=["maybe", False, False, False]), "reverse_keyed"),
    (lambda f: f.assign(dimension=["a", "", "b", "b"]), "dimension"),
])
def test_bad_instrument_raises_data_error(mutate, column):
    with pytest.raises(DataError) as ei:
        Instrument.from_frame(mutate(_frame()))
    if column:
        assert ei.value.column == column


def test_missing_instrument_file():
    with pytest.raises(DataError, match="not found"):
        Instrument.from_csv("/nonexistent/instrument.csv")


def _answers(n=3, k=4):
    return pd.DataFrame({**{f"E{i}": [7] * n for i in range(1, k + 1)}, **{f"P{i}": [5] * n for i in range(1, k + 1)}})


def test_out_of_range_raises_with_location():
    inst = Instrument.from_frame(_frame())
    df = _answers()
    df.loc[1, "P3"] = 8
    with pytest.raises(DataError) as ei:
        prepare_responses(df, inst)
    assert ei.value.column == "P3" and ei.value.row == 1 and ei.value.value == 8
    assert "1-7" in str(ei.value)


def test_non_numeric_code_raises_or_is_counted():
    inst = Instrument.from_frame(_frame())
    df = _answers().astype(object)
    df.loc[0, "E2"] = "seven"
    df.loc[2, "E2"] = "4.5"
    with pytest.raises(DataError, match="non-numeric"):
        prepare_responses(df, inst)
    prep = prepare_responses(df, inst, on_invalid="exclude")
    ex = prep.exclusions.set_index("reason")
    assert ex.loc["non-numeric code → missing", "count"] == 1
    assert ex.loc["value between scale points → missing", "count"] == 1
    assert np.isnan(prep.values["E"][0, 1]) and np.isnan(prep.values["E"][2, 1])


def test_dont_know_codes_mapped_to_missing_and_counted():
    inst = Instrument.from_frame(_frame())
    df = _answers(4).astype(object)
    df.loc[0, "P1"] = 99
    df.loc[1, "P1"] = "DK"
    df.loc[2, "P1"] = "不知道"
    df.loc[3, "P1"] = 0
    prep = prepare_responses(df, inst)
    assert np.isnan(prep.values["P"][:, 0]).all()
    row = prep.exclusions[prep.exclusions["column"] == "P1"].iloc[0]
    assert row["count"] == 4 and "don't-know" in row["reason"]


def test_dont_know_code_inside_scale_is_never_applied_by_default():
    # 0 is a valid answer on a 0-10 scale: the default "don't know" 0 must not apply there
    inst = Instrument.from_frame(_frame(smin=0, smax=10))
    df = _answers()
    df.loc[0, "P1"] = 0
    prep = prepare_responses(df, inst)
    assert prep.values["P"][0, 0] == 0 and prep.exclusions.empty
    with pytest.raises(ParameterError, match="inside an item's scale"):
        prepare_responses(df, inst, dont_know=[0, 99])


def test_reverse_keyed_recoding():
    inst = Instrument.from_frame(_frame(rev=[False, True, False, False]))
    df = _answers()
    df["E2"] = [1, 2, 7]
    prep = prepare_responses(df, inst)
    assert prep.values["E"][:, 1].tolist() == [7, 6, 1]        # 1 + 7 − x
    assert prep.values["P"][:, 1].tolist() == [3, 3, 3]
    raw = prepare_responses(df, inst, recode_reverse=False)
    assert raw.values["E"][:, 1].tolist() == [1, 2, 7]


def test_versioned_instruments_recode_only_their_rows():
    v2 = Instrument.from_frame(_frame())
    v1 = v2.with_reverse_keyed([2], name="v1")
    df = _answers()
    df["E2"] = [2, 2, 2]
    df["instrument"] = ["v1", "v2", "v1"]
    prep = prepare_responses(df, {"v1": v1, "v2": v2})
    assert prep.values["E"][:, 1].tolist() == [6, 2, 6]
    df.loc[1, "instrument"] = "v9"
    with pytest.raises(DataError, match="unknown instrument version"):
        prepare_responses(df, {"v1": v1, "v2": v2})


def test_missing_columns_named_with_hint():
    inst = Instrument.from_frame(_frame())
    df = _answers().rename(columns={"P1": "p1"})
    with pytest.raises(DataError, match="did you mean 'p1'"):
        prepare_responses(df, inst)
    # a half-present optional component (A) is a mistake, not silently ignored
    df = _answers()
    df["A1"] = 4
    with pytest.raises(DataError, match="partly present"):
        prepare_responses(df, inst)


def test_default_dont_know_codes_documented():
    assert 99 in DEFAULT_DONT_KNOW and "不知道" in DEFAULT_DONT_KNOW
