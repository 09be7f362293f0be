"""The loading layer on the demo network: every table validated, bad exports rejected with the file, column, row
and value named (the four bad inputs of issue 2's 'Done when'), other export formats accepted."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sqc.errors import DataError, SchemaError
from sqc.io import latest_period, load_network, read_frame
from sqc.tables import TABLE_FILES

ROOT = Path(__file__).resolve().parents[1]


def copy_demo(demo_dir: Path, dest: Path) -> Path:
    """A writable copy of the demo folder (the big hotline folder is linked, not copied)."""
    dest.mkdir()
    for entry in demo_dir.iterdir():
        if entry.name.startswith("."):  # the demo folder's own store (.sqc/) is not part of the data
            continue
        if entry.is_dir():
            (dest / entry.name).symlink_to(entry)
        else:
            shutil.copy(entry, dest / entry.name)
    return dest


def test_demo_network_loads_clean(demo_data):
    assert set(demo_data.tables) == set(TABLE_FILES)
    summary = demo_data.load_summary()
    assert (summary["excluded"] == 0).all() and (summary["rows_kept"] > 0).all()
    assert demo_data.periods[-1] == "2026-10" and len(demo_data.periods) == 24
    assert demo_data.fingerprint() == demo_data.fingerprint()
    assert latest_period(demo_data.data_dir) == "2026-10"


def _rewrite(path: Path, edit) -> None:
    frame = read_frame(path)
    frame = edit(frame)
    if path.suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_csv(path, index=False)


def test_wrong_column_name(demo_dir, tmp_path):
    data = copy_demo(demo_dir, tmp_path / "d")
    _rewrite(data / TABLE_FILES["volumes"], lambda f: f.rename(columns={"walk_ins": "walkins"}))
    with pytest.raises(SchemaError) as exc:
        load_network(data, tables=["branches", "volumes"])
    msg = str(exc.value)
    assert "volumes" in msg and "'walk_ins'" in msg and "did you mean 'walkins'" in msg


def test_text_in_numeric_column(demo_dir, tmp_path):
    data = copy_demo(demo_dir, tmp_path / "d")

    def edit(f):
        f["walk_ins"] = f["walk_ins"].astype(object)
        f.loc[2, "walk_ins"] = "abc"
        return f

    _rewrite(data / TABLE_FILES["volumes"], edit)
    with pytest.raises(SchemaError) as exc:
        load_network(data, tables=["branches", "volumes"])
    e = exc.value
    assert (e.column, e.row, e.value) == ("walk_ins", 3, "abc") and e.file.endswith(TABLE_FILES["volumes"])
    assert "whole number" in str(e)


def test_out_of_range_likert_value(demo_dir, tmp_path):
    data = copy_demo(demo_dir, tmp_path / "d")
    survey = data / TABLE_FILES["survey"]

    def edit(f):
        f.loc[10, "P5"] = 9
        return f

    _rewrite(survey, edit)
    with pytest.raises(SchemaError) as exc:
        load_network(data, tables=["branches", "survey"])
    assert (exc.value.column, exc.value.row, exc.value.value) == ("P5", 11, 9)
    assert "between 1 and 7" in str(exc.value)


def test_malformed_period(demo_dir, tmp_path):
    data = copy_demo(demo_dir, tmp_path / "d")

    def edit(f):
        f.loc[0, "period"] = "2026-13"
        return f

    _rewrite(data / TABLE_FILES["volumes"], edit)
    with pytest.raises(SchemaError) as exc:
        load_network(data, tables=["branches", "volumes"])
    assert (exc.value.column, exc.value.row, exc.value.value) == ("period", 1, "2026-13")
    assert "YYYY-MM" in str(exc.value)


def test_bad_data_via_cli_exits_2_with_a_clear_message(demo_dir, tmp_path):
    data = copy_demo(demo_dir, tmp_path / "d")

    def edit(f):
        f.loc[4, "P5"] = 0
        return f

    _rewrite(data / TABLE_FILES["survey"], edit)
    proc = subprocess.run([sys.executable, "-m", "sqc.cli", "report", "--period", "2026-10", "--data", str(data),
                           "--reports", str(tmp_path / "r"), "--quiet", "--lang", "en"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2, proc.stderr  # bad input data: 2, as the README says
    assert "P5" in proc.stderr and "row 5" in proc.stderr and "Nothing was published" in proc.stderr
    assert not (tmp_path / "r" / "2026-10").exists()
    proc = subprocess.run([sys.executable, "-m", "sqc.cli", "validate", "--data", str(data)],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2 and "column 'P5', row 5, value 0" in proc.stderr and "Traceback" not in proc.stderr


def test_exclude_mode_counts_and_reports(demo_dir, tmp_path):
    data = copy_demo(demo_dir, tmp_path / "d")

    def edit(f):
        f.loc[[3, 7], "P5"] = 9
        return f

    _rewrite(data / TABLE_FILES["survey"], edit)
    net = load_network(data, tables=["branches", "survey"], on_error="exclude")
    summary = net.load_summary().set_index("table")
    assert summary.loc["survey", "excluded"] == 2 and "P5" in summary.loc["survey", "reasons"]


def test_unknown_branch_reference(demo_dir, tmp_path):
    data = copy_demo(demo_dir, tmp_path / "d")
    _rewrite(data / TABLE_FILES["branches"], lambda f: f[f["branch"] != "B12"])
    with pytest.raises(SchemaError, match="unknown branch") as exc:
        load_network(data, tables=["branches", "volumes"])
    assert exc.value.value == "B12"


def test_excel_and_csv_exports_are_accepted(demo_dir, tmp_path):
    data = copy_demo(demo_dir, tmp_path / "d")
    vol = data / TABLE_FILES["volumes"]
    frame = read_frame(vol)
    vol.unlink()
    frame.to_excel(vol.with_suffix(".xlsx"), index=False)
    net = load_network(data, tables=["branches", "volumes"])
    assert len(net.volumes) == len(frame)


def test_wrong_encoding_is_explained(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes("지점,값\nB01,1\n".encode("cp949"))
    with pytest.raises(DataError, match="cp949"):
        read_frame(path)
    assert list(read_frame(path, encoding="cp949").columns) == ["지점", "값"]


def test_missing_folder_and_file(tmp_path):
    with pytest.raises(DataError, match="data directory not found"):
        load_network(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="table file not found"):
        load_network(tmp_path / "empty", tables=["branches"])
