"""Login security that does not depend on the web framework: where ``next`` may point, login throttling, server-side
sessions and the audit log."""
from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

DEFAULT_NEXT = "/dashboard"
_CONTROL = re.compile(r"[\x00-\x1f\x7f\\]")


def safe_next(value: str | None, default: str = DEFAULT_NEXT) -> str:
    """Where to go after login: only a path on this site (``/dashboard?period=2026-10``), never another host.

    Refused (the default is returned): absolute URLs (``https://x``), scheme-relative ones (``//evil``, and their
    encoded forms ``%2F%2F``), backslashes (``/\\evil``, which browsers treat as ``//``), control characters,
    and anything not starting with a single ``/``.
    """
    if not isinstance(value, str) or not value or len(value) > 512:
        return default
    decoded = value
    for _ in range(3):  # a browser or proxy may decode more than once
        if _CONTROL.search(decoded) or not decoded.startswith("/") or decoded.startswith("//"):
            return default
        nxt = unquote(decoded)
        if nxt == decoded:
            break
        decoded = nxt
    else:
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


@dataclass
class _Bucket:
    failures: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class ThrottleRule:
    """After ``free`` failures within ``window`` seconds, each further attempt must wait
    ``base * 2 ** (failures - free)`` seconds after the last failure, at most ``cap`` seconds."""
    free: int
    base: float
    cap: float
    window: float = 900.0


class LoginThrottle:
    """Growing delays after failed logins, answered with HTTP 429 and ``Retry-After``.

    Two buckets are checked: the (user, client address) pair and the client address. An attacker elsewhere
    therefore cannot lock a real user out: the user's own (user, address) bucket is untouched, and every delay
    is capped and forgotten after the window. A success clears the (user, address) bucket.
    """

    def __init__(self, *, per_user_address: ThrottleRule = ThrottleRule(5, 1.0, 300.0),
                 per_address: ThrottleRule = ThrottleRule(20, 1.0, 300.0), clock=time.monotonic,
                 max_keys: int = 100_000):
        self.rules = {"user": per_user_address, "address": per_address}
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: OrderedDict[tuple, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def _keys(self, user: str, address: str):
        return [("user", (user.lower(), address)), ("address", address)]

    def retry_after(self, user: str, address: str) -> float:
        """Seconds the client must still wait before trying again (0: go ahead)."""
        now = self.clock()
        wait = 0.0
        with self._lock:
            for kind, key in self._keys(user, address):
                rule, bucket = self.rules[kind], self._buckets.get((kind, key))
                if bucket is None:
                    continue
                bucket.failures = [t for t in bucket.failures if now - t < rule.window]
                n = len(bucket.failures)
                if n >= rule.free:
                    delay = min(rule.base * 2 ** (n - rule.free), rule.cap)
                    wait = max(wait, bucket.failures[-1] + delay - now)
        return max(wait, 0.0)

    def failed(self, user: str, address: str) -> None:
        now = self.clock()
        with self._lock:
            for kind, key in self._keys(user, address):
                bucket = self._buckets.setdefault((kind, key), _Bucket())
                self._buckets.move_to_end((kind, key))
                bucket.failures.append(now)
                del bucket.failures[:-64]
            while len(self._buckets) > self.max_keys:  # bounded memory under a spray of user names
                self._buckets.popitem(last=False)

    def succeeded(self, user: str, address: str) -> None:
        with self._lock:
            self._buckets.pop(("user", (user.lower(), address)), None)


@dataclass
class Session:
    user: str
    created: float
    last_seen: float


class SessionStore:
    """Server-side sessions: the cookie holds a random 256-bit token; the server keeps only its SHA-256, so logout
    (or removing the user) revokes the session whatever copies of the cookie exist."""

    def __init__(self, *, idle_timeout: float = 1800.0, max_age: float = 12 * 3600.0, clock=time.monotonic):
        self.idle_timeout, self.max_age, self.clock = idle_timeout, max_age, clock
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _digest(token: str) -> str:
        return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()

    def new(self, user: str) -> str:
        token = secrets.token_urlsafe(32)
        now = self.clock()
        with self._lock:
            self._sessions[self._digest(token)] = Session(user, now, now)
            self._expire(now)
        return token

    def _expire(self, now: float) -> None:
        dead = [k for k, s in self._sessions.items()
                if now - s.last_seen > self.idle_timeout or now - s.created > self.max_age]
        for k in dead:
            del self._sessions[k]

    def get(self, token: str | None) -> Session | None:
        if not token or len(token) > 200:
            return None
        now = self.clock()
        with self._lock:
            key = self._digest(token)
            s = self._sessions.get(key)
            if s is None:
                return None
            if now - s.last_seen > self.idle_timeout or now - s.created > self.max_age:
                del self._sessions[key]
                return None
            s.last_seen = now
            return s

    def revoke(self, token: str | None) -> Session | None:
        if not token:
            return None
        with self._lock:
            return self._sessions.pop(self._digest(token), None)

    def revoke_user(self, user: str) -> int:
        with self._lock:
            keys = [k for k, s in self._sessions.items() if s.user == user]
            for k in keys:
                del self._sessions[k]
        return len(keys)


def _clean(value, limit: int = 200):
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = str(value)
    return text[:limit] + ("…" if len(text) > limit else "")


class AuditLog:
    """Append-only JSON lines (mode 600): one object per login, failed login, throttled attempt, logout or refusal.

    Every field is a JSON string written with ``ensure_ascii``, so a user name holding a newline, a quote or a
    control character cannot forge or break a line. Passwords are never passed here."""

    FIELDS = ("event", "user", "address", "path", "reason", "scope")

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path).expanduser().resolve()
        self._lock = threading.Lock()
        fd = os.open(self.path, os.O_CREAT | os.O_APPEND | os.O_WRONLY, 0o600)
        self._fh = os.fdopen(fd, "a", encoding="utf-8")

    def write(self, event: str, **fields) -> None:
        unknown = set(fields) - set(self.FIELDS)
        if unknown:
            raise ValueError(f"audit log fields {sorted(unknown)} are not allowed")
        record = {"ts": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "event": event,
                  **{k: _clean(v) for k, v in fields.items()}}
        line = json.dumps(record, ensure_ascii=True, sort_keys=False)
        with self._lock:
            self._fh.write(line + "\n")
            self._fh.flush()

    def close(self) -> None:
        self._fh.close()
