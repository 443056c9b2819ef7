"""Durable storage of a channel's rotating credentials in ``channel_state``, with a cross-process lock.

:class:`DbTokenStore` implements :class:`channels.base.TokenStore`: ``load`` reads the
``credentials`` of the channel's row, ``save`` merges values into it and commits at once in its
own transaction, and ``locked`` serialises refreshes across every process sharing the database —
``pg_advisory_lock`` on a dedicated connection on PostgreSQL, ``fcntl.flock`` on a file beside the
database on SQLite. Nothing here logs a credential value.

At rest the row is encrypted (:mod:`content_queue.credential_cipher`, key ``LOA_SECRET_KEY``); a
plaintext row left by an older version is read as it is and encrypted on its next save (or by
:func:`reseal_credentials`, behind ``loa secrets rotate``). Saving without a key is refused: a
credential is never written in clear. Every value loaded or saved is remembered in
:func:`handled_secret_values`, so the log formatter can mask tokens that never were in the
configuration.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from content_queue.credential_cipher import (
    ENV_VAR,
    CredentialCipher,
    SecretKeyError,
    is_encrypted,
)
from content_queue.db import is_postgres, reader
from content_queue.store_core import StoreCore
from content_queue.tables import channel_state

__all__ = ["DbTokenStore", "Tokens", "advisory_key", "handled_secret_values"]

log = logging.getLogger(__name__)

# First half of the two-key advisory lock: a namespace of Loa's credential locks ("LoaT"), so the
# per-channel keys never collide with other advisory locks (e.g. the migration lock).
_LOCK_NAMESPACE = 0x4C6F6154
_memory_locks: dict[str, threading.Lock] = {}
# Secret values this process has read from or written to the database (for log masking), oldest
# first; a long-running process keeps the newest _MAX_HANDLED (rotated tokens come ~daily).
_handled: dict[str, None] = {}
_handled_lock = threading.Lock()
_MAX_HANDLED = 1000
# Shorter strings (ids, flags) are not worth masking and would mask ordinary words.
_MIN_SECRET_LENGTH = 8


def handled_secret_values() -> frozenset[str]:
    """Every credential string this process loaded or saved (tokens, not timestamps or ids)."""
    with _handled_lock:
        return frozenset(_handled)


def _remember(values: dict[str, Any]) -> None:
    found = [v.strip() for v in _strings(values) if len(v.strip()) >= _MIN_SECRET_LENGTH]
    if found:
        with _handled_lock:
            for value in found:
                _handled.pop(value, None)
                _handled[value] = None
            while len(_handled) > _MAX_HANDLED:
                del _handled[next(iter(_handled))]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    return []


def _credentials_only(values: dict[str, Any]) -> dict[str, Any]:
    """Values worth masking: skip timestamps and numbers stored beside the tokens."""
    return {k: v for k, v in values.items() if not k.endswith(("_at", "_in", "_id", "_version"))}


def advisory_key(name: str) -> int:
    """A stable signed 32-bit key for ``name`` (``schema.channel``; CRC-32 of it)."""
    value = zlib.crc32(name.encode("utf-8"))
    return value - (1 << 32) if value >= (1 << 31) else value


def _as_datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    parsed = datetime.fromisoformat(str(value))
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


class DbTokenStore:
    """Credentials of channel ``channel_name`` kept encrypted in ``channel_state.credentials``.

    ``cipher`` is the key of the configuration (``Loa`` passes the one from settings and
    ``.env``); without one, ``LOA_SECRET_KEY`` is read from the process environment.
    """

    def __init__(self, engine: Engine, channel_name: str, cipher: CredentialCipher | None = None):
        self.engine = engine
        self._reader = reader(engine)
        self.channel = channel_name
        self._cipher = cipher

    def _key(self, required: bool) -> CredentialCipher | None:
        cipher = self._cipher or CredentialCipher.from_environment()
        if cipher is None and required:
            raise SecretKeyError(
                f"Thiếu khóa mã hóa {ENV_VAR}: không thể lưu hay đọc thông tin "
                f"đăng nhập của kênh {self.channel}. Chạy `loa init` trong thư "
                "mục cấu hình để tạo khóa vào .env."
            )
        return cipher

    def _open(self, stored: Any) -> dict[str, Any]:
        stored = dict(stored or {})
        if not stored:
            return {}
        cipher = self._key(required=is_encrypted(stored))
        values = cipher.open(stored, self.channel) if cipher else stored
        _remember(_credentials_only(values))
        return values

    def __repr__(self) -> str:  # never show the credentials
        return f"DbTokenStore({self.engine.url.render_as_string(hide_password=True)!r}, {self.channel!r})"

    def load(self) -> dict[str, Any]:
        """The stored credentials ({} when the channel has none yet)."""
        with self._reader.connect() as conn:
            value = conn.execute(
                sa.select(channel_state.c.credentials).where(
                    channel_state.c.channel == self.channel
                )
            ).scalar_one_or_none()
        return self._open(value)

    def save(self, values: dict[str, Any]) -> None:
        """Merge ``values`` into the credentials and commit before returning.

        A key whose value is ``None`` is removed. ``access_expires_at`` (a datetime or ISO string)
        also sets the ``token_expires_at`` column, which health checks and alerts read.
        """
        cipher = self._key(required=True)
        assert cipher is not None
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            insert = (postgresql.insert if is_postgres(conn) else sqlite.insert)(channel_state)
            conn.execute(
                insert.values(
                    channel=self.channel, credentials={}, updated_at=now
                ).on_conflict_do_nothing(index_elements=["channel"])
            )
            current: Any = conn.execute(
                sa.select(channel_state.c.credentials)
                .where(channel_state.c.channel == self.channel)
                .with_for_update()
            ).scalar_one()
            merged = self._open(current)
            for key, value in values.items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value.isoformat() if isinstance(value, datetime) else value
            _remember(_credentials_only(merged))
            changes: dict[str, Any] = {"credentials": cipher.seal(merged), "updated_at": now}
            if "access_expires_at" in values:
                changes["token_expires_at"] = _as_datetime(values["access_expires_at"])
            conn.execute(
                sa.update(channel_state)
                .where(channel_state.c.channel == self.channel)
                .values(**changes)
            )
        log.debug("stored credentials of channel %s (keys: %s)", self.channel, sorted(values))

    def locked(self) -> contextlib.AbstractContextManager[None]:
        """A context manager held by one process (and one thread) at a time for this channel."""
        if is_postgres(self.engine):
            return self._advisory_lock()
        return self._file_lock()

    @contextlib.contextmanager
    def _advisory_lock(self) -> Iterator[None]:
        # Session-level lock on its own connection: it outlives the short transactions of
        # load/save, and PostgreSQL releases it if this process dies (its connection closes).
        # Advisory locks are per database: the key includes the schema, so two Loa instances
        # (or test runs) in separate schemas of one database do not wait for each other.
        with self.engine.connect() as conn:
            schema: Any = conn.execute(sa.text("SELECT current_schema()")).scalar_one()
            key = {"ns": _LOCK_NAMESPACE, "k": advisory_key(f"{schema}.{self.channel}")}
            conn.execute(sa.text("SELECT pg_advisory_lock(:ns, :k)"), key)
            conn.commit()
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:ns, :k)"), key)
                conn.commit()

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        database = self.engine.url.database
        if not database or database == ":memory:":
            # An in-memory database lives in one process: a process-wide lock is enough.
            lock = _memory_locks.setdefault(self.channel, threading.Lock())
            with lock:
                yield
            return
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in self.channel)
        path = Path(f"{database}.{safe}.lock")
        # A new open file description per call: flock then excludes other threads too. The
        # kernel drops the lock when the process dies, so a crash never leaves it held.
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


class Tokens(StoreCore):
    """The channels' stored credentials (``store.tokens``): one :class:`DbTokenStore` a channel."""

    def of(self, channel_name: str, cipher: CredentialCipher | None = None) -> DbTokenStore:
        """The credentials of ``channel_name``, sealed with ``cipher``."""
        return DbTokenStore(self.engine, channel_name, cipher)

    def reseal_credentials(self, cipher: CredentialCipher) -> list[str]:
        """Encrypt every stored row with the cipher's first key; returns the channels rewritten.

        Plaintext rows of older versions and rows under an older key are rewritten; a row no
        configured key opens raises :class:`SecretKeyError` and nothing is changed.
        """
        rewritten: list[str] = []
        with self.tx() as conn:
            rows: list[Any] = list(
                conn.execute(
                    sa.select(
                        channel_state.c.channel, channel_state.c.credentials
                    ).with_for_update()
                )
            )
            for channel, stored in rows:
                stored = dict(stored or {})
                if not cipher.needs_rotation(stored):
                    continue
                values = cipher.open(stored, channel)
                conn.execute(
                    sa.update(channel_state)
                    .where(channel_state.c.channel == channel)
                    .values(credentials=cipher.seal(values))
                )
                rewritten.append(channel)
        if rewritten:
            log.info("re-encrypted the stored credentials of %s", ", ".join(rewritten))
        return rewritten
