"""Login attempts, reserved in the database before a password is checked.

Every try at the login form first takes a reservation here, in one transaction, and only a
granted reservation may spend an Argon2 check. Two counters bound the guessing:

* per address (``a:<address>``): at most ``address_limit`` tries in a window, whatever the names;
* per account name typed from an address (``u:<address> <name>``): the first ``free_failures``
  wrong passwords cost nothing, then each one delays the next try (``first_delay``, doubling up to
  ``max_delay``). A stranger elsewhere cannot lock the account out: the delay binds their address
  only. Unknown names are counted exactly like real ones, so the answers never reveal an account.

A reservation is a compare-and-set on the row it read (SQLite takes the write lock at BEGIN;
PostgreSQL re-checks the WHERE after a concurrent update), so a burst of simultaneous tries gets
no more than the configured number through. Rows expire on their own and are swept on the way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from content_queue.tables import login_attempts

__all__ = ["LoginAttempts", "LoginRules", "Reservation"]

_T = login_attempts


@dataclass(frozen=True)
class LoginRules:
    address_limit: int = 20
    address_window: timedelta = timedelta(minutes=15)
    free_failures: int = 5
    first_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(minutes=15)
    forget_after: timedelta = timedelta(hours=1)

    def delay(self, failures: int) -> timedelta:
        """The wait after ``failures`` wrong passwords in a row (0 while under the free count)."""
        if failures < self.free_failures:
            return timedelta(0)
        steps = min(failures - self.free_failures, 30)
        return min(self.first_delay * (2**steps), self.max_delay)


@dataclass(frozen=True)
class Reservation:
    """A granted try (``granted``), or why not: ``refused`` is "address", "account" or "busy"."""

    granted: bool
    refused: str = ""
    retry_after: float = 0.0
    address_key: str = ""
    account_key: str = ""
    account_tries: int = 0  # the account's count this reservation wrote


class _Conflict(Exception):
    """Another try changed the row between our read and our write: start over."""


class LoginAttempts:
    """Reservations of login tries (``store.login_attempts``)."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def reserve(
        self, address: str, name: str, rules: LoginRules, now: datetime | None = None
    ) -> Reservation:
        """A try for ``name`` from ``address``, counted before the password is looked at."""
        now = now or datetime.now(UTC)
        akey = f"a:{address}"[:200]
        ukey = f"u:{address} {name}"[:200]
        for _ in range(5):
            try:
                with self.engine.begin() as conn:
                    return self._reserve(conn, akey, ukey, rules, now)
            except (_Conflict, IntegrityError):
                continue
            except OperationalError:  # a serialisation failure or a lock timeout: busy
                break
        return Reservation(False, "busy", 1.0, akey, ukey)

    def _reserve(
        self, conn: Connection, akey: str, ukey: str, rules: LoginRules, now: datetime
    ) -> Reservation:
        rows = {r.key: r for r in conn.execute(sa.select(_T).where(_T.c.key.in_([akey, ukey])))}
        a, u = rows.get(akey), rows.get(ukey)
        if a is not None and a.expires_at > now and a.tries >= rules.address_limit:
            wait = (a.expires_at - now).total_seconds()
            return Reservation(False, "address", wait, akey, ukey)
        if u is not None and u.expires_at > now and u.next_at > now:
            wait = (u.next_at - now).total_seconds()
            return Reservation(False, "account", wait, akey, ukey)
        if a is None or a.expires_at <= now:
            a_values = {"tries": 1, "window_start": now, "next_at": now}
            a_values["expires_at"] = now + rules.address_window
        else:
            a_values = {"tries": a.tries + 1}
        failures = u.tries + 1 if u is not None and u.expires_at > now else 1
        next_at = now + rules.delay(failures)
        u_values = {
            "tries": failures,
            "window_start": now,
            "next_at": next_at,
            "expires_at": next_at + rules.forget_after,
        }
        self._write(conn, akey, a, a_values, now)
        self._write(conn, ukey, u, u_values, now)
        return Reservation(True, "", 0.0, akey, ukey, failures)

    @staticmethod
    def _write(conn: Connection, key: str, old: Any, values: dict[str, Any], now: datetime) -> None:
        if old is None:
            conn.execute(_T.delete().where(_T.c.expires_at < now))  # sweep on the way
            conn.execute(_T.insert().values(key=key, **values))
            return
        done = conn.execute(
            _T.update()
            .where(
                _T.c.key == key,
                _T.c.tries == old.tries,
                _T.c.window_start == old.window_start,
                _T.c.next_at == old.next_at,
            )
            .values(**values)
        )
        if done.rowcount != 1:
            raise _Conflict

    def succeeded(self, reservation: Reservation) -> None:
        """The password was right: the try is given back to the address, and the account's wrong
        passwords from there are forgotten unless other tries were reserved meanwhile (a burst
        with the right password in it gets no fresh allowance of guesses)."""
        with self.engine.begin() as conn:
            conn.execute(
                _T.update()
                .where(_T.c.key == reservation.address_key, _T.c.tries > 0)
                .values(tries=_T.c.tries - 1)
            )
            conn.execute(
                _T.delete().where(
                    _T.c.key == reservation.account_key,
                    _T.c.tries == reservation.account_tries,
                )
            )

    def sweep(self, now: datetime | None = None) -> int:
        """Forget expired rows; how many went."""
        with self.engine.begin() as conn:
            done = conn.execute(_T.delete().where(_T.c.expires_at < (now or datetime.now(UTC))))
        return int(done.rowcount or 0)

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(_T)).scalar_one())
