"""Command line: ``sqc report``, ``sqc backfill``, ``sqc index``, ``sqc serve``, ``sqc users``, ``sqc ingest``,
``sqc validate``, ``sqc demo-data``.

Exit status: 0 success (or nothing to do), 1 a run failed (nothing was published for it), 2 bad parameters or
bad input data (the message names the file, column, row and value). Errors are one line on stderr, never a
traceback (set ``SQC_DEBUG=1`` to see one).
"""
from __future__ import annotations

import argparse
import contextlib
import errno
import os
import sys
import traceback
from pathlib import Path

from . import __version__
from .errors import DataError, ParameterError, PipelineError, SqcError


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", metavar="DIR", help="folder with the network's tables (default: bundled demo data, "
                                                 "or $SQC_DATA_DIR)")
    p.add_argument("--reports", metavar="DIR", default="reports", help="reports folder (default: ./reports)")
    p.add_argument("--branches", metavar="IDS", help="comma-separated branch ids (default: all)")
    p.add_argument("--lang", metavar="LANGS", default="en,zh", help="en, zh or en,zh (default: en,zh)")
    p.add_argument("--force", action="store_true", help="rebuild a period that is already published")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--timeout", type=int, default=1800, help="seconds a notebook cell may run (default 1800)")
    p.add_argument("--notebook", metavar="FILE", help="report notebook to execute (default: notebooks/monthly_report.ipynb)")
    _add_store_option(p)
    p.add_argument("--min-free-mb", type=float, metavar="MB",
                   help="refuse to start with less free disk space than this (default $SQC_MIN_FREE_MB or 200)")
    p.add_argument("--keep-failed", type=int, metavar="N",
                   help="keep the run logs of the last N failed runs in _failed/ (default $SQC_KEEP_FAILED or 5)")
    p.add_argument("--engine", choices=("duckdb", "spark"), help="where the raw rows are aggregated: the embedded "
                   "DuckDB store (default) or Spark (local mode unless --spark-master is given)")
    p.add_argument("--spark-master", metavar="URL", help="Spark master (spark://host:7077, yarn, k8s://...) or "
                   "Spark Connect URL (sc://host:15002); with --engine spark")


STORE_HELP = ("the DuckDB store of the data folder (default: $SQC_STORE if set, else DIR/.sqc/store.duckdb when the "
              "data folder is writable, else ~/.cache/sqc/stores/<folder>-<hash>.duckdb)")


def _add_store_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", metavar="PATH", help=STORE_HELP)


def _add_check_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", metavar="DIR", help="folder with the network's tables (default: bundled demo data, "
                                                 "or $SQC_DATA_DIR)")
    _add_store_option(p)
    p.add_argument("--exclude", action="store_true", help="exclude bad rows (counted per file and reason) instead "
                                                          "of refusing the file")
    p.add_argument("--cutoff", metavar="DATE", help="the export's cut-off (YYYY-MM-DD = the end of that day, or "
                   "'YYYY-MM-DD HH:MM'): rows dated after it are refused (excluded with --exclude); default: now")
    p.add_argument("--encoding", metavar="NAME", help="text encoding of CSV exports that are not UTF-8 "
                                                      "(e.g. gb18030, cp949, cp1252; UTF-8 is tried first)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sqc", description="Service-quality workbench: monthly reports and tools.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("report", help="build and publish the report of one month")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--period", metavar="YYYY-MM", help="the month to report")
    g.add_argument("--latest", action="store_true", help="the latest month in the data (default)")
    _add_run_options(p)
    p = sub.add_parser("backfill", help="build and publish every month of a range")
    p.add_argument("--from", dest="start", metavar="YYYY-MM", required=True)
    p.add_argument("--to", dest="end", metavar="YYYY-MM", required=True)
    _add_run_options(p)
    p = sub.add_parser("index", help="rewrite reports/index.html from the published periods")
    p.add_argument("--reports", metavar="DIR", default="reports")
    p = sub.add_parser("serve", help="serve the published dashboards (and live views) behind a login")
    p.add_argument("--credentials", metavar="FILE", required=True,
                   help="users file written by `sqc users add` (argon2 hashes, mode 600)")
    p.add_argument("--reports", metavar="DIR", default="reports", help="published reports folder (default ./reports)")
    p.add_argument("--data", metavar="DIR", help="data for live views (branch subsets, months not yet published)")
    p.add_argument("--port", type=int, default=5006)
    p.add_argument("--address", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    p.add_argument("--audit-log", metavar="FILE", help="JSON-lines audit log (default: sqc_audit.jsonl beside the "
                                                       "credentials file)")
    p.add_argument("--cache", metavar="DIR", help="folder for live pages (default: a private temporary folder)")
    p.add_argument("--trusted-proxy", action="append", metavar="IP", default=[],
                   help="address of a reverse proxy whose X-Forwarded-For/-Proto headers are trusted (repeatable)")
    p.add_argument("--secure-cookies", action="store_true",
                   help="always mark cookies Secure (default: when the request came over HTTPS)")
    p.add_argument("--certfile", metavar="PEM", help="serve HTTPS with this certificate (and --keyfile)")
    p.add_argument("--keyfile", metavar="PEM")
    p.add_argument("--live-workers", type=int, default=1, help="processes building live pages (default 1)")
    _add_store_option(p)
    p = sub.add_parser("users", help="add, remove or list the users of `sqc serve`")
    users = p.add_subparsers(dest="users_command", required=True)
    u = users.add_parser("add", help="add a user (the password is read from stdin, hashed with argon2id)")
    u.add_argument("name")
    u.add_argument("--credentials", metavar="FILE", required=True)
    u.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    u.add_argument("--branches", metavar="IDS", help="comma-separated branch ids this user may see (default: all)")
    u.add_argument("--replace", action="store_true", help="change an existing user's password and branches")
    u = users.add_parser("remove", help="remove a user (their sessions end at their next request)")
    u.add_argument("name")
    u.add_argument("--credentials", metavar="FILE", required=True)
    u = users.add_parser("list", help="list users and their branches (never passwords or hashes)")
    u.add_argument("--credentials", metavar="FILE", required=True)
    p = sub.add_parser("ingest", help="load a data folder into its store (incremental: only new or changed files)",
                       description="Load a data folder (CSV in any encoding, Excel, Parquet, hotline/YYYY-MM.parquet) "
                       "into an embedded DuckDB store, validating every file and checking whole tables (keys across "
                       "monthly files, rows in the wrong monthly file, the cut-off, references). Unchanged files "
                       "(same SHA-256) are skipped; changed files replace their rows and removed files lose them, in "
                       "one transaction. " + STORE_HELP[0].upper() + STORE_HELP[1:] + ".")
    _add_check_options(p)
    p.add_argument("--quiet", action="store_true", help="no line per file")
    p = sub.add_parser("validate", help="ingest and validate a data folder; print what was read, excluded and "
                                        "missing")
    _add_check_options(p)
    p = sub.add_parser("demo-data", help="(re)generate the demo service network")
    p.add_argument("--out", metavar="DIR", required=True)
    p.add_argument("--scale", type=float, default=1.0, help="volume multiplier, e.g. 10 or 100 for benchmarks")
    p.add_argument("--seed", type=int)
    return parser


def _latest(data_dir) -> str:
    from .io import latest_period

    return latest_period(data_dir)


def _select_engine(engine: str | None, master: str | None) -> None:
    """Pass --engine/--spark-master to the run through the environment (the report notebook's kernel inherits it;
    ``sqc.engine.engine_options`` reads it)."""
    if master and engine != "spark":
        raise ParameterError("--spark-master needs --engine spark")
    if engine:
        os.environ["SQC_ENGINE"] = engine
    if master:
        os.environ["SQC_SPARK_MASTER"] = master


def _print_result(r) -> None:
    if r.status == "published":
        print(f"{r.period}: published in {r.seconds:.1f} s -> {r.path}")
        for d in r.dashboards:
            print(f"  dashboard: {d}")
    elif r.status == "skipped":
        print(f"{r.period}: {r.message} ({r.path})")
    else:
        print(f"{r.period}: FAILED - {r.message}", file=sys.stderr)


def _os_error_message(exc: OSError) -> tuple[str, int]:
    where = f" {exc.filename}" if exc.filename else ""
    if exc.errno == errno.ENOSPC:
        return f"disk full writing{where}; free space on that disk and run again", 1
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return f"cannot write{where} ({exc.strerror}); make the folder writable by this user", 2
    if exc.errno == errno.ENOENT:
        return f"not found:{where or ' a file or folder'}; check the path", 2
    return f"{exc.strerror or exc}{where}", 1


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    previous_store = os.environ.get("SQC_STORE")
    if getattr(args, "store", None):  # inherited by the report's notebook kernels, which load through the store
        os.environ["SQC_STORE"] = str(Path(args.store).expanduser().resolve())
    try:
        return _run(args)
    finally:
        if previous_store is None:
            os.environ.pop("SQC_STORE", None)
        else:
            os.environ["SQC_STORE"] = previous_store


def _run(args) -> int:
    try:
        return _dispatch(args)
    except (ParameterError, DataError) as exc:
        print(f"sqc {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except PipelineError as exc:
        print(f"sqc {args.command}: run failed: {_one_line(exc)}", file=sys.stderr)
        return 1
    except SqcError as exc:
        print(f"sqc {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"sqc {args.command}: interrupted; nothing half-written was published", file=sys.stderr)
        return 130
    except OSError as exc:
        message, code = _os_error_message(exc)
        print(f"sqc {args.command}: error: {message}", file=sys.stderr)
        return code
    except Exception as exc:  # a bug: one line for cron mail; SQC_DEBUG=1 shows the traceback
        if os.environ.get("SQC_DEBUG"):
            traceback.print_exc()
        if args.command in ("ingest", "validate"):  # checking data never ends in a traceback, whatever the input
            print(f"sqc {args.command}: error: {type(exc).__name__}: {_one_line(exc)} (the store is unchanged; if the "
                  "input looks right, report this as a bug)", file=sys.stderr)
            return 2
        empty = type(exc).__name__ == "EmptyDataError"  # pandas: a table file with no content
        print(f"sqc {args.command}: error: {'a data file is empty: ' if empty else 'internal error: '}"
              f"{type(exc).__name__}: {_one_line(exc)} (SQC_DEBUG=1 shows details)", file=sys.stderr)
        return 2 if empty else 1


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _read_password(args) -> str:
    import getpass

    if args.password_stdin:
        line = sys.stdin.readline()
        return line[:-1] if line.endswith("\n") else line
    if not sys.stdin.isatty():
        raise ParameterError("give --password-stdin to read the password from standard input")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise ParameterError("the two passwords differ")
    return first


def _users(args) -> int:
    from .serve import users

    if args.users_command == "add":
        user = users.add_user(args.credentials, args.name, _read_password(args), args.branches, replace=args.replace)
        print(f"user {user.name} saved in {args.credentials} (branches: {user.scope_label})")
    elif args.users_command == "remove":
        users.remove_user(args.credentials, args.name)
        print(f"user {args.name} removed from {args.credentials}")
    else:
        for user in users.list_users(args.credentials):
            print(f"{user.name}\t{user.scope_label}")
    return 0


def _dispatch(args) -> int:
    from . import pipeline

    if args.command in ("report", "backfill"):
        _select_engine(args.engine, args.spark_master)
        common = dict(data_dir=args.data, reports_dir=args.reports, branches=args.branches, languages=args.lang,
                      force=args.force, progress=not args.quiet, timeout=args.timeout, notebook=args.notebook,
                      min_free_mb=args.min_free_mb, keep_failed=args.keep_failed)
        if args.command == "report":
            period = pipeline.validate_period(args.period) if args.period else _latest(args.data)
            result = pipeline.run_report(period, **common)
            _print_result(result)
            print(f"index: {Path(args.reports).resolve() / 'index.html'}")
            return 0
        results = pipeline.backfill(args.start, args.end, **common)
        for r in results:
            _print_result(r)
        failed = [r for r in results if r.status == "failed"]
        print(f"backfill {args.start}..{args.end}: {sum(r.status == 'published' for r in results)} published, "
              f"{sum(r.status == 'skipped' for r in results)} already published, {len(failed)} failed; "
              f"index: {Path(args.reports).resolve() / 'index.html'}")
        return (2 if any(r.error == "data" for r in failed) else 1) if failed else 0
    if args.command == "index":
        print(pipeline.rebuild_index(args.reports))
        return 0
    if args.command == "serve":
        from .serve import serve

        scheme = "https" if args.certfile else "http"
        print(f"serving {Path(args.reports).resolve()} on {scheme}://{args.address}:{args.port}/dashboard; "
              f"Ctrl-C stops", flush=True)
        serve(reports_dir=args.reports, credentials=args.credentials, data_dir=args.data, port=args.port,
              address=args.address, audit_log=args.audit_log, cache_dir=args.cache,
              trusted_proxies=args.trusted_proxy, cookie_secure=True if args.secure_cookies else None,
              live_workers=args.live_workers, certfile=args.certfile, keyfile=args.keyfile)
        return 0
    if args.command == "users":
        return _users(args)
    if args.command in ("ingest", "validate"):
        if args.data and Path(args.data).is_dir():  # the ingest itself names a missing or unreadable folder
            pipeline.check_no_empty_files(args.data)
        return _check_data(args)
    if args.command == "demo-data":
        from . import demo

        kwargs = {"scale": args.scale} | ({"seed": args.seed} if args.seed is not None else {})
        demo.generate(args.out, **kwargs)
        print(f"demo data written to {Path(args.out).resolve()}")
        return 0
    raise ParameterError(f"unknown command {args.command!r}")


class _FileBar:
    """``ingest``'s progress callback drawn as a tqdm bar on stderr: one step per file, its line written above the
    bar; ``ingest`` sets :attr:`total` once it knows how many files changed."""

    def __init__(self, tqdm):
        self.bar = tqdm(desc="ingest", unit="file", total=None, file=sys.stderr, leave=False)

    @property
    def total(self):
        return self.bar.total

    @total.setter
    def total(self, n: int) -> None:
        self.bar.total = n
        self.bar.refresh()

    def __call__(self, message: str) -> None:
        self.bar.write(message, file=sys.stdout)
        if message.startswith(("ingested ", "removed ")):
            self.bar.update(1)


@contextlib.contextmanager
def _file_progress(quiet: bool):
    """The progress callback for ``sqc ingest``: nothing when quiet, a tqdm bar when stderr is a terminal and tqdm
    is installed (it comes with the ``report`` extra), else one printed line per file."""
    if quiet:
        yield None
        return
    try:
        from tqdm.auto import tqdm
    except ImportError:
        tqdm = None
    if tqdm is None or not sys.stderr.isatty():
        yield print
        return
    bar = _FileBar(tqdm)
    try:
        yield bar
    finally:
        bar.bar.close()


def _check_data(args) -> int:
    """``sqc ingest`` and ``sqc validate``: bring the store up to date, then the whole-table checks. ``validate``
    also loads the tables as the report does and refuses rows the report would have to leave out."""
    from .store import ingest
    from .store.checks import gap_warnings, whole_store_checks

    on_error = "exclude" if args.exclude else "raise"
    quiet = getattr(args, "quiet", False) or args.command == "validate"
    with _file_progress(quiet) as say:
        result = ingest(args.data, store=args.store, on_error=on_error, cutoff=args.cutoff, encoding=args.encoding,
                        progress=say)
    print(result.summary())
    if args.command == "validate":
        from .io import load_network

        data = load_network(result.data_dir, store=result.store, on_error=on_error, cutoff=args.cutoff,
                            encoding=args.encoding)
        print(data.load_summary().to_string(index=False))
        periods = data.periods
        print(f"periods {periods[0]}..{periods[-1]}" if periods else "periods: none (no hotline rows)",
              f"; fingerprint {data.fingerprint()[:16]}", sep="")
    findings, gaps = whole_store_checks(result.store)
    for w in gap_warnings(gaps):
        print(f"warning: {w}")
    if findings and args.command == "validate" and not args.exclude:
        raise findings[0].error()
    for f in findings:
        print(f"note: {f} (the report leaves such rows out and counts them)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
