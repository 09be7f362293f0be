"""Connections to the engines that run :mod:`sqc.engine.aggregates`, and table mappings over exports.

* ``duckdb`` (default): embedded, in-process; reads the store file or Parquet/CSV exports directly.
* ``spark``: a Spark cluster (``master="spark://host:7077"``, ``"yarn"``, ``"k8s://..."``), a Spark Connect server
  (``master="sc://host:15002"``), or, with no master, Spark in local mode (``local[2]``, 1 GB driver, UI off,
  quiet logs) - the way the test suite runs it. The cluster reads the exports from a path it can see (a Parquet
  folder on HDFS/S3/a shared disk) or from catalog (Hive) tables.

The engine and master can also come from the environment (``SQC_ENGINE``, ``SQC_SPARK_MASTER``), which is how
``sqc report --engine spark`` reaches the report notebook's kernel.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..errors import DataError, ParameterError

ENGINES = ("duckdb", "spark")
ENV_ENGINE = "SQC_ENGINE"
ENV_SPARK_MASTER = "SQC_SPARK_MASTER"
LOCAL_MASTER = "local[2]"
_LOG4J = Path(__file__).with_name("log4j2.properties")


def engine_options(engine: str | None = None, master: str | None = None) -> tuple[str, str | None]:
    """(engine, master) from the arguments, else the environment, else ("duckdb", None); validated."""
    engine = (engine or os.environ.get(ENV_ENGINE) or "duckdb").strip().lower()
    if engine not in ENGINES:
        raise ParameterError(f"engine must be one of {ENGINES}, got {engine!r}")
    if engine != "spark":
        if master:
            raise ParameterError("--spark-master is only used with --engine spark")
        return engine, None
    return engine, master or os.environ.get(ENV_SPARK_MASTER) or None


def java_available() -> bool:
    """Whether a Java runtime is on PATH or under $JAVA_HOME (Spark's local mode and its driver need one)."""
    home = os.environ.get("JAVA_HOME")
    return bool(shutil.which("java") or (home and (Path(home) / "bin" / "java").exists()))


def spark_session(master: str | None = None, *, app_name: str = "sqc", driver_memory: str = "1g",
                  conf: dict | None = None):
    """A SparkSession: Spark Connect for ``sc://`` URLs, a cluster for other masters, local mode without one."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ParameterError("the spark engine needs pyspark: pip install 'sqc[spark]' (it also needs Java 17, "
                             "Debian package openjdk-17-jre-headless, unless it connects to a Spark Connect server)"
                             ) from None
    master = master or LOCAL_MASTER
    if master.startswith("sc://"):
        builder = SparkSession.builder.remote(master)
    else:
        if not java_available():
            raise ParameterError("the spark engine needs a Java runtime (17 or newer) for its driver: install the "
                                 "Debian package openjdk-17-jre-headless or set JAVA_HOME")
        builder = (SparkSession.builder.master(master)
                   .config("spark.ui.enabled", "false")
                   .config("spark.ui.showConsoleProgress", "false")
                   .config("spark.driver.memory", driver_memory)
                   .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{_LOG4J}"))
        if master.startswith("local"):
            # a handful of partitions: the aggregates have thousands of rows, not the default 200 shuffles' worth
            builder = builder.config("spark.sql.shuffle.partitions", "4")
    builder = builder.appName(app_name).config("spark.sql.session.timeZone", "UTC")
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    if not master.startswith("sc://"):
        session.sparkContext.setLogLevel("ERROR")
    return session


def connect(engine: str | None = None, master: str | None = None, *, database: str | os.PathLike | None = None,
            app_name: str = "sqc", driver_memory: str = "1g", conf: dict | None = None):
    """An Ibis backend for ``engine`` (``"duckdb"`` or ``"spark"``; default from ``$SQC_ENGINE``, else DuckDB).

    Parameters
    ----------
    engine : {"duckdb", "spark"}, optional
    master : str, optional
        Spark master URL (``spark://host:7077``, ``yarn``, ``local[4]``) or Spark Connect URL (``sc://host:15002``);
        default ``$SQC_SPARK_MASTER``, else local mode ``local[2]``.
    database : path, optional
        DuckDB database file (default in memory).
    app_name, driver_memory, conf
        Spark application name, driver memory (local mode and client deploy) and extra Spark settings.

    Examples
    --------
    >>> con = connect("duckdb")                                      # doctest: +SKIP
    >>> con = connect("spark", "sc://spark.example.internal:15002")  # doctest: +SKIP
    """
    import ibis

    engine, master = engine_options(engine, master)
    if engine == "duckdb":
        return ibis.duckdb.connect(":memory:" if database is None else str(database))
    session = spark_session(master, app_name=app_name, driver_memory=driver_memory, conf=conf)
    return ibis.pyspark.connect(session)


class Tables:
    """A table source (``table(name)`` → Ibis table, :class:`sqc.kpi.TableSource`) over tables an engine reads.

    ``data.aggregation_source = Tables(...)`` makes :func:`sqc.kpi.network_kpis` and the scorecard aggregate in
    that engine.
    """

    def __init__(self, backend, tables: dict):
        self.backend = backend
        self.tables = dict(tables)

    def table(self, name: str):
        try:
            return self.tables[name]
        except KeyError:
            raise DataError(f"no table {name!r} in this source", expected=f"one of {sorted(self.tables)}") from None

    def __repr__(self) -> str:
        return f"Tables({type(self.backend).__module__.split('.')[-1]}: {sorted(self.tables)})"


def _is_url(path) -> bool:
    return "://" in str(path)


def tables_from_folder(backend, folder: str | os.PathLike, names=None) -> Tables:
    """Ibis tables over an export folder laid out as :data:`sqc.tables.TABLE_FILES` says (the hotline a folder of
    monthly Parquet or CSV files). ``folder`` may be a local path or a URL the engine can read (``hdfs://``,
    ``s3a://``, ``abfss://``...); a URL is not listed locally, so its hotline folder must hold Parquet.

    Examples
    --------
    >>> src = tables_from_folder(connect("spark", "spark://head:7077"), "hdfs:///exports/network")  # doctest: +SKIP
    >>> src.table("hotline").count().execute()                                                     # doctest: +SKIP
    """
    from ..tables import TABLE_FILES

    names = list(TABLE_FILES) if names is None else list(names)
    unknown = [n for n in names if n not in TABLE_FILES]
    if unknown:
        raise ParameterError(f"unknown table(s) {unknown}; known tables: {sorted(TABLE_FILES)}")
    spark = type(backend).__module__.startswith("ibis.backends.pyspark")
    base = str(folder).rstrip("/")
    if not _is_url(folder) and not Path(folder).is_dir():
        raise DataError("export folder not found", file=str(folder), expected="a folder with the network's tables")
    out = {}
    for name in names:
        rel = TABLE_FILES[name]
        path = f"{base}/{rel}"
        if "." in rel:  # one file
            if not _is_url(folder) and not Path(path).exists():
                continue
            kind = "parquet" if rel.endswith(".parquet") else "csv"
        else:  # a folder of monthly files
            if _is_url(folder):
                kind = "parquet"
            else:
                files = sorted(p for p in Path(path).iterdir() if not p.name.startswith(".")) if Path(
                    path).is_dir() else []
                suffixes = {p.suffix.lower() for p in files}
                if not suffixes:
                    continue
                if len(suffixes) > 1 or suffixes - {".parquet", ".csv"}:
                    raise DataError(f"the {name} folder mixes or holds unsupported file types {sorted(suffixes)}",
                                    file=path, expected="only .parquet or only .csv files")
                kind = suffixes.pop().lstrip(".")
            if not spark:
                path = f"{path}/*.{kind}"
        if kind == "parquet":
            out[name] = backend.read_parquet(path, table_name=f"sqc_{name}")
        elif spark:
            out[name] = backend.read_csv(path, table_name=f"sqc_{name}", header=True, inferSchema=True)
        else:
            out[name] = backend.read_csv(path, table_name=f"sqc_{name}")
    return Tables(backend, out)


def tables_from_catalog(backend, mapping: dict[str, str]) -> Tables:
    """Tables from the engine's catalog (a Hive metastore for Spark), e.g. ``{"hotline": "ops.hotline_contacts",
    "complaints": "ops.complaints"}``: ``database.table`` or a bare table name."""
    out = {}
    for name, qualified in mapping.items():
        db, _, tname = str(qualified).rpartition(".")
        out[name] = backend.table(tname, database=db or None)
    return Tables(backend, out)


def source_for(data_dir: str | os.PathLike, engine: str | None = None, master: str | None = None, *,
               names=("hotline", "complaints")) -> Tables:
    """The raw tables of an export folder, read by the chosen engine (default from the environment): what
    ``load_network`` attaches as ``data.store`` for ``--engine spark`` (the DuckDB default uses the store)."""
    return tables_from_folder(connect(engine, master), data_dir, names)


def attach_engine(data, engine: str | None = None, master: str | None = None):
    """Point a loaded network's aggregations at an engine (default from ``$SQC_ENGINE``/``$SQC_SPARK_MASTER``).

    ``spark``: ``data.aggregation_source`` becomes the export folder's hotline and complaints read by Spark
    (``data.data_dir`` must be a path the cluster can see), so :func:`sqc.kpi.network_kpis` and the scorecard
    aggregate there; ``data.store`` keeps answering the metadata (periods, load summary, fingerprints).
    ``duckdb``: ``data`` is returned unchanged (the embedded store, when present, is already DuckDB).
    """
    engine, master = engine_options(engine, master)
    if engine == "spark":
        data.aggregation_source = source_for(data.data_dir, "spark", master)
    return data
