"""Local accounts: the password policy, scrypt hashes and the ``brepflow_accounts`` table.

Kept apart from :mod:`brepflow_lab.hub.auth` (the JupyterHub side) so that tools such as
``brepflow-lab hub passwd`` and the backup code use accounts without importing JupyterHub or
oauthenticator. See :mod:`brepflow_lab.hub.auth` for why the hub has its own local accounts.

Password policy: at least ``min_length`` characters; not the user name, nor containing it; not a
common password — a built-in list of the most common passwords of public breach corpora, checked
after undoing the usual decorations (case, trailing digits and symbols, leetspeak, so
"Password123!" and "p@ssw0rd" are refused), trivial runs ("aaaa…", "1234…", keyboard rows), and
an optional large list file. Hashes: scrypt (n=2^14, r=8, p=1, 16-byte salt), verified in constant
time; an unknown user name is checked against a dummy hash so it costs the same time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

__all__ = [
    "COMMON_PASSWORDS",
    "USERNAME_HELP",
    "USERNAME_RE",
    "Account",
    "AccountStore",
    "check_password",
    "hash_password",
    "verify_password",
]

USERNAME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
USERNAME_HELP = "2-32 characters: lowercase letters, digits, '-' and '_', starting with a letter"

# -- passwords ----------------------------------------------------------------------------------

# The most common passwords of public breach corpora (their "bases": the checker strips case,
# trailing digits/symbols and leetspeak before looking a password up, so "Password123!" and
# "p@ssw0rd" are caught by "password").
_COMMON_WORDS = """
    123456 password 12345678 qwerty 123456789 12345 1234 111111 1234567 dragon 123123 baseball
    abc123 football monkey letmein shadow master 696969 mustang 666666 qwertyuiop 123321 1234567890
    pussy superman 654321 1qaz2wsx 7777777 fuckyou qazwsx jordan jennifer 123qwe 121212 killer
    trustno1 hunter harley zxcvbnm asdfgh buster batman soccer tigger charlie robert thomas hockey
    ranger daniel starwars klaster 112233 george computer michelle jessica pepper zxcvbn 555555
    131313 freedom 777777 pass maggie 159753 aaaaaa ginger princess joshua cheese amanda summer love
    ashley nicole chelsea biteme matthew access yankees 987654321 dallas austin thunder taylor
    matrix minecraft william corvette hello martin heather secret merlin diamond 1234qwer gfhjkm
    hammer silver 222222 88888888 anthony justin test bailey q1w2e3r4t5 patrick internet scooter
    orange golfer cookie richard samantha bigdog guitar jackson whatever mickey chicken sparky
    snoopy maverick phoenix camaro peanut morgan welcome falcon cowboy ferrari samsung andrea smokey
    steelers joseph mercedes dakota arsenal eagles melissa boomer booboo spider nascar monster
    tigers yellow xxxxxx 123123123 gateway marina diablo bulldog qwer1234 compaq purple hardcore
    banana junior hannah 123654 porsche lakers iceman money cowboys 987654 london tennis 999999
    ncc1701 coffee scooby 0000 miller boston q1w2e3r4 brandon yamaha chester mother forever johnny
    edward 333333 oliver redsox player nikita knight fender barney midnight please brandy chicago
    badboy slayer rangers charles angel flower bigdaddy rabbit wizard bigdick jasper enter rachel
    chris steven winner adidas victoria natasha 1q2w3e4r jasmine winter prince panties marine ghbdtn
    fishing cocacola casper james 232323 raiders 888888 marlboro gandalf asdfasdf crystal 87654321
    12344321 golden 8675309 sexsex alexander qwerty123 iloveyou admin administrator root toor
    changeme default guest login welcome1 passw0rd password1 abcd1234 sunshine football1 baseball1
    superman1 azerty qwertz trustno1 letmein1 lovely 000000 11111111 1111 aa123456 donald zaq12wsx
    qazwsxedc 1qazxsw2 asdf1234 asdfghjkl zaq1zaq1 google linkedin facebook twitter instagram
    solidworks autocad catia fusion360 freecad jupyter jupyterhub brepflow cadquery openscad
    engineer engineering design designer company spring autumn fall january february march april may
    june july august september october november december monday tuesday wednesday thursday friday
    saturday sunday
"""
COMMON_PASSWORDS = frozenset(_COMMON_WORDS.split())

_LEET = str.maketrans({"@": "a", "4": "a", "0": "o", "1": "i", "!": "i", "3": "e", "$": "s", "5": "s", "7": "t"})


def _password_bases(password: str) -> set[str]:
    low = password.lower()
    stripped = re.sub(r"[\d\W_]+$", "", low)
    return {low, stripped, low.translate(_LEET), stripped.translate(_LEET), re.sub(r"^[\d\W_]+", "", stripped)}


def _is_trivial(password: str) -> bool:
    if len(set(password)) <= 2:
        return True
    low = password.lower()
    for run in (
        "0123456789012345678901234567890",
        "abcdefghijklmnopqrstuvwxyzabcdefghijklmnop",
        "qwertyuiopasdfghjklzxcvbnm",
    ):
        if low in run or low in run[::-1]:
            return True
    return False


def check_password(
    username: str,
    password: str,
    *,
    min_length: int = 10,
    check_common: bool = True,
    extra_common: Iterable[str] = (),
) -> list[str]:
    """Every reason ``password`` is refused for ``username`` (empty list: acceptable)."""
    problems: list[str] = []
    if len(password) < min_length:
        problems.append(f"the password must have at least {min_length} characters (it has {len(password)})")
    name = username.lower()
    low = password.lower()
    if name and (low == name or name in low or low in (name[::-1],)):
        problems.append("the password must not be or contain the user name")
    if check_common:
        bases = _password_bases(password)
        extra = extra_common if isinstance(extra_common, (set, frozenset)) else set(extra_common)
        if any(b in COMMON_PASSWORDS or b in extra for b in bases if b) or _is_trivial(password):
            problems.append("the password is too common or too simple (e.g. a dictionary word with digits added)")
    return problems


_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, maxmem=64 * 1024 * 1024, **_SCRYPT)
    b64 = base64.b64encode
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${b64(salt).decode()}${b64(digest).decode()}"


_DUMMY_HASH = hash_password(secrets.token_hex(16))


def verify_password(password: str, stored: str) -> bool:
    try:
        algo, n, r, p, salt, digest = stored.split("$")
        if algo != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
            maxmem=64 * 1024 * 1024,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


# -- the account table ---------------------------------------------------------------------------

_metadata = sa.MetaData()
accounts_table = sa.Table(
    "brepflow_accounts",
    _metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # pending, approved, rejected
    sa.Column("requested_teams", sa.Text, nullable=False, default="[]"),
    sa.Column("message", sa.Text, nullable=False, default=""),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("decided", sa.Float, nullable=True),
    sa.Column("decided_by", sa.String(64), nullable=True),
    sa.Column("failed_logins", sa.Integer, nullable=False, default=0),
    sa.Column("locked_until", sa.Float, nullable=False, default=0.0),
    sa.Column("last_login", sa.Float, nullable=True),
    # the role asked for at sign-up ('' before this column existed); the admin decides
    sa.Column("requested_role", sa.String(16), nullable=False, default="", server_default=""),
)


@dataclass
class Account:
    name: str
    password_hash: str
    status: str
    requested_teams: list[str]
    message: str
    created: float
    decided: float | None
    decided_by: str | None
    failed_logins: int
    locked_until: float
    last_login: float | None
    requested_role: str = ""

    def locked(self, now: float | None = None) -> bool:
        return self.locked_until > (now if now is not None else time.time())

    def public(self) -> dict[str, Any]:
        data = {k: v for k, v in vars(self).items() if k != "password_hash"}
        data["locked"] = self.locked()
        return data


class AccountStore:
    """Local accounts in ``brepflow_accounts`` of the hub database (SQLite or any SQLAlchemy URL)."""

    def __init__(self, db_url: str) -> None:
        if not db_url:
            raise ValueError("AccountStore needs the hub's database URL")
        kwargs: dict[str, Any] = {}
        if db_url.startswith("sqlite"):
            kwargs["connect_args"] = {"timeout": 30}
            from brepflow_lab.hub.private import private_file, sqlite_file

            path = sqlite_file(db_url)
            if path is not None:
                # password hashes: a private folder when we make it, a 0600 file whatever made it
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                private_file(path)
        self.engine = sa.create_engine(db_url, **kwargs)
        _metadata.create_all(self.engine)
        self._add_missing_columns()

    def _add_missing_columns(self) -> None:
        """Tables made by an older version lack newer columns (a restored backup, an upgrade)."""
        present = {c["name"] for c in sa.inspect(self.engine).get_columns(accounts_table.name)}
        if "requested_role" not in present:
            with self.engine.begin() as conn:
                conn.execute(
                    sa.text(
                        f"ALTER TABLE {accounts_table.name} ADD COLUMN requested_role VARCHAR(16) NOT NULL DEFAULT ''"
                    )
                )

    @staticmethod
    def _account(row: Any) -> Account:
        data = dict(row._mapping)
        data["requested_teams"] = json.loads(data.get("requested_teams") or "[]")
        return Account(**data)

    def get(self, name: str) -> Account | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(accounts_table).where(accounts_table.c.name == name)).first()
        return self._account(row) if row is not None else None

    def list(self, status: str | None = None) -> list[Account]:
        query = sa.select(accounts_table).order_by(accounts_table.c.created)
        if status is not None:
            query = query.where(accounts_table.c.status == status)
        with self.engine.connect() as conn:
            return [self._account(r) for r in conn.execute(query)]

    def create(
        self,
        name: str,
        password: str,
        *,
        status: str = "pending",
        teams: Iterable[str] = (),
        message: str = "",
        role: str = "",
    ) -> Account:
        values = {
            "requested_role": role,
            "name": name,
            "password_hash": hash_password(password),
            "status": status,
            "requested_teams": json.dumps(sorted(set(teams))),
            "message": message,
            "created": time.time(),
            "failed_logins": 0,
            "locked_until": 0.0,
        }
        with self.engine.begin() as conn:
            conn.execute(sa.insert(accounts_table).values(**values))
        account = self.get(name)
        assert account is not None
        return account

    def update(self, name: str, **values: Any) -> None:
        if "password" in values:
            values["password_hash"] = hash_password(values.pop("password"))
        if "requested_teams" in values:
            values["requested_teams"] = json.dumps(sorted(set(values["requested_teams"])))
        with self.engine.begin() as conn:
            conn.execute(sa.update(accounts_table).where(accounts_table.c.name == name).values(**values))

    def set_password(self, name: str, password: str, *, status: str = "approved", by: str | None = None) -> Account:
        """Create or reset an account with ``password`` (the bootstrap path: ``brepflow-lab hub passwd``)."""
        if self.get(name) is None:
            self.create(name, password, status=status)
            self.update(name, decided=time.time(), decided_by=by)
        else:
            self.update(name, password=password, status=status, failed_logins=0, locked_until=0.0)
        account = self.get(name)
        assert account is not None
        return account

    def delete(self, name: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.delete(accounts_table).where(accounts_table.c.name == name))

    def record_failure(self, name: str, max_failed: int, lockout_seconds: float) -> tuple[int, bool]:
        """One more failed login; returns (failures in a row, whether this locked the account)."""
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(accounts_table.c.failed_logins).where(accounts_table.c.name == name)).first()
            if row is None:
                return 0, False
            failures = int(row[0]) + 1
            values: dict[str, Any] = {"failed_logins": failures}
            locks = failures >= max_failed
            if locks:
                values["locked_until"] = time.time() + lockout_seconds
                values["failed_logins"] = 0
            conn.execute(sa.update(accounts_table).where(accounts_table.c.name == name).values(**values))
        return failures, locks

    def dispose(self) -> None:
        self.engine.dispose()
