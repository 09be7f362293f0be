"""Users of the served dashboards: a credentials file of argon2id hashes with optional branch scopes.

The file is JSON, written only by ``sqc users add/remove`` (atomically, mode 600)::

    {"version": 1, "users": {"anna": {"hash": "$argon2id$v=19$...", "branches": ["B01", "B02"]},
                             "lead": {"hash": "$argon2id$...", "branches": null}}}

``branches: null`` means every branch. Passwords are never stored, printed or logged; the file's owner and mode are
checked at every read, so a file made readable to others stops logins until it is fixed.
"""
from __future__ import annotations

import fcntl
import json
import os
import re
import stat
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..errors import ParameterError

FORMAT_VERSION = 1
MIN_PASSWORD_LENGTH = 12
MIN_STRENGTH_SCORE = 3  # zxcvbn's 0-4 scale: 3 = "safely unguessable: moderate protection from offline attacks"
USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
BRANCH_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


@dataclass(frozen=True)
class User:
    name: str
    password_hash: str
    branches: tuple[str, ...] | None  # None: every branch

    @property
    def scope_label(self) -> str:
        return "all" if self.branches is None else ",".join(self.branches)


def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()  # argon2id with the library's RFC 9106 "low memory" parameters


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """argon2 verification: constant-time in the comparison, and slow on purpose."""
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    try:
        return _hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


_DUMMY_HASH = None


def dummy_verify(password: str) -> None:
    """Spend the time of one verification for an unknown user, so response times do not reveal user names."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password("not-a-user-" + os.urandom(8).hex())
    verify_password(_DUMMY_HASH, password)


def _common_passwords() -> frozenset[str]:
    # zxcvbn ships the 30,000 most common passwords from leaked-password corpora (MIT licence).
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def check_password(password: str, username: str = "") -> None:
    """Refuse weak passwords: shorter than 12 characters, on a common-password list, containing the user name, or
    scored below 3 of 4 by zxcvbn. The message never repeats the password."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise ParameterError(f"password refused: it must have at least {MIN_PASSWORD_LENGTH} characters")
    lowered = password.lower()
    stripped = lowered.rstrip("0123456789!?.")
    common = _common_passwords()
    if lowered in common or stripped in common:
        raise ParameterError("password refused: it is on a list of commonly used passwords; choose another")
    if username and username.lower() in lowered:
        raise ParameterError("password refused: it contains the user name")
    from zxcvbn import zxcvbn

    result = zxcvbn(password[:100], user_inputs=[username] if username else [])
    if result["score"] < MIN_STRENGTH_SCORE:
        hint = result["feedback"].get("warning") or "add more unrelated words or characters"
        raise ParameterError(f"password refused: too easy to guess ({hint.rstrip('.')}); a passphrase of four "
                             "or more unrelated words works well")


def validate_username(name: str) -> str:
    if not isinstance(name, str) or not USERNAME_RE.match(name):
        raise ParameterError("user name must be 1-64 characters: letters, digits, '.', '_', '@' or '-', starting "
                             "with a letter or digit")
    return name


def parse_branches(branches) -> tuple[str, ...] | None:
    if branches is None or branches == "":
        return None
    if isinstance(branches, str):
        branches = [b.strip() for b in branches.split(",") if b.strip()]
    bad = [b for b in branches if not isinstance(b, str) or not BRANCH_RE.match(b)]
    if bad or not branches:
        raise ParameterError("branch ids must be letters, digits, '_' or '-' separated by commas, got "
                             f"{bad or '(none)'}")
    return tuple(sorted(dict.fromkeys(branches)))


def _check_mode(path: Path, st: os.stat_result) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise ParameterError(f"credentials file {path} is not a regular file")
    if st.st_uid != os.geteuid():
        raise ParameterError(f"credentials file {path} belongs to another user (uid {st.st_uid}); it must belong to "
                             f"the user that runs sqc: chown it")
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ParameterError(f"credentials file {path} is readable or writable by other users (mode "
                             f"{oct(st.st_mode & 0o777)}); run: chmod 600 {path}")


def _parse(path: Path, text: str) -> dict[str, User]:
    try:
        raw = json.loads(text)
    except ValueError:
        raise ParameterError(f"credentials file {path} is not valid JSON; re-create it with `sqc users add`") \
            from None
    if isinstance(raw, dict) and "users" not in raw and raw and all(isinstance(v, str) for v in raw.values()):
        raise ParameterError(f"credentials file {path} holds plain-text passwords (an older format); create each "
                             f"user again with `sqc users add NAME --credentials NEWFILE --password-stdin` and "
                             f"delete the old file")
    if not isinstance(raw, dict) or raw.get("version") != FORMAT_VERSION or not isinstance(raw.get("users"), dict):
        raise ParameterError(f"credentials file {path} is not an sqc credentials file (version {FORMAT_VERSION}); "
                             f"create it with `sqc users add`")
    users = {}
    for name, entry in raw["users"].items():
        if not (isinstance(entry, dict) and isinstance(entry.get("hash"), str)
                and entry["hash"].startswith("$argon2")):
            raise ParameterError(f"credentials file {path}: user {name!r} has no argon2 hash; add the user again "
                                 "with `sqc users add`")
        users[name] = User(name, entry["hash"], parse_branches(entry.get("branches")))
    return users


def read_users(path: str | os.PathLike) -> dict[str, User]:
    """Read the credentials file, checking owner and mode on the open file (no swap between check and read)."""
    path = Path(path).expanduser()
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        raise ParameterError(f"credentials file {path} not found; create it with `sqc users add NAME "
                             f"--credentials {path} --password-stdin`") from None
    except OSError as exc:
        raise ParameterError(f"credentials file {path} cannot be read ({exc.strerror}); it must be a regular file "
                             "(not a symlink) owned by this user with mode 600") from None
    with os.fdopen(fd, "r", encoding="utf-8") as fh:
        _check_mode(path, os.fstat(fh.fileno()))
        return _parse(path, fh.read())


class CredentialStore:
    """The credentials file as the server sees it: owner and mode re-checked at every lookup; the content is
    re-read when the file changes, so ``sqc users add/remove`` take effect without a restart."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path).expanduser().resolve()
        self._key = None
        self._users: dict[str, User] = {}
        read_users(self.path)  # fail at start-up, with the message, rather than at the first login

    def lookup(self, name: str) -> User | None:
        st = os.stat(self.path, follow_symlinks=False)
        _check_mode(self.path, st)
        key = (st.st_ino, st.st_mtime_ns, st.st_size)
        if key != self._key:
            self._users, self._key = read_users(self.path), key
        return self._users.get(name)


@contextmanager
def _locked(path: Path):
    lock = path.with_name(path.name + ".lock")
    fd = os.open(lock, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _write(path: Path, users: dict[str, User]) -> None:
    doc = {"version": FORMAT_VERSION, "users": {
        u.name: {"hash": u.password_hash, "branches": None if u.branches is None else list(u.branches)}
        for u in sorted(users.values(), key=lambda u: u.name)}}
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=2)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def add_user(path: str | os.PathLike, name: str, password: str, branches=None, *, replace: bool = False) -> User:
    """Add (or with ``replace=True`` change) a user; the password is checked, hashed and forgotten."""
    path = Path(path).expanduser().resolve()
    name = validate_username(name)
    scope = parse_branches(branches)
    check_password(password, name)
    if not path.parent.is_dir():
        raise ParameterError(f"folder {path.parent} does not exist; create it (mode 700) first")
    with _locked(path):
        users = read_users(path) if path.exists() else {}
        if name in users and not replace:
            raise ParameterError(f"user {name!r} already exists; pass --replace to change the password or branches")
        users[name] = User(name, hash_password(password), scope)
        _write(path, users)
    return users[name]


def remove_user(path: str | os.PathLike, name: str) -> None:
    path = Path(path).expanduser().resolve()
    with _locked(path):
        users = read_users(path)
        if name not in users:
            raise ParameterError(f"no user {name!r} in {path}")
        del users[name]
        _write(path, users)


def list_users(path: str | os.PathLike) -> list[User]:
    return sorted(read_users(path).values(), key=lambda u: u.name)
