"""`sqc users`: argon2 hashes (never passwords) in a mode-600 file, weak passwords refused, branch scopes, the file's
mode re-checked at every read; unit checks of `next` filtering and login throttling."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sqc.errors import ParameterError
from sqc.serve.auth import LoginThrottle, SessionStore, ThrottleRule, safe_next
from sqc.serve.users import CredentialStore, check_password, read_users, verify_password

ROOT = Path(__file__).resolve().parents[1]
GOOD = "violet-anchor-quarry-31"


def sqc(*args, stdin=""):
    return subprocess.run([sys.executable, "-m", "sqc.cli", *args], input=stdin, capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


def test_users_add_list_remove_through_the_cli(tmp_path):
    creds = tmp_path / "users.json"
    p = sqc("users", "add", "anna", "--credentials", str(creds), "--password-stdin", "--branches", "B02,B01",
            stdin=GOOD + "\n")
    assert p.returncode == 0, p.stderr
    assert GOOD not in p.stdout + p.stderr
    assert oct(creds.stat().st_mode & 0o777) == "0o600"
    text = creds.read_text()
    assert GOOD not in text and "$argon2id$" in text
    doc = json.loads(text)
    assert doc["users"]["anna"]["branches"] == ["B01", "B02"]
    assert verify_password(doc["users"]["anna"]["hash"], GOOD) and not verify_password(doc["users"]["anna"]["hash"],
                                                                                          GOOD + "x")
    assert sqc("users", "add", "lead", "--credentials", str(creds), "--password-stdin",
               stdin="another-long-passphrase-77\n").returncode == 0
    p = sqc("users", "list", "--credentials", str(creds))
    assert p.returncode == 0 and p.stdout.splitlines() == ["anna\tB01,B02", "lead\tall"]
    assert "$argon2" not in p.stdout
    p = sqc("users", "add", "anna", "--credentials", str(creds), "--password-stdin", stdin=GOOD + "\n")
    assert p.returncode == 2 and "already exists" in p.stderr
    assert sqc("users", "remove", "anna", "--credentials", str(creds)).returncode == 0
    assert list(read_users(creds)) == ["lead"]
    p = sqc("users", "remove", "nobody", "--credentials", str(creds))
    assert p.returncode == 2 and "no user" in p.stderr and "Traceback" not in p.stderr


@pytest.mark.parametrize("password, why", [
    ("aaaaaaaa", "at least 12"), ("short-pw", "at least 12"), ("aaaaaaaaaaaa", "too easy"),
    ("password1234", "commonly used"), ("qwertyuiop123", "commonly used"), ("Summer2026!!", "commonly used"),
    ("anna-anna-anna-1", "user name"), ("123456789012", "commonly used"),
])
def test_weak_passwords_are_refused_without_echoing_them(tmp_path, password, why):
    with pytest.raises(ParameterError, match=why) as exc:
        check_password(password, "anna")
    assert password not in str(exc.value)
    p = sqc("users", "add", "anna", "--credentials", str(tmp_path / "u.json"), "--password-stdin", stdin=password)
    assert p.returncode == 2 and why in p.stderr and password not in p.stderr and "Traceback" not in p.stderr
    assert not (tmp_path / "u.json").exists()


def test_credentials_file_mode_owner_and_format_are_checked_at_every_read(tmp_path):
    creds = tmp_path / "users.json"
    assert sqc("users", "add", "anna", "--credentials", str(creds), "--password-stdin", stdin=GOOD).returncode == 0
    store = CredentialStore(creds)
    assert store.lookup("anna").branches is None
    os.chmod(creds, 0o640)
    with pytest.raises(ParameterError, match="chmod 600"):
        store.lookup("anna")
    os.chmod(creds, 0o600)
    assert store.lookup("anna") is not None
    link = tmp_path / "link.json"
    link.symlink_to(creds)
    with pytest.raises(ParameterError, match="symlink"):
        read_users(link)
    legacy = tmp_path / "legacy.json"
    legacy.write_text(json.dumps({"manager": "correct-horse-battery"}))
    os.chmod(legacy, 0o600)
    with pytest.raises(ParameterError, match="plain-text passwords"):
        read_users(legacy)
    p = sqc("serve", "--credentials", str(legacy), "--reports", str(tmp_path))
    assert p.returncode == 2 and "plain-text" in p.stderr and "correct-horse" not in p.stderr


def test_file_of_another_owner_is_refused(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root to give the file away")
    creds = tmp_path / "users.json"
    sqc("users", "add", "anna", "--credentials", str(creds), "--password-stdin", stdin=GOOD)
    os.chown(creds, 65534, -1)
    with pytest.raises(ParameterError, match="belongs to another user"):
        read_users(creds)


@pytest.mark.parametrize("target", ["//evil.example", "///evil.example", "/\\evil", "\\\\evil", "https://x",
                                    "%2F%2Fevil", "/%2F%2Fevil", "/%252F%252Fevil", "/%5Cevil", "http:evil",
                                    "javascript:alert(1)", "", None, "dashboard", "/\nSet-Cookie:x", "/" + "a" * 600])
def test_safe_next_refuses_other_sites(target):
    assert safe_next(target) == "/dashboard"


def test_safe_next_keeps_local_paths():
    assert safe_next("/dashboard?period=2026-10&lang=zh") == "/dashboard?period=2026-10&lang=zh"
    assert safe_next("/reports/2026-10/summary.json") == "/reports/2026-10/summary.json"


def test_throttle_grows_caps_and_forgets():
    now = [0.0]
    t = LoginThrottle(per_user_address=ThrottleRule(3, 1.0, 8.0, window=100.0),
                      per_address=ThrottleRule(10, 1.0, 8.0, window=100.0), clock=lambda: now[0])
    for _ in range(3):
        assert t.retry_after("u", "a") == 0
        t.failed("u", "a")
    assert t.retry_after("u", "a") == pytest.approx(1.0)
    t.failed("u", "a")
    assert t.retry_after("u", "a") == pytest.approx(2.0)
    for _ in range(10):
        t.failed("u", "a")
    assert t.retry_after("u", "a") == pytest.approx(8.0), "capped"
    assert t.retry_after("u", "b") == 0, "another address is not affected"
    assert t.retry_after("U", "a") > 0, "user names are matched without case"
    now[0] += 8.0
    assert t.retry_after("u", "a") == 0, "after the delay the client may try again"
    now[0] += 100.0
    t.failed("u", "a")
    assert t.retry_after("u", "a") == 0, "old failures are forgotten"
    for _ in range(10):
        t.failed(f"user{_}", "a")
    assert t.retry_after("someone-else", "a") > 0, "one address spraying many user names is throttled"
    t.succeeded("u", "a")


def test_sessions_expire_and_are_revoked():
    now = [0.0]
    s = SessionStore(idle_timeout=10, max_age=30, clock=lambda: now[0])
    token = s.new("anna")
    assert s.get(token).user == "anna" and s.get("forged") is None
    now[0] += 9
    assert s.get(token) is not None
    now[0] += 11
    assert s.get(token) is None, "idle timeout"
    token = s.new("anna")
    for _ in range(3):
        now[0] += 8
        assert s.get(token) is not None
    now[0] += 8
    assert s.get(token) is None, "absolute lifetime"
    token = s.new("anna")
    assert s.revoke(token).user == "anna" and s.get(token) is None
    assert "anna" not in repr(s._sessions.keys()) and token not in repr(s._sessions)
