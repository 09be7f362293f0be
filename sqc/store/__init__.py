"""The embedded analytical store: exports -> **store** -> aggregates -> statistics -> sections -> dashboards.

``sqc ingest`` (:func:`ingest`) loads a data folder into one DuckDB database file, validating every file against
its schema (:mod:`sqc.tables`) and running set-based checks over whole tables (:mod:`sqc.store.checks`). The
store is incremental: a file whose SHA-256 is unchanged is skipped, a changed file replaces its rows, a removed
file's rows go, all in one transaction. :class:`Store` gives read access (pandas frames, a DuckDB connection, an
Ibis backend) and the metadata (ingested files, months covered) that answers ``periods`` without a scan.

DuckDB is imported lazily inside these modules, so ``import sqc`` and the statistics never load it.
"""
from __future__ import annotations

from .store import ENV_STORE, Store, StoreLockedError, default_store_path

__all__ = ["ENV_STORE", "Store", "StoreLockedError", "default_store_path", "ingest", "IngestResult"]


def __getattr__(name: str):
    if name in ("ingest", "IngestResult"):
        from . import ingestion as _ingestion

        return getattr(_ingestion, name)
    raise AttributeError(f"module 'sqc.store' has no attribute {name!r}")
