"""sqc.engine (DuckDB) against the independent pandas/numpy path of sqc.kpi on the bundled demo data.

The reference is sqc.kpi's own numpy computation on the validated pandas frames (``_hotline_sums``,
``_quantile_table``, ``_complaint_counts``: np.bincount / pandas groupby, pandas' linear-interpolation quantiles);
the engine computes the same aggregates in DuckDB from the Parquet exports. Agreement is required to 1e-9 relative
(observed: ≤ 2e-16). Hand-counted values come from tests/test_kpi.py's toy table.
"""
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

ibis = pytest.importorskip("ibis")
pytest.importorskip("duckdb")

from sqc import kpi  # noqa: E402
from sqc.engine import (HotlineAggregates, Tables, audit_visit_scores, complaint_counts, connect,  # noqa: E402
                        engine_options, survey_item_sums, tables_from_folder)
from sqc.errors import DataError, ParameterError  # noqa: E402
from sqc.scorecard import kpi_scorecard  # noqa: E402

RTOL = 1e-9


class StoreBacked:
    """A network whose raw hotline rows must not be touched: only ``store`` and the small tables are offered."""

    def __init__(self, data, store):
        self._data, self.store = data, store

    def __getattr__(self, name):
        if name == "hotline":
            raise AssertionError("the store-backed path materialised the raw hotline rows")
        return getattr(self._data, name)


@pytest.fixture(scope="module")
def duck(demo_dir):
    return tables_from_folder(connect("duckdb"), demo_dir)


@pytest.fixture()
def store_backed(demo_data, demo_dir):
    # a fresh source per test, so the query counts below start from zero
    return StoreBacked(demo_data, tables_from_folder(connect("duckdb"), demo_dir, ["hotline", "complaints"]))


def _frame_equal(a, b):
    pd.testing.assert_frame_equal(a, b, rtol=RTOL, atol=0)


@pytest.mark.parametrize("freq", ["month", "day"])
@pytest.mark.parametrize("conv", [dict(sl_threshold=20.0, short_abandon_s=5.0, top_box_min=4),
                                  dict(sl_threshold=30.0, short_abandon_s=3.0, top_box_min=5)])
def test_sums_equal_the_numpy_reference(demo_data, duck, freq, conv):
    ref = kpi._hotline_sums(demo_data.hotline, freq, conv["sl_threshold"], conv["short_abandon_s"],
                            conv["top_box_min"])
    ref.index = pd.MultiIndex.from_arrays([ref.index.get_level_values(0).to_numpy(dtype=object),
                                           kpi._format_period(ref.index.get_level_values(1).to_numpy(), freq)
                                           .astype(object)], names=["branch", "period"])
    got = HotlineAggregates(duck.table("hotline")).sums(freq, **conv)
    assert list(got.columns) == list(kpi.SUM_COLUMNS)
    assert got["offered"].sum() == len(demo_data.hotline)
    _frame_equal(got, ref)


def test_quantiles_equal_pandas(demo_data, duck):
    ref = kpi._quantile_table(demo_data.hotline, "month").sort_values(["kpi", "branch", "period"],
                                                                     kind="stable").reset_index(drop=True)
    got = HotlineAggregates(duck.table("hotline")).quantiles("month")
    _frame_equal(got.astype({"branch": object, "period": object, "kpi": object}),
                 ref.astype({"branch": object, "period": object, "kpi": object, "n": np.int64}))


@pytest.mark.parametrize("kw", [
    dict(),
    dict(end="2026-10", quantiles=True),
    dict(freq="day", start="2026-09", end="2026-10-15", branches=["B01", "B03"], quantiles=True),
    dict(start="2025-11", end="2026-10", sl_variant="exclude_short_abandons", exclude_short_abandons=True,
         sl_threshold=15, rate_per=10000),
    dict(start="2026-10-03 12:00", end="2026-10-20", quantiles=True, total=False),  # bounds inside a day/month
])
def test_network_kpis_store_backed_equal_frames(demo_data, store_backed, kw):
    a = kpi.network_kpis(demo_data, **dict(kw))
    b = kpi.network_kpis(store_backed, **dict(kw))
    _frame_equal(a, b)
    assert a.attrs == b.attrs


def test_one_sums_query_per_run_and_periods(demo_data, store_backed):
    from sqc.engine import aggregates_for

    kpi.network_kpis(store_backed, end="2026-10")
    kpi.network_kpis(store_backed, start="2024-11", end="2026-10", branches=["B02"])
    kpi.network_kpis(store_backed, freq="day", start="2026-10", end="2026-10")
    agg = aggregates_for(store_backed.store)
    # the daily hotline sums and the daily complaint counts, shared by every range, branch subset and frequency
    assert agg.queries == 2
    assert agg.periods() == demo_data.periods
    assert agg.queries == 2            # periods from the cached sums, no scan
    from sqc.engine import forget

    forget(store_backed.store)         # e.g. after an ingest: the next request queries afresh
    assert aggregates_for(store_backed.store) is not agg


@pytest.mark.parametrize("quantile_history", [True, False])
def test_scorecard_identical_from_the_store(demo_data, store_backed, quantile_history):
    a = kpi_scorecard(demo_data, period="2026-10", quantile_history=quantile_history)
    b = kpi_scorecard(store_backed, period="2026-10", quantile_history=quantile_history)
    for part in ("table", "composite", "history"):
        _frame_equal(getattr(a, part), getattr(b, part))
    assert [w.code for w in a.warnings] == [w.code for w in b.warnings]
    sub = kpi_scorecard(store_backed, period="2026-10", branches=["B01", "B05"])
    ref = kpi_scorecard(demo_data, period="2026-10", branches=["B01", "B05"])
    _frame_equal(sub.table, ref.table)


@pytest.mark.parametrize("freq,category", [("month", None), ("day", None), ("month", "billing")])
def test_complaint_counts_and_rates(demo_data, duck, freq, category):
    ref = kpi._complaint_counts(demo_data.complaints, freq, "2025-01", "2026-10", category)
    got = complaint_counts(duck.table("complaints"), freq, start="2025-01", end="2026-10", category=category)
    assert got.to_dict() == ref.to_dict()
    a = kpi.complaint_rates(demo_data.complaints, demo_data.volumes, freq=freq, category=category, total=True)
    b = kpi.complaint_rates(duck.table("complaints"), demo_data.volumes, freq=freq, category=category, total=True)
    _frame_equal(a, b)


def _toy_table(df):
    con = ibis.duckdb.connect()
    # (ibis 12 with duckdb 2.0 fails on create_table(name, DataFrame); a memtable goes through)
    return con.create_table("hotline", ibis.memtable(df))


def test_hand_counted_toy_table_through_duckdb():
    from test_kpi import toy_hotline

    k = kpi.hotline_kpis(_toy_table(toy_hotline()), quantiles=True)
    row = k.set_index(["branch", "period", "kpi"])
    # B01 2026-03 (tests/test_kpi.py): offered 6, answered within 20 s 2; answered waits 10, 25, 20
    assert tuple(row.loc[("B01", "2026-03", "service_level"), ["numerator", "denominator"]]) == (2, 6)
    assert row.loc[("B01", "2026-03", "asa_s"), "value"] == pytest.approx(55 / 3)
    assert row.loc[("B01", "2026-03", "asa_median_s"), "value"] == 20.0
    assert row.loc[("B01", "2026-03", "aht_median_s"), "value"] == 200.0
    assert row.loc[("B01", "2026-04", "fcr_rate"), "denominator"] == 1
    _frame_equal(k, kpi.hotline_kpis(toy_hotline(), quantiles=True))


@pytest.mark.parametrize("column,value,expected", [
    ("wait_s", -1.0, "≥ 0"), ("wait_s", np.nan, "≥ 0"), ("csat", 7, "1-5"), ("handle_s", -5.0, "≥ 0")])
def test_bad_values_are_refused_with_the_column_and_row(column, value, expected):
    from test_kpi import toy_hotline

    df = toy_hotline()
    df[column] = df[column].astype(float)
    df.loc[3, column] = value
    with pytest.raises(DataError) as err:
        kpi.hotline_kpis(_toy_table(df))
    assert err.value.column == column and expected in str(err.value)
    assert "contact_id 3" in str(err.value)


def test_missing_answered_flag_and_wrong_types():
    from test_kpi import toy_hotline

    df = toy_hotline()
    df["answered"] = df["answered"].astype("boolean")
    df.loc[2, "answered"] = pd.NA
    with pytest.raises(DataError, match="answered"):
        kpi.hotline_kpis(_toy_table(df))
    df = toy_hotline().astype({"wait_s": str})
    with pytest.raises(DataError, match="wait_s"):
        kpi.hotline_kpis(_toy_table(df))
    with pytest.raises(DataError, match="lacks column"):
        kpi.hotline_kpis(_toy_table(toy_hotline().drop(columns="csat")))


def test_survey_and_audit_rollups(demo_data, duck):
    items = [f"E{i}" for i in range(1, 23)] + [f"P{i}" for i in range(1, 23)]
    got = survey_item_sums(duck.table("survey"), items)
    s = demo_data.survey
    g = s.groupby([s["branch"], s["wave"].astype(str)], sort=True)
    assert got["respondents"].tolist() == g.size().tolist()
    np.testing.assert_allclose(got["P5_sum"], g["P5"].sum().to_numpy(dtype=float), rtol=RTOL)
    np.testing.assert_allclose(got["E22_n"], g["E22"].count().to_numpy(dtype=float), rtol=RTOL)
    np.testing.assert_allclose(got["P1_sumsq"], g["P1"].apply(lambda x: float((x.astype(float) ** 2).sum())),
                               rtol=RTOL)
    visits = audit_visit_scores(duck.table("audit_visits"), demo_data.checklist)
    av = demo_data.audit_visits.merge(demo_data.checklist[["item_id", "max_score"]], on="item_id")
    av = av.loc[av["score"].notna()]
    ref = av.groupby("visit_id").agg(score=("score", "sum"), max_score=("max_score", "sum"), items=("score", "size"))
    got = visits.set_index("visit_id").loc[ref.index]
    np.testing.assert_allclose(got["score"], ref["score"], rtol=RTOL)
    np.testing.assert_allclose(got["max_score"], ref["max_score"].astype(float), rtol=RTOL)
    assert (got["items"].to_numpy() == ref["items"].to_numpy()).all()


def test_options_and_sources(tmp_path, monkeypatch):
    for var in ("SQC_ENGINE", "SQC_SPARK_MASTER"):  # setenv first so that teardown restores the original state
        monkeypatch.setenv(var, "")
        monkeypatch.delenv(var)
    assert engine_options() == ("duckdb", None)
    monkeypatch.setenv("SQC_ENGINE", "spark")
    monkeypatch.setenv("SQC_SPARK_MASTER", "sc://head:15002")
    assert engine_options() == ("spark", "sc://head:15002")
    with pytest.raises(ParameterError, match="engine must be one of"):
        engine_options("polars")
    with pytest.raises(ParameterError, match="only used with"):
        engine_options("duckdb", "spark://x:7077")
    with pytest.raises(DataError, match="export folder not found"):
        tables_from_folder(connect("duckdb"), tmp_path / "nope")
    with pytest.raises(DataError, match="no table 'survey'"):
        Tables(None, {}).table("survey")
    with pytest.raises(ParameterError, match="Ibis table or a pandas DataFrame"):
        kpi.hotline_kpis([("2026-10-01", "B01")])


def test_import_sqc_does_not_load_the_engines():
    code = ("import sys, sqc, sqc.kpi, sqc.scorecard, sqc.io, sqc.spc\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in {'ibis', 'duckdb', 'pyspark', 'sqc'} "
            "and not m.startswith('sqc') or m.startswith('sqc.engine')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_cli_engine_options_reach_the_environment(monkeypatch):
    from sqc import cli

    for var in ("SQC_ENGINE", "SQC_SPARK_MASTER"):  # setenv first so that teardown restores the original state
        monkeypatch.setenv(var, "")
        monkeypatch.delenv(var)
    args = cli.build_parser().parse_args(["report", "--period", "2026-10", "--engine", "spark",
                                          "--spark-master", "sc://spark.example:15002"])
    cli._select_engine(args.engine, args.spark_master)
    assert engine_options() == ("spark", "sc://spark.example:15002")
    # a master without --engine spark is refused before anything runs (exit status 2, no traceback)
    assert cli.main(["report", "--period", "2026-10", "--spark-master", "spark://head:7077"]) == 2
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["report", "--engine", "polars"])


def test_quantiles_month_by_month_equal_one_query(demo_dir):
    """DuckDB computes exact quantiles one month at a time (bounded memory) and caches each month; the result
    equals the single query over all months, for whole periods and for windows cut inside a month."""
    table = tables_from_folder(connect("duckdb"), demo_dir, ["hotline"]).table("hotline")
    chunked, single = HotlineAggregates(table), HotlineAggregates(table, month_by_month=False)
    assert chunked.month_by_month and not single.month_by_month
    for kw in (dict(freq="month"), dict(freq="day", start="2026-09-20", end="2026-10"),
               dict(freq="month", start="2026-08-15 06:00", end="2026-10-10", network=True, branches=["B02"])):
        _frame_equal(chunked.quantiles(**kw), single.quantiles(**kw))
    n = chunked.queries
    chunked.quantiles("month", start="2026-10", end="2026-10")  # cached month: no new query
    assert chunked.queries == n
    assert chunked.periods() == single.periods() and chunked.periods()[0] == "2024-11"


def test_quantile_months_batched_by_answered_contacts(demo_dir, monkeypatch):
    """With the sums cached (they say how many answered contacts each month has), small consecutive months share
    one quantile query, never more than QUANTILE_BATCH_ROWS contacts and never a month split; the values are
    those of one query per month, bit for bit."""
    from sqc.engine import aggregates

    table = tables_from_folder(connect("duckdb"), demo_dir, ["hotline"]).table("hotline")
    batched, per_month = HotlineAggregates(table), HotlineAggregates(table)
    batched.daily_sums()
    months = batched.periods()
    answered = batched._answered_per_month()
    assert batched.queries == 1 and len(months) == 24 and sum(answered.values()) < aggregates.QUANTILE_BATCH_ROWS
    for kw in (dict(freq="month"), dict(freq="day", start="2026-09", end="2026-10"),
               dict(freq="month", network=True, branches=["B02", "B05"])):
        before = batched.queries
        got = batched.quantiles(**kw)
        assert batched.queries == before + 1  # every month of the window in one query
        monkeypatch.setattr(aggregates, "QUANTILE_BATCH_ROWS", 0)
        ref = per_month.quantiles(**kw)
        monkeypatch.undo()
        pd.testing.assert_frame_equal(got, ref, check_exact=True)
    assert per_month.queries == 1 + 24 + 2 + 24  # its months (no sums cached: one scan), then one per month
    # a batch holds at most the limit: here two or three neighbouring months (a month is never split)
    limit = int(2.5 * max(answered.values()))
    monkeypatch.setattr(aggregates, "QUANTILE_BATCH_ROWS", limit)
    batches = batched._month_batches(months)
    assert [m for b in batches for m in b] == months
    assert all(sum(answered[m] for m in b) <= limit for b in batches) and 8 <= len(batches) <= 12
