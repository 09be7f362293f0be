"""The embedded store (issue 9): ingest is incremental and atomic, the store answers periods and the load summary
from its metadata, load_network gives the same tables as reading the files directly, the hotline stays lazy."""
import subprocess
import sys
import textwrap

import pandas as pd
import pytest

from sqc.errors import DataError
from sqc.io import load_network, read_table
from sqc.store import Store, StoreLockedError, default_store_path, ingest
from sqc.store import ingestion
from sqc.tables import SCHEMAS, TABLE_FILES
from store_helpers import MONTHS, edit_parquet, net, own_cache, small_network  # noqa: F401 (fixtures)


def _hotline_months(store: Store) -> pd.DataFrame:
    return store.query("SELECT strftime(ts, '%Y-%m') AS month, count(*) AS n FROM hotline GROUP BY 1 ORDER BY 1")


def test_load_network_gives_the_tables_a_direct_read_gives(net):
    """Reference: each file read and validated by pandas (sqc.io.read_table), concatenated in name order."""
    data = load_network(net)
    assert not data.tables.is_loaded("hotline")  # the raw hotline rows stay in the store until asked for
    for name, rel in TABLE_FILES.items():
        files = sorted((net / rel).iterdir()) if (net / rel).is_dir() else [net / rel]
        direct = pd.concat([read_table(f, SCHEMAS[name])[0] for f in files], ignore_index=True)
        got = data.tables[name]
        assert list(got.columns) == list(direct.columns), name
        as_ns = {c: "datetime64[ns]" for c in direct.columns if direct[c].dtype.kind == "M"}
        pd.testing.assert_frame_equal(got.astype(as_ns), direct.astype(as_ns), obj=name)
        for col in direct.columns:  # same dtypes, except the time unit of timestamps
            if direct[col].dtype.kind != "M":
                assert got[col].dtype == direct[col].dtype, (name, col)
    assert data.tables.is_loaded("hotline")


def test_periods_and_summary_come_from_the_metadata(net):
    data = load_network(net)
    assert data.periods == list(MONTHS) and data.latest_period == "2026-10"
    assert not data.tables.is_loaded("hotline")
    summary = data.load_summary().set_index("table")
    assert summary.loc["hotline", "files"] == 3
    assert summary.loc["hotline", "rows_read"] == sum(len(pd.read_parquet(net / "hotline" / f"{m}.parquet"))
                                                      for m in MONTHS)
    files = data.store.files()
    assert set(files.columns) >= {"path", "tbl", "fingerprint", "rows_read", "rows_kept", "rows_excluded",
                                  "reasons", "ingested_at"}
    assert "hotline/2026-09.parquet" in set(files["path"])
    # the fingerprint is the same as long as the files are, and changes with any byte
    fp = data.fingerprint()
    assert load_network(net).fingerprint() == fp
    with open(net / "incidents.csv", "a", encoding="utf-8") as fh:
        fh.write("\n")
    assert load_network(net).fingerprint() != fp


def test_unchanged_files_are_skipped_and_a_changed_file_replaces_its_rows(net):
    first = ingest(net)
    assert len(first.ingested) == 11 + len(MONTHS) and not first.skipped
    again = ingest(net)
    assert not again.ingested and not again.removed and len(again.skipped) == len(first.ingested)
    edit_parquet(net / "hotline" / "2026-09.parquet", lambda f: f.iloc[:1000])
    third = ingest(net)
    assert third.ingested == ["hotline/2026-09.parquet"]
    months = _hotline_months(third.store).set_index("month")["n"]
    assert months["2026-09"] == 1000 and months["2026-10"] > 1000
    rec = third.store.files("hotline").set_index("path").loc["hotline/2026-09.parquet"]
    assert rec["rows_read"] == rec["rows_kept"] == 1000


def test_a_removed_file_loses_its_rows(net):
    ingest(net)
    (net / "hotline" / "2026-08.parquet").unlink()
    result = ingest(net)
    assert result.removed == ["hotline/2026-08.parquet"]
    assert list(_hotline_months(result.store)["month"]) == ["2026-09", "2026-10"]
    assert load_network(net).periods == ["2026-09", "2026-10"]


def test_an_interrupted_ingest_leaves_the_store_as_it_was(net, monkeypatch):
    store = ingest(net).store
    before_files = store.files()
    before_months = _hotline_months(store)
    edit_parquet(net / "hotline" / "2026-09.parquet", lambda f: f.iloc[:10])
    edit_parquet(net / "hotline" / "2026-10.parquet", lambda f: f.iloc[:10])
    (net / "hotline" / "2026-08.parquet").unlink()

    def crash(rel):
        if rel == "hotline/2026-09.parquet":
            raise RuntimeError("simulated crash after the first changed file")

    monkeypatch.setattr(ingestion, "_after_file_hook", crash)
    with pytest.raises(RuntimeError, match="simulated crash"):
        ingest(net)
    pd.testing.assert_frame_equal(store.files(), before_files)
    pd.testing.assert_frame_equal(_hotline_months(store), before_months)
    monkeypatch.setattr(ingestion, "_after_file_hook", None)
    done = ingest(net)
    assert sorted(done.ingested) == ["hotline/2026-09.parquet", "hotline/2026-10.parquet"]
    assert _hotline_months(done.store)["n"].tolist() == [10, 10]


def test_a_locked_store_gives_a_clear_error(net, tmp_path):
    store_path = tmp_path / "locked.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import duckdb, sys, time
        con = duckdb.connect({str(store_path)!r})
        print("locked", flush=True)
        time.sleep(60)
        """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(StoreLockedError, match="locked by another process") as exc:
            ingest(net, store=Store(store_path, wait=0.5))
        assert str(store_path) in str(exc.value) and "--store" in str(exc.value)
    finally:
        holder.kill()
        holder.wait()
    assert ingest(net, store=Store(store_path, wait=5)).ingested  # free again


def test_default_store_location(net, tmp_path, monkeypatch):
    assert default_store_path(net) == net / ".sqc" / "store.duckdb"
    monkeypatch.setenv("SQC_STORE", str(tmp_path / "elsewhere.duckdb"))
    assert default_store_path(net) == tmp_path / "elsewhere.duckdb"
    monkeypatch.delenv("SQC_STORE")
    monkeypatch.setattr("sqc.store.store.os.access", lambda *a, **k: False)  # a read-only data folder
    path = default_store_path(net)
    assert path.parent == tmp_path / "cache" / "sqc" / "stores" and path.name.startswith("d-")


def test_a_store_of_another_folder_is_not_mixed_up(net, tmp_path):
    other = small_network(tmp_path / "other", months=("2026-10",))
    store = ingest(net).store
    with pytest.raises(DataError, match="holds the data folder"):
        ingest(other, store=store.path)


def test_rows_excluded_earlier_raise_again_without_exclude(net):
    edit_parquet(net / "hotline" / "2026-10.parquet", lambda f: f.assign(csat=f["csat"].where(f.index != 4, 9)))
    data = load_network(net, on_error="exclude")
    assert data.load_summary().set_index("table").loc["hotline", "excluded"] == 1
    with pytest.raises(DataError, match="csat"):
        load_network(net)


def test_import_sqc_and_the_statistics_do_not_import_the_store_or_duckdb():
    stats = "spc, servqual, reliability, audit, qfd, complaints, nps, agreement, scorecard, inference, kpi"
    code = (f"import sys, sqc, sqc.io, sqc.schema, sqc.tables; from sqc import {stats}; "
            "print('duckdb' in sys.modules, 'sqc.store' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


def test_ibis_and_sql_access(net):
    data = load_network(net)
    t = data.store.table("hotline")
    n_ibis = t.filter(t.branch == "B01").count().execute()
    n_sql = data.store.query("SELECT count(*) AS n FROM hotline WHERE branch = 'B01'")["n"].iat[0]
    data.store.close()
    assert n_ibis == n_sql == int((data.hotline["branch"] == "B01").sum())


def test_an_open_ibis_connection_is_named_when_the_store_must_change(net):
    data = load_network(net)
    data.store.table("hotline")  # holds a read-only connection in this process
    (net / "hotline" / "2026-08.parquet").unlink()
    with pytest.raises(DataError, match=r"still open read-only in this process.*data\.store\.close\(\)"):
        load_network(net)
    data.store.close()
    assert load_network(net).periods == ["2026-09", "2026-10"]


def test_a_hotline_month_exported_as_csv_is_typed_by_the_same_rules(net):
    path = net / "hotline" / "2026-10.parquet"
    month = pd.read_parquet(path)
    month.to_csv(path.with_suffix(".csv"), index=False)
    path.unlink()
    data = load_network(net)
    got = data.hotline.loc[data.hotline["ts"] >= "2026-10-01"].reset_index(drop=True)
    direct, _ = read_table(path.with_suffix(".csv"), SCHEMAS["hotline"])
    as_ns = {"ts": "datetime64[ns]"}
    pd.testing.assert_frame_equal(got.astype(as_ns), direct.astype(as_ns), check_dtype=False)
    assert data.periods[-1] == "2026-10"


def test_a_store_built_with_other_schemas_is_rebuilt(net, monkeypatch):
    first = ingest(net)
    monkeypatch.setattr(ingestion, "schema_version", lambda: "another-version")
    again = ingest(net)
    assert sorted(again.ingested) == sorted(first.ingested)
    assert again.store.meta()["schema_version"] == "another-version"
    assert load_network(net).periods == list(MONTHS)


def test_two_ingests_at_once_load_each_file_once(net):
    import threading

    outcomes = []

    def run():
        try:
            outcomes.append(ingest(net))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            outcomes.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(not isinstance(o, Exception) for o in outcomes), outcomes
    assert sorted(len(o.ingested) for o in outcomes) == [0, 11 + len(MONTHS)]
    files = outcomes[0].store.files()
    assert files["path"].is_unique and len(files) == 11 + len(MONTHS)


def test_optional_tables_may_be_absent(net):
    """A network without an intervention register or a blueprint loads; the tables are simply empty."""
    (net / "interventions.csv").unlink()
    (net / "blueprint_steps.csv").unlink()
    data = load_network(net)
    assert data.interventions.empty and data.blueprint_steps.empty
    (net / "complaints.parquet").unlink()
    with pytest.raises(DataError, match="complaints"):
        load_network(net)


def test_sqc_ingest_draws_a_file_bar_on_a_terminal(net, monkeypatch, capsys):
    """On a terminal `sqc ingest` shows a tqdm bar whose total is the number of files that changed; each file's
    line still goes to stdout. Not on a terminal (a log, a pipe): the plain lines and no bar."""
    import io
    import sys

    from sqc import cli

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    bars = []
    real = cli._FileBar.__init__

    def keep(self, tqdm):
        real(self, tqdm)
        bars.append(self.bar)

    monkeypatch.setattr(cli._FileBar, "__init__", keep)
    assert cli.main(["ingest", "--data", str(net)]) == 0
    out = capsys.readouterr().out
    assert out.count("ingested ") == 11 + len(MONTHS)
    (bar,) = bars
    assert bar.total == bar.n == 11 + len(MONTHS)
    assert "ingest" in terminal.getvalue() and "file" in terminal.getvalue()
    edit_parquet(net / "hotline" / "2026-09.parquet", lambda f: f.iloc[:1000])
    monkeypatch.setattr(sys, "stderr", io.StringIO())      # not a terminal
    assert cli.main(["ingest", "--data", str(net)]) == 0
    assert len(bars) == 1 and capsys.readouterr().out.count("ingested ") == 1


def test_a_copied_data_folder_keeps_using_the_store_inside_it(net, tmp_path):
    """The default store lives in the data folder (DIR/.sqc/): copying or moving the folder takes it along."""
    import shutil

    first = ingest(net)
    assert first.store.path.is_relative_to(net)
    copy = tmp_path / "copy"
    shutil.copytree(net, copy)
    again = ingest(copy)
    assert again.store.path.is_relative_to(copy) and not again.ingested and len(again.skipped) == len(first.ingested)
