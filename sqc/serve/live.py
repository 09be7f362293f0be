"""Live dashboards (a branch subset, or a month not yet published), built off the server's event loop.

Each page is built by the report code in a worker process (its own data, figures and Panel objects: nothing
mutable is shared with the server or with other sessions) and saved as a standalone file in a private cache,
keyed by (period, branches, language) and by what the data folder holds. Sessions asking for the same page at
once share one build; later sessions get the cached file until the data folder changes (new or changed exports:
the worker ingests them before its next build), when every cached page and the list of months are dropped.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import multiprocessing
import os
import shutil
from collections import OrderedDict
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

_DATA = None
_DATA_DIR = None
_FOLDER_SIGNATURE = None  # the data folder's signature (LiveBuilder._data_signature) when _DATA was loaded
#: Computed report results kept by a worker, per (data fingerprint, period, branches, areas): the other language
#: of a live page only renders. Few entries: each holds a period's statistics (a few MB at most).
_COMPUTED_MAX = 4
_COMPUTED: OrderedDict = OrderedDict()


class _ComputeCache:
    """The mapping ``write_report(compute_cache=...)`` uses: the most recently used ``_COMPUTED_MAX`` entries."""

    def get(self, key, default=None):
        if key in _COMPUTED:
            _COMPUTED.move_to_end(key)
            return _COMPUTED[key]
        return default

    def __setitem__(self, key, value) -> None:
        _COMPUTED[key] = value
        while len(_COMPUTED) > _COMPUTED_MAX:
            _COMPUTED.popitem(last=False)


def _init_worker(data_dir) -> None:
    global _DATA_DIR
    os.environ.setdefault("MPLBACKEND", "Agg")
    _DATA_DIR = data_dir


def _data(folder_signature=None):
    """The worker's data, loaded again (and its computed results dropped) when the data folder changed since it
    was loaded (loading ingests the new or changed exports), or when the store's files did: another ``sqc
    ingest`` or ``sqc report`` brought new exports in. Checking the store costs one small query of its file
    table."""
    global _DATA, _FOLDER_SIGNATURE
    if folder_signature is not None and folder_signature != _FOLDER_SIGNATURE:
        _DATA, _FOLDER_SIGNATURE = None, folder_signature
        _COMPUTED.clear()
    if _DATA is not None and _store_changed(_DATA):
        _DATA = None
        _COMPUTED.clear()
    if _DATA is None:
        from ..io import load_network

        _DATA = load_network(_DATA_DIR)
    return _DATA


def _release(data) -> None:
    """Close the worker's connection to the store between builds: DuckDB lets no other process write a file that
    one holds open, and the monthly run's ingest must not wait for the server. The next build opens it again."""
    store = getattr(data, "store", None)
    if store is not None:
        from ..engine import forget

        forget(store)  # its cached aggregates are bound to the connection
        store.close()


def _store_changed(data) -> bool:
    store = getattr(data, "store", None)
    if store is None:
        return False
    files = store.files()
    now = {str(data.data_dir / path): fp for path, fp in zip(files["path"], files["fingerprint"])}
    return now != data.file_fingerprints


def _worker_periods(folder_signature=None) -> tuple[list[str], list[str]]:
    data = _data(folder_signature)
    try:
        return list(data.periods), [str(b) for b in data.branches["branch"]]
    finally:
        _release(data)


def _worker_build(period: str, branches: tuple[str, ...] | None, lang: str, out_dir: str, areas,
                  folder_signature=None) -> str:
    from ..report.dashboard import write_report

    tmp = Path(out_dir + ".building")
    shutil.rmtree(tmp, ignore_errors=True)
    data = _data(folder_signature)
    try:
        write_report(data, period, branches=list(branches) if branches else None, languages=[lang],
                     output_dir=tmp, areas=areas, compute_cache=_ComputeCache())
    finally:
        _release(data)
    os.replace(tmp, out_dir)  # a cache entry appears whole or not at all
    return str(Path(out_dir) / f"dashboard_{lang}.html")


class LiveBuilder:
    """Build and cache live pages. Use from the server's event loop (the bookkeeping is not thread-safe; the
    builds themselves run in ``workers`` processes)."""

    def __init__(self, data_dir, cache_dir: str | os.PathLike, *, workers: int = 1, max_entries: int = 64,
                 areas=None):
        self.cache_dir = Path(cache_dir)
        self.cache_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.areas = tuple(areas) if areas else None
        self.max_entries = max_entries
        self._workers, self._data_dir = workers, str(data_dir) if data_dir else None
        self._pool = self._new_pool()
        self._built: OrderedDict[tuple, Path] = OrderedDict()
        self._pending: dict[tuple, asyncio.Future] = {}
        self._catalogue: asyncio.Future | None = None
        self._signature: tuple | None = None

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self._workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_init_worker, initargs=(self._data_dir,))

    def _submit(self, fn, *args) -> asyncio.Future:
        try:
            return asyncio.wrap_future(self._pool.submit(fn, *args))
        except BrokenProcessPool:  # a worker died (e.g. out of memory): start afresh rather than fail forever
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()
            return asyncio.wrap_future(self._pool.submit(fn, *args))

    def catalogue(self) -> asyncio.Future:
        """(periods, branch ids) of the data, loaded once in the worker (tried again after a failure, and read
        again when the data folder changed)."""
        self._check_data()
        if self._catalogue is None or (self._catalogue.done() and self._catalogue.exception() is not None):
            self._catalogue = self._submit(_worker_periods, self._signature)
        return self._catalogue

    def known_catalogue(self):
        f = self._catalogue
        return f.result() if f is not None and f.done() and not f.exception() else None

    def _data_signature(self) -> tuple:
        """What the data folder holds now, read cheaply from the file system: (path, size, inode, change time) of
        every export file (the store's own folder ``.sqc`` and other hidden entries left out). The change time
        moves with every write and cannot be set back, so an export replaced or edited in place changes it."""
        from ..io import default_data_dir

        root = Path(self._data_dir) if self._data_dir else default_data_dir()
        entries = []
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                if name.startswith("."):
                    continue
                try:
                    st = os.stat(os.path.join(folder, name))
                except OSError:  # removed while we looked: the next request sees the folder as it is then
                    continue
                entries.append((os.path.relpath(os.path.join(folder, name), root), st.st_size, st.st_ino,
                                st.st_ctime_ns))
        return tuple(entries)

    def _check_data(self) -> tuple:
        """The data folder's signature; when it changed since the last request, the cached pages (built from the
        earlier data) are removed and the list of months is read again."""
        signature = self._data_signature()
        if signature != self._signature:
            if self._signature is not None:
                for path in self._built.values():
                    shutil.rmtree(path.parent, ignore_errors=True)
                self._built.clear()
                self._catalogue = None
            self._signature = signature
        return signature

    async def page(self, period: str, branches: tuple[str, ...] | None, lang: str) -> Path:
        signature = self._check_data()
        key = (period, branches, lang, signature)
        path = self._built.get(key)
        if path is not None and path.exists():
            self._built.move_to_end(key)
            return path
        if key not in self._pending:
            version = hashlib.sha256(repr(signature).encode()).hexdigest()
            name = hashlib.sha256(json.dumps([period, branches, lang, self.areas, version]).encode()).hexdigest()[:32]
            fut = self._submit(_worker_build, period, branches, lang, str(self.cache_dir / name), self.areas,
                               signature)
            self._pending[key] = fut
            fut.add_done_callback(lambda f, k=key: self._done(k, f))
        return Path(await asyncio.shield(self._pending[key]))

    def _done(self, key, fut) -> None:
        self._pending.pop(key, None)
        if fut.cancelled() or fut.exception() is not None:
            return  # not cached: the next request tries again
        if key[-1] != self._signature:  # built from data that changed meanwhile: served once, never again
            shutil.rmtree(Path(fut.result()).parent, ignore_errors=True)
            return
        self._built[key] = Path(fut.result())
        while len(self._built) > self.max_entries:
            _, old = self._built.popitem(last=False)
            shutil.rmtree(old.parent, ignore_errors=True)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
