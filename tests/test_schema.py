"""Validation of tables against their schema: every problem named (file, column, row, value, expected) or
counted when excluded — never a silent NaN."""
import pandas as pd
import pytest

from sqc.errors import ParameterError, SchemaError
from sqc.schema import Column, TableSchema, validate

SCHEMA = TableSchema("toy", (
    Column("id", "int"),
    Column("period", "period"),
    Column("score", "float", min=1, max=7, nullable=True),
    Column("kind", "category", allowed=("a", "b")),
    Column("flag", "bool", nullable=True),
    Column("when", "datetime"),
), key=("id",))


def frame(**over):
    base = {"id": [1, 2, 3], "period": ["2026-01", "2026-02", "2026-03"], "score": [1.0, None, 7.0],
            "kind": ["a", "b", "a"], "flag": ["yes", "0", None], "when": ["2026-01-05", "2026-02-01 10:00", "2026-03-31"]}
    base.update(over)
    return pd.DataFrame(base)


def test_valid_frame_is_typed_and_nothing_excluded():
    out, rep = validate(frame(), SCHEMA)
    assert rep.n_excluded == 0 and rep.exclusions == []
    assert out["id"].dtype == "int64"
    assert out["flag"].tolist()[:2] == [True, False] and pd.isna(out["flag"].iloc[2])
    assert pd.api.types.is_datetime64_any_dtype(out["when"])
    assert pd.isna(out["score"].iloc[1])  # a missing answer stays missing; nothing invented


def test_text_in_numeric_column_names_file_column_row_value():
    with pytest.raises(SchemaError) as exc:
        validate(frame(score=[1.0, "seven", 3.0]), SCHEMA, file="survey.csv")
    e = exc.value
    assert (e.file, e.column, e.row, e.value) == ("survey.csv", "score", 2, "seven")
    assert "a number" in str(e) and "survey.csv" in str(e)


def test_out_of_range_value():
    with pytest.raises(SchemaError) as exc:
        validate(frame(score=[1.0, 9, 3.0]), SCHEMA, file="s.csv")
    assert exc.value.column == "score" and exc.value.value == 9 and exc.value.row == 2
    assert "between 1 and 7" in str(exc.value)


def test_malformed_period():
    with pytest.raises(SchemaError) as exc:
        validate(frame(period=["2026-01", "2026-13", "2026/03"]), SCHEMA, file="x.csv")
    assert exc.value.column == "period" and exc.value.value == "2026-13" and exc.value.count == 2


def test_missing_column_suggests_the_close_name():
    with pytest.raises(SchemaError, match=r"missing required column.*'score'.*did you mean 'scor'"):
        validate(frame().rename(columns={"score": "scor"}), SCHEMA, file="x.csv")


def test_value_outside_allowed_set_and_duplicate_key():
    with pytest.raises(SchemaError, match="allowed"):
        validate(frame(kind=["a", "c", "a"]), SCHEMA)
    with pytest.raises(SchemaError, match="repeats the key"):
        validate(frame(id=[1, 1, 3]), SCHEMA)


def test_fractional_value_in_int_column_is_an_error():
    with pytest.raises(SchemaError) as exc:
        validate(frame(id=[1, 2.5, 3]), SCHEMA)
    assert exc.value.value == 2.5


def test_exclude_mode_counts_every_exclusion():
    bad = frame(score=[1.0, "x", 8], kind=["a", "b", "z"])
    out, rep = validate(bad, SCHEMA, file="x.csv", on_error="exclude")
    assert len(out) == 1 and rep.n_rows_in == 3 and rep.n_rows_out == 1 and rep.n_excluded == 2
    reasons = {(e.column, e.count) for e in rep.exclusions}
    assert ("score", 1) in reasons  # 'x' is not a number
    assert sum(e.count for e in rep.exclusions) >= 2
    assert "excluded" in rep.summary()


def test_index_labels_used_as_rows_for_in_memory_frames():
    df = frame(score=[1.0, 2.0, 99.0])
    df.index = ["r1", "r2", "r3"]
    with pytest.raises(SchemaError) as exc:
        validate(df, SCHEMA)
    assert exc.value.row == "r3"


def test_bad_options():
    with pytest.raises(ParameterError):
        validate(frame(), SCHEMA, on_error="ignore")
    with pytest.raises(ParameterError):
        validate([1, 2], SCHEMA)


def test_int_column_stays_integer_after_exclusion():
    out, rep = validate(frame(id=[1, 2.5, 3]), SCHEMA, on_error="exclude")
    assert out["id"].tolist() == [1, 3] and out["id"].dtype == "int64" and rep.n_excluded == 1
