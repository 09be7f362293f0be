"""Set-based validation (issue 9): the hotline checked by SQL in the store says the same as the pandas validator,
keys across monthly files, rows in the wrong monthly file, inf and implausible values, the cut-off, references,
data gaps, the report's consistency checks, and `sqc validate` never ends in a traceback."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sqc.cli import main
from sqc.errors import DataError, SchemaError
from sqc.io import load_network
from sqc.schema import INFINITE_REASON, validate
from sqc.store import ingest
from sqc.tables import SCHEMAS
from store_helpers import edit_parquet, net, own_cache, small_network  # noqa: F401 (fixtures)

ROOT = Path(__file__).resolve().parents[1]


def _set(frame, row, column, value, as_text=False):
    if as_text:
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None).map(
            lambda v: None if v is None else str(v))
    else:
        frame[column] = frame[column].astype(object)
    frame.loc[row, column] = value
    return frame


HOTLINE_FAULTS = [  # (column, 0-based row, value, as text)
    ("wait_s", 7, "abc", True),
    ("wait_s", 3, -5.0, False),
    ("wait_s", 11, float("inf"), False),
    ("wait_s", 2, 1e308, False),
    ("wait_s", 9, 86401.0, False),          # a wait above 24 h
    ("handle_s", 5, float("-inf"), False),
    ("csat", 4, 6, False),
    ("csat", 6, 2.5, False),
    ("answered", 8, "maybe", True),
    ("ts", 10, None, False),
    ("branch", 12, None, False),
]


@pytest.mark.parametrize("column,row,value,as_text", HOTLINE_FAULTS)
def test_sql_validation_of_the_hotline_matches_the_pandas_validator(net, column, row, value, as_text):
    """Reference: sqc.schema.validate on the same file read by pandas (the loader's per-file validation)."""
    path = net / "hotline" / "2026-10.parquet"
    edit_parquet(path, lambda f: _set(f, row, column, value, as_text))
    with pytest.raises(SchemaError) as direct:
        validate(pd.read_parquet(path), SCHEMAS["hotline"], file=str(path))
    with pytest.raises(SchemaError) as stored:
        ingest(net, tables=["branches", "hotline"])
    d, s = direct.value, stored.value
    assert (s.file, s.column, s.row, s.reason, s.expected, s.count) == (d.file, d.column, d.row, d.reason,
                                                                          d.expected, d.count)
    assert s.row == row + 1 and s.file.endswith("2026-10.parquet")
    if value is not None:
        assert s.value == d.value == value or (isinstance(value, float) and float(s.value) == value)
    with pytest.raises(SchemaError):  # nothing was stored: the next run refuses it again
        ingest(net, tables=["branches", "hotline"])


def test_infinite_values_are_refused_by_the_pandas_validator_too():
    frame = pd.DataFrame({"kpi": ["nps"], "target": [np.inf], "direction": ["higher_is_better"], "unit": ["pts"],
                          "definition_en": ["x"], "definition_zh": ["x"]})
    with pytest.raises(SchemaError, match=INFINITE_REASON) as exc:
        validate(frame, SCHEMAS["targets"], file="targets.csv")
    assert (exc.value.column, exc.value.row) == ("target", 1)


def test_exclude_counts_the_hotline_faults_per_reason(net):
    path = net / "hotline" / "2026-10.parquet"
    n = len(pd.read_parquet(path))

    def edit(f):
        f.loc[[3, 5], "wait_s"] = np.inf
        f.loc[[8], "wait_s"] = 1e308
        f.loc[[9], "csat"] = 7
        return f

    edit_parquet(path, edit)
    data = load_network(net, on_error="exclude")
    rep = next(r for r in data.reports["hotline"] if r.file.endswith("2026-10.parquet"))
    assert (rep.n_rows_in, rep.n_rows_out) == (n, n - 4)
    reasons = {(e.column, e.reason): (e.count, e.first_rows) for e in rep.exclusions}
    assert reasons[("wait_s", INFINITE_REASON)] == (2, [4, 6])
    assert reasons[("wait_s", "has a value out of range")] == (1, [9])
    assert reasons[("csat", "has a value out of range")] == (1, [10])
    assert len(data.hotline) == data.load_summary().set_index("table").loc["hotline", "rows_kept"]


def test_duplicate_contact_id_across_monthly_files(net):
    sep = pd.read_parquet(net / "hotline" / "2026-09.parquet")
    dup_id = int(sep["contact_id"].iat[41])
    edit_parquet(net / "hotline" / "2026-10.parquet", lambda f: f.assign(
        contact_id=np.where(np.arange(len(f)) == 17, dup_id, f["contact_id"])))
    with pytest.raises(SchemaError) as exc:
        ingest(net)
    e = exc.value
    assert e.file.endswith("hotline/2026-10.parquet") and (e.column, e.row, e.value) == ("contact_id", 18, dup_id)
    assert "row 42 of hotline/2026-09.parquet" in str(e)
    data = load_network(net, on_error="exclude")
    assert data.load_summary().set_index("table").loc["hotline", "excluded"] == 1
    assert data.store.query("SELECT count(*) AS n FROM hotline WHERE contact_id = ?", [dup_id])["n"].iat[0] == 1


def test_duplicate_key_within_one_monthly_file(net):
    def edit(f):
        f.loc[30, "contact_id"] = f.loc[20, "contact_id"]
        return f

    edit_parquet(net / "hotline" / "2026-08.parquet", edit)
    with pytest.raises(SchemaError, match="row 21 of the same file") as exc:
        ingest(net)
    assert (exc.value.column, exc.value.row) == ("contact_id", 31)


def test_a_row_in_the_wrong_monthly_file(net):
    def edit(f):
        f.loc[5, "ts"] = pd.Timestamp("2026-10-02 09:00")
        return f

    edit_parquet(net / "hotline" / "2026-09.parquet", edit)
    with pytest.raises(SchemaError, match="outside the month 2026-09") as exc:
        ingest(net)
    assert exc.value.file.endswith("2026-09.parquet") and (exc.value.column, exc.value.row) == ("ts", 6)
    data = load_network(net, on_error="exclude")
    rep = next(r for r in data.reports["hotline"] if r.file.endswith("2026-09.parquet"))
    assert rep.n_excluded == 1 and "outside the month" in str(rep.exclusions[0])


def test_dates_after_the_cutoff_are_refused_or_excluded(net):
    oct_ = pd.read_parquet(net / "hotline" / "2026-10.parquet")
    late = int((oct_["ts"] > pd.Timestamp("2026-10-20 23:59:59")).sum())
    assert ingest(net).ingested  # default cut-off (now): the demo data is in the past
    with pytest.raises(SchemaError, match="after the export's cut-off 2026-10-20 23:59:59") as exc:
        ingest(net, cutoff="2026-10-20")  # a stricter cut-off re-checks files already in the store
    assert exc.value.file.endswith(("2026-10.parquet", "complaints.parquet", "incidents.csv", "audit_visits.parquet",
                                    "volumes.csv", "survey.parquet"))
    data = load_network(net, on_error="exclude", cutoff="2026-10-20")
    rep = next(r for r in data.reports["hotline"] if r.file.endswith("2026-10.parquet"))
    assert rep.n_excluded == late and late > 0
    assert data.store.query("SELECT max(ts) AS m FROM hotline")["m"].iat[0] <= pd.Timestamp("2026-10-20 23:59:59")
    comp = data.complaints
    assert comp["opened_at"].max() <= pd.Timestamp("2026-10-20 23:59:59")
    assert data.load_summary().set_index("table").loc["complaints", "excluded"] > 0


def test_unknown_branch_in_the_hotline_and_a_branch_removed_later(net):
    edit_parquet(net / "hotline" / "2026-10.parquet",
                 lambda f: f.assign(branch=np.where(np.arange(len(f)) == 3, "B99", f["branch"])))
    with pytest.raises(SchemaError, match="unknown branch") as exc:
        ingest(net)
    assert (exc.value.row, exc.value.value) == (4, "B99") and exc.value.file.endswith("2026-10.parquet")
    (net / "hotline" / "2026-10.parquet").unlink()
    ingest(net)
    branches = pd.read_csv(net / "branches.csv")
    branches[branches["branch"] != "B12"].to_csv(net / "branches.csv", index=False)
    with pytest.raises(SchemaError, match="unknown branch") as exc:  # files already in the store are re-checked
        ingest(net)
    assert exc.value.value == "B12"


def test_stage_table_charts_are_declared_branches_or_the_network(net):
    """limit_stages.csv may name ALL (the network's chart) or a declared branch; anything else is refused at
    ingest (so `sqc validate` says so) with file, column, 1-based row and value, or excluded and counted."""
    (net / "limit_stages.csv").write_text("chart,kpi,start,reason_en,reason_zh\nB04,fcr_rate,2025-09,a,a\n"
                                          "ALL,aht_s,2026-02,b,b\nB99,fcr_rate,2025-10,c,c\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="unknown chart") as exc:
        ingest(net)
    assert (exc.value.column, exc.value.row, exc.value.value) == ("chart", 3, "B99")
    assert exc.value.file.endswith("limit_stages.csv")
    ingest(net, on_error="exclude")
    stages = load_network(net, on_error="exclude").tables["limit_stages"]
    assert stages["chart"].tolist() == ["B04", "ALL"]


def test_data_gaps_are_warned_per_branch_and_month(net, capsys):
    edit_parquet(net / "hotline" / "2026-09.parquet", lambda f: f.loc[f["branch"] != "B03"])
    vol = pd.read_csv(net / "volumes.csv")
    vol.loc[~((vol["branch"] == "B05") & (vol["period"] == "2026-10"))].to_csv(net / "volumes.csv", index=False)
    data = load_network(net)
    gaps = data.data_gaps
    assert gaps[["branch", "month", "missing"]].values.tolist() == [["B03", "2026-09", "hotline"],
                                                                     ["B05", "2026-10", "volumes"]]
    codes = {(w.code, w.subject) for w in data.warnings}
    assert codes == {("W-DATA-01", "B03 2026-09"), ("W-DATA-02", "B05 2026-10")}
    assert not data.tables.is_loaded("hotline")
    code, text = _cli(["ingest", "--data", str(net)], capsys)
    assert code == 0 and "W-DATA-01 (warning) [B03 2026-09]" in text and "W-DATA-02 (warning) [B05 2026-10]" in text


def test_the_full_demo_has_no_data_gaps(demo_data):
    assert demo_data.data_gaps.empty


def test_validate_runs_the_reports_consistency_checks(net, capsys):
    comp = pd.read_parquet(net / "complaints.parquet")
    i = int(np.flatnonzero(comp["closed_at"].notna().to_numpy())[2])
    comp.loc[i, "closed_at"] = comp.loc[i, "opened_at"] - pd.Timedelta(hours=3)
    comp.to_parquet(net / "complaints.parquet", index=False)
    audit = pd.read_parquet(net / "audit_visits.parquet")
    yes_no = set(pd.read_csv(net / "checklist.csv").query("max_score == 1")["item_id"])
    j = int(np.flatnonzero(audit["item_id"].isin(yes_no).to_numpy())[3])
    audit.loc[j, "score"] = 2.0
    audit.to_parquet(net / "audit_visits.parquet", index=False)
    assert main(["validate", "--data", str(net)]) == 2
    err = capsys.readouterr().err
    assert "closed before it was opened" in err and f"row {i + 1}" in err and "complaints.parquet" in err
    assert main(["validate", "--data", str(net), "--exclude"]) == 0
    out = capsys.readouterr().out
    assert "closed before it was opened" in out and "score above the item's maximum" in out and f"row {j + 1}," in out


def _cli(args, capsys):
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.parametrize("case", ["empty_month", "empty_csv", "text_as_parquet", "missing_folder", "bad_store",
                                  "not_a_store", "permission"])
def test_validate_never_ends_in_a_traceback(net, tmp_path, capsys, case):
    args = ["validate", "--data", str(net)]
    expect = None
    if case == "empty_month":
        (net / "hotline" / "2026-10.parquet").write_bytes(b"")
        expect = "2026-10.parquet"
    elif case == "empty_csv":
        (net / "branches.csv").write_bytes(b"")
        expect = "branches.csv"
    elif case == "text_as_parquet":
        (net / "hotline" / "2026-10.parquet").write_text("contact_id,ts\n1,2026-10-01\n")
        expect = "2026-10.parquet"
    elif case == "missing_folder":
        args = ["validate", "--data", str(tmp_path / "nope")]
        expect = "data directory not found"
    elif case == "bad_store":  # the store cannot be created there
        (tmp_path / "afile").write_text("x")
        args += ["--store", str(tmp_path / "afile" / "store.duckdb")]
        expect = "--store"
    elif case == "not_a_store":
        (tmp_path / "junk.duckdb").write_text("this is not a database")
        args += ["--store", str(tmp_path / "junk.duckdb")]
        expect = "junk.duckdb"
    elif case == "permission":
        if os.geteuid() == 0:
            pytest.skip("root reads files whatever their mode")
        (net / "incidents.csv").chmod(0)
        expect = "incidents.csv"
    code, text = _cli(args, capsys)
    assert code == 2, text
    assert "Traceback" not in text and expect in text
    assert len([line for line in text.splitlines() if "error" in line]) == 1


def test_cli_ingest_and_validate_in_a_subprocess(net, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), XDG_CACHE_HOME=str(tmp_path / "cache"))
    store = tmp_path / "s.duckdb"
    run = [sys.executable, "-m", "sqc.cli"]
    proc = subprocess.run(run + ["ingest", "--data", str(net), "--store", str(store)], capture_output=True,
                          text=True, env=env, cwd=ROOT)
    assert proc.returncode == 0 and "ingested hotline/2026-10.parquet" in proc.stdout, proc.stderr
    (net / "hotline" / "2026-09.parquet").write_bytes(b"")
    proc = subprocess.run(run + ["validate", "--data", str(net), "--store", str(store)], capture_output=True,
                          text=True, env=env, cwd=ROOT)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "2026-09.parquet" in proc.stderr
    assert "0 bytes" in proc.stderr


def test_a_read_only_data_folder_uses_the_cache_store_or_says_what_to_do(net, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("sqc.store.store.os.access", lambda *a, **k: False)  # as if the folder were read-only
    code, text = _cli(["validate", "--data", str(net)], capsys)
    assert code == 0, text
    assert str(tmp_path / "cache" / "sqc" / "stores") in text and not (net / ".sqc").exists()
    (tmp_path / "blocked").write_text("a file where the cache folder should be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "blocked"))
    code, text = _cli(["validate", "--data", str(net)], capsys)
    assert code == 2 and "Traceback" not in text and "--store PATH" in text


def test_csv_exports_in_another_encoding(net, capsys):
    incidents = pd.read_csv(net / "incidents.csv")
    incidents.loc[0, "description"] = "服务中断未上报"
    (net / "incidents.csv").write_bytes(incidents.to_csv(index=False).encode("gb18030"))
    code, text = _cli(["validate", "--data", str(net)], capsys)
    assert code == 2 and "incidents.csv" in text and "gb18030" in text  # says which encodings to try
    data = load_network(net, encoding="gb18030")
    assert data.incidents["description"].iat[0] == "服务中断未上报"
    assert main(["ingest", "--data", str(net), "--encoding", "gb18030", "--quiet"]) == 0


def test_a_table_written_as_a_folder_of_parts_is_checked_across_parts(net):
    """Spark writes complaints.parquet as a folder of part files: keys must be unique across the parts."""
    comp = pd.read_parquet(net / "complaints.parquet")
    (net / "complaints.parquet").unlink()
    (net / "complaints.parquet").mkdir()
    comp.iloc[:5000].to_parquet(net / "complaints.parquet" / "part-0000.parquet", index=False)
    comp.iloc[4990:].to_parquet(net / "complaints.parquet" / "part-0001.parquet", index=False)
    (net / "complaints.parquet" / "_SUCCESS").write_text("")
    with pytest.raises(SchemaError, match="row 4991 of complaints.parquet/part-0000.parquet") as exc:
        ingest(net)
    assert (exc.value.column, exc.value.row) == ("complaint_id", 1)
    data = load_network(net, on_error="exclude")
    assert len(data.complaints) == len(comp) and data.complaints["complaint_id"].is_unique


def test_a_cutoff_that_is_not_a_date_is_a_parameter_error(net, capsys):
    code, text = _cli(["ingest", "--data", str(net), "--cutoff", "last tuesday"], capsys)
    assert code == 2 and "cut-off 'last tuesday' is not a date" in text and "Traceback" not in text
