"""Command line: ``sqc report``, ``sqc backfill``, ``sqc index``, ``sqc serve``, ``sqc users``, ``sqc validate``,
``sqc demo-data``.

Exit status: 0 success (or nothing to do), 1 a run failed (nothing was published for it), 2 bad parameters or
bad input data (the message names the file, column, row and value). Errors are one line on stderr, never a
traceback (set ``SQC_DEBUG=1`` to see one).
"""
from __future__ import annotations

import argparse
import errno
import os
import sys
import traceback
from pathlib import Path

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
    p.add_argument("--min-free-mb", type=float, metavar="MB",
                   help="refuse to start with less free disk space than this (default $SQC_MIN_FREE_MB or 200)")
    p.add_argument("--keep-failed", type=int, metavar="N",
                   help="keep the run logs of the last N failed runs in _failed/ (default $SQC_KEEP_FAILED or 5)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sqc", description="Service-quality workbench: monthly reports and tools.")
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
    p = sub.add_parser("validate", help="load and validate a data folder; print what was read and excluded")
    p.add_argument("--data", metavar="DIR")
    p.add_argument("--exclude", action="store_true", help="exclude bad rows (counted) instead of stopping")
    p = sub.add_parser("demo-data", help="(re)generate the demo service network")
    p.add_argument("--out", metavar="DIR", required=True)
    p.add_argument("--scale", type=float, default=1.0, help="volume multiplier, e.g. 10 or 100 for benchmarks")
    p.add_argument("--seed", type=int)
    return parser


def _latest(data_dir) -> str:
    from .io import latest_period

    return latest_period(data_dir)


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
    if args.command == "validate":
        from .io import load_network

        if args.data:
            pipeline.check_data_dir(args.data)

        data = load_network(args.data, on_error="exclude" if args.exclude else "raise")
        print(data.load_summary().to_string(index=False))
        print(f"periods {data.periods[0]}..{data.periods[-1]}; fingerprint {data.fingerprint()[:16]}")
        return 0
    if args.command == "demo-data":
        from . import demo

        kwargs = {"scale": args.scale} | ({"seed": args.seed} if args.seed is not None else {})
        demo.generate(args.out, **kwargs)
        print(f"demo data written to {Path(args.out).resolve()}")
        return 0
    raise ParameterError(f"unknown command {args.command!r}")


if __name__ == "__main__":
    sys.exit(main())
