"""The same Ibis aggregates on Spark (local mode) equal DuckDB's and the independent pandas/numpy computation to
1e-9 relative on the bundled demo data.

One local Spark session serves the whole test session (JVM start-up costs ~10 s); the tests are few on purpose.
They are skipped only when no Java runtime or pyspark is installed and ``SQC_REQUIRE_SPARK`` is unset
(``python3 tasks.py test`` installs Java; CI sets SQC_REQUIRE_SPARK=1 so a missing Spark fails loudly).
"""
import importlib.util
import os

import pandas as pd
import pytest

from sqc import kpi

pytestmark = [pytest.mark.slow, pytest.mark.spark]
RTOL = 1e-9


@pytest.fixture(scope="session")
def spark_backend():
    from sqc.engine import java_available

    missing = [what for what, ok in (("a Java runtime", java_available()),
                                     ("pyspark", importlib.util.find_spec("pyspark") is not None)) if not ok]
    if missing:
        reason = (f"Spark local mode needs {' and '.join(missing)} (`python3 tasks.py test` installs "
                  f"openjdk-17-jre-headless and the [spark] extra)")
        if os.environ.get("SQC_REQUIRE_SPARK"):
            pytest.fail(f"SQC_REQUIRE_SPARK is set but {reason}")
        pytest.skip(reason)
    from sqc.engine import connect

    backend = connect("spark")  # local[2], UI off, quiet logs
    yield backend
    backend.disconnect()


@pytest.fixture(scope="module")
def engines(spark_backend, demo_dir):
    from sqc.engine import aggregates_for, connect, tables_from_folder

    # aggregates_for: the store-backed kpi path below reuses these cached queries (each Spark query costs seconds)
    spark = tables_from_folder(spark_backend, demo_dir, ["hotline", "complaints"])
    duck = tables_from_folder(connect("duckdb"), demo_dir, ["hotline", "complaints"])
    return {"spark": (spark, aggregates_for(spark)), "duckdb": (duck, aggregates_for(duck))}


def test_daily_sums_spark_duckdb_pandas(demo_data, engines):
    spark = engines["spark"][1].sums("day")
    duck = engines["duckdb"][1].sums("day")
    ref = kpi._hotline_sums(demo_data.hotline, "day", 20.0, 5.0, 4)
    ref.index = pd.MultiIndex.from_arrays([ref.index.get_level_values(0).to_numpy(dtype=object),
                                           kpi._format_period(ref.index.get_level_values(1).to_numpy(), "day")
                                           .astype(object)], names=["branch", "period"])
    assert len(spark) == len(ref) > 8000
    pd.testing.assert_frame_equal(spark, ref, rtol=RTOL, atol=0)
    pd.testing.assert_frame_equal(duck, ref, rtol=RTOL, atol=0)
    # months are rolled up from the same daily sums: equal to the monthly numpy pass
    ref_m = kpi._hotline_sums(demo_data.hotline, "month", 20.0, 5.0, 4)
    pd.testing.assert_frame_equal(engines["spark"][1].sums("month").reset_index(drop=True),
                                  ref_m.reset_index(drop=True), rtol=RTOL, atol=0)


def test_exact_quantiles_spark_duckdb_pandas(demo_data, engines):
    # Spark `percentile` (exact), never `approx_percentile`: equal to pandas' linear interpolation
    spark = engines["spark"][1].quantiles("month")
    duck = engines["duckdb"][1].quantiles("month")
    ref = kpi._quantile_table(demo_data.hotline, "month").sort_values(["kpi", "branch", "period"], kind="stable")
    ref = ref.reset_index(drop=True).astype({"branch": object, "period": object, "kpi": object, "n": "int64"})
    obj = {"branch": object, "period": object, "kpi": object}
    pd.testing.assert_frame_equal(spark.astype(obj), ref, rtol=RTOL, atol=0)
    pd.testing.assert_frame_equal(duck.astype(obj), ref, rtol=RTOL, atol=0)


def test_network_kpis_on_spark_equal_frames(demo_data, engines):
    from test_engine import StoreBacked

    on_spark = StoreBacked(demo_data, engines["spark"][0])
    a = kpi.network_kpis(demo_data, end="2026-10", quantiles=True)
    b = kpi.network_kpis(on_spark, end="2026-10", quantiles=True)
    pd.testing.assert_frame_equal(a, b, rtol=RTOL, atol=0)
    # the daily hotline sums, the monthly quantiles and the daily complaint counts, each once
    assert engines["spark"][1].queries == 3
    # the scorecard's headline numbers (summary.json) on Spark equal the pandas ones
    from sqc.scorecard import kpi_scorecard

    sa, sb = kpi_scorecard(demo_data, period="2026-10"), kpi_scorecard(on_spark, period="2026-10")
    pd.testing.assert_frame_equal(sa.table, sb.table, rtol=RTOL, atol=0)
    pd.testing.assert_frame_equal(sa.composite, sb.composite, rtol=RTOL, atol=0)


def test_attach_engine_points_a_network_at_spark(demo_data, spark_backend, monkeypatch):
    import copy

    from sqc.engine import Tables, attach_engine

    monkeypatch.setenv("SQC_ENGINE", "spark")
    data = attach_engine(copy.copy(demo_data))
    src = data.aggregation_source
    assert isinstance(src, Tables) and sorted(src.tables) == ["complaints", "hotline"]
    assert src.backend._session is spark_backend._session  # the one local session, reused
    assert data.store is demo_data.store                    # the store still answers periods and the load summary


def _numbers_equal(a, b, path="summary"):
    """Every number of two summary.json trees equal to RTOL; every other value equal."""
    if isinstance(a, dict):
        assert set(a) == set(b), path
        for k in a:
            if k not in ("generated", "build_seconds"):  # when and how long, not what
                _numbers_equal(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _numbers_equal(x, y, f"{path}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert a == pytest.approx(b, rel=RTOL, abs=0), path
    else:
        assert a == b, path


def test_report_summary_on_spark_equals_duckdb(spark_backend, demo_dir, tmp_path, monkeypatch):
    """`sqc report --engine spark` (local mode) publishes the same headline numbers as the DuckDB run."""
    import json

    from sqc.io import load_network
    from sqc.report.dashboard import write_report

    monkeypatch.delenv("SQC_ENGINE", raising=False)
    duck = load_network(demo_dir)
    monkeypatch.setenv("SQC_ENGINE", "spark")
    spark = load_network(demo_dir)
    assert duck.aggregation_source is None and spark.aggregation_source is not None
    summaries = {}
    for name, data in (("duckdb", duck), ("spark", spark)):
        out = write_report(data, "2026-10", languages=["en"], output_dir=tmp_path / name)
        summaries[name] = json.loads(out["summary"].read_text(encoding="utf-8"))
    assert summaries["duckdb"]["sections"]["scorecard"]["headline"]
    _numbers_equal(summaries["spark"], summaries["duckdb"])
