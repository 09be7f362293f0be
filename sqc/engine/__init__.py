"""Where the raw rows are aggregated: the flow is exports → store → **aggregates** → statistics → sections.

The raw-row work of a run (hotline sums per branch × day, quantiles, complaint counts, survey and audit roll-ups,
periods) is written once as Ibis expressions (:mod:`sqc.engine.aggregates`) and runs in the engine that holds the
rows - DuckDB by default, Spark for networks past one machine (:mod:`sqc.engine.backends`). Only small aggregate
tables come back to pandas. The statistics modules never import this package; :mod:`sqc.kpi` uses it lazily when
a network is store-backed (``data.store``) or when given an Ibis table.

Importing ``sqc.engine`` imports Ibis (and DuckDB); pyspark is imported only when a Spark session is requested.

Examples
--------
>>> from sqc.engine import connect, tables_from_folder                     # doctest: +SKIP
>>> src = tables_from_folder(connect("duckdb"), "datasets")                # doctest: +SKIP
>>> from sqc.kpi import hotline_kpis
>>> hotline_kpis(src.table("hotline"), freq="day", quantiles=True)        # doctest: +SKIP
"""
from .aggregates import (HotlineAggregates, aggregates_for, audit_visit_scores, complaint_counts, forget,
                         hotline_periods, store_complaint_counts, survey_item_sums)
from .backends import (ENGINES, Tables, attach_engine, connect, engine_options, java_available, source_for,
                       spark_session, tables_from_catalog, tables_from_folder)

__all__ = ["HotlineAggregates", "aggregates_for", "forget", "complaint_counts", "store_complaint_counts",
           "hotline_periods", "survey_item_sums", "audit_visit_scores", "ENGINES", "attach_engine", "Tables", "connect",
           "engine_options", "java_available", "source_for", "spark_session", "tables_from_catalog",
           "tables_from_folder"]
