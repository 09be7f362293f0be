"""Schemas of the data contract (sqc.tables) and the generated data dictionary."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sqc.errors import SchemaError
from sqc.schema import TableSchema, validate
from sqc.tables import (BRANCHES, DIMENSION_ITEMS, DIMENSIONS, INSTRUMENT_FILES, KPIS, SCHEMAS, TABLE_FILES,
                        data_dictionary_markdown)

REPO = Path(__file__).resolve().parents[1]
DATASETS = REPO / "datasets"

CONTRACT = {
    "branches": ["branch", "name_en", "name_zh", "county_en", "county_zh"],
    "volumes": ["branch", "period", "walk_ins", "active_customers"],
    "targets": ["kpi", "target", "direction", "unit", "definition_en", "definition_zh"],
    "hotline": ["contact_id", "ts", "branch", "wait_s", "answered", "handle_s", "resolved_first_contact", "csat"],
    "complaints": ["complaint_id", "opened_at", "closed_at", "branch", "channel", "category", "severity",
                   "recovered", "reopened"],
    "checklist": ["item_id", "section", "text_en", "text_zh", "max_score", "weight", "critical", "na_allowed"],
    "audit_visits": ["visit_id", "branch", "period", "visit_date", "assessor_body", "assessor_id", "item_id",
                     "score"],
    "incidents": ["incident_id", "branch", "date", "period", "type", "deduction", "veto", "description"],
    "blueprint_steps": ["step_id", "stage", "lane", "text_en", "text_zh", "failure_en", "failure_zh", "failure_type",
                        "complaint_category", "checklist_item"],
    "interventions": ["intervention_id", "kind", "name_en", "name_zh", "description_en", "description_zh", "step_id",
                      "failure_type", "branch", "start_date", "complaint_categories", "kpis", "checklist_items"],
    "limit_stages": ["chart", "kpi", "start", "reason_en", "reason_zh"],
}


def test_every_contract_table_has_a_schema_and_a_file():
    assert set(SCHEMAS) == set(CONTRACT) | {"survey"}
    assert set(TABLE_FILES) == set(SCHEMAS)
    for name, schema in SCHEMAS.items():
        assert isinstance(schema, TableSchema) and schema.name == name
        assert schema.key, f"{name} has no key"
        assert all(k in schema.names for k in schema.key)
    assert TABLE_FILES["hotline"] == "hotline"             # a folder of monthly files
    assert TABLE_FILES["branches"].endswith(".csv") and TABLE_FILES["complaints"].endswith(".parquet")
    assert INSTRUMENT_FILES == {"v1": "survey_instrument_v1.csv", "v2": "survey_instrument_v2.csv"}


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_columns_follow_the_contract(name):
    assert SCHEMAS[name].names == CONTRACT[name]


def test_survey_schema_enumerates_the_item_blocks():
    s = SCHEMAS["survey"]
    assert s.names[:5] == ["respondent_id", "wave", "branch", "segment", "instrument"]
    for prefix, required in (("E", True), ("P", True), ("A", False), ("D", False)):
        for i in range(1, 23):
            c = s.column(f"{prefix}{i}")
            assert (c.dtype, c.min, c.max, c.nullable, c.required) == ("int", 1, 7, True, required)
    for d in DIMENSIONS:
        c = s.column(f"I_{d}")
        assert (c.min, c.max, c.nullable) == (0, 100, True)
    assert (s.column("overall").min, s.column("overall").max) == (1, 7)
    assert (s.column("recommend").min, s.column("recommend").max) == (0, 10)
    assert s.key == ("respondent_id",)
    assert sum(len(v) for v in DIMENSION_ITEMS.values()) == 22
    assert DIMENSION_ITEMS["reliability"] == (5, 6, 7, 8, 9)


def test_keys_and_allowed_values():
    assert SCHEMAS["audit_visits"].key == ("visit_id", "item_id")
    assert SCHEMAS["hotline"].key == ("contact_id",)
    assert SCHEMAS["volumes"].key == ("branch", "period")
    assert tuple(SCHEMAS["targets"].column("kpi").allowed) == KPIS
    # branch ids are the organisation's own (any id declared in branches.csv; sqc.io checks the references)
    assert all(SCHEMAS[t].column("branch").dtype == "str" and SCHEMAS[t].column("branch").allowed is None
               for t in SCHEMAS if "branch" in SCHEMAS[t].names)
    assert SCHEMAS["branches"].key == ("branch",)
    assert set(SCHEMAS["audit_visits"].column("assessor_body").allowed) == {"provincial", "city"}
    assert set(SCHEMAS["complaints"].column("channel").allowed) == {"hotline", "walk_in", "online", "regulator"}


def _survey_row(**over):
    row = {"respondent_id": "R1", "wave": "2026-09", "branch": "B01", "segment": "consumer", "instrument": "v2"}
    row.update({f"E{i}": 6 for i in range(1, 23)})
    row.update({f"P{i}": 5 for i in range(1, 23)})
    row.update({f"I_{d}": 20.0 for d in DIMENSIONS})
    row.update(overall=5, recommend=8)
    row.update(over)
    return row


def test_survey_validation_catches_out_of_range_likert():
    ok, rep = validate(pd.DataFrame([_survey_row(), _survey_row(respondent_id="R2")]), SCHEMAS["survey"])
    assert rep.n_rows_out == 2                 # A/D columns are optional
    with pytest.raises(SchemaError) as err:
        validate(pd.DataFrame([_survey_row(), _survey_row(respondent_id="R2", P3=8)]), SCHEMAS["survey"],
                 file="survey.csv")
    assert err.value.column == "P3" and err.value.row == 2 and err.value.value == 8
    with pytest.raises(SchemaError) as err:
        validate(pd.DataFrame([_survey_row(recommend=11)]), SCHEMAS["survey"])
    assert err.value.column == "recommend"
    with pytest.raises(SchemaError) as err:         # duplicate respondent
        validate(pd.DataFrame([_survey_row(), _survey_row()]), SCHEMAS["survey"])
    assert "key" in str(err.value)


def test_hotline_validation_catches_bad_values():
    good = pd.DataFrame({"contact_id": [1, 2], "ts": pd.to_datetime(["2026-10-01 09:00", "2026-10-01 09:01"]),
                         "branch": ["B01", "B02"], "wait_s": [3.0, 40.0], "answered": [True, False],
                         "handle_s": [250.0, None], "resolved_first_contact": pd.array([True, None], "boolean"),
                         "csat": pd.array([5, None], "Int8")})
    validate(good, SCHEMAS["hotline"])
    with pytest.raises(SchemaError) as err:
        validate(good.assign(wait_s=[3.0, -1.0]), SCHEMAS["hotline"])
    assert err.value.column == "wait_s"
    # an undeclared branch id (e.g. B13) is caught by the cross-table check in sqc.io (test_io.py)
    with pytest.raises(SchemaError) as err:
        validate(good.assign(csat=[5, 6]), SCHEMAS["hotline"])
    assert err.value.column == "csat"
    with pytest.raises(SchemaError) as err:
        validate(good.rename(columns={"wait_s": "wait"}), SCHEMAS["hotline"])
    assert "wait_s" in str(err.value)


def test_data_dictionary_markdown_covers_every_column():
    md = data_dictionary_markdown()
    for name, schema in SCHEMAS.items():
        assert f"### {name}\n" in md
        for col in schema.names:
            if name == "survey" and col[0] in "EPAD" and col[1:].isdigit():
                continue
            assert f"| {col} |" in md, (name, col)
    for block in ("E1..E22", "P1..P22", "A1..A22", "D1..D22"):
        assert f"| {block} |" in md
    assert "`hotline/YYYY-MM.parquet`" in md
    assert "| wait_s | float | s | 0–86400 | no | yes |" in md


@pytest.mark.skipif(not (DATASETS / "README.md").exists(), reason="datasets/ not generated")
def test_committed_readme_holds_the_current_dictionary():
    """datasets/README.md is generated from the schemas: if a schema changes, regenerate the data."""
    assert data_dictionary_markdown() in (DATASETS / "README.md").read_text(encoding="utf-8")
