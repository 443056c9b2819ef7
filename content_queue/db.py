"""Database engines for SQLite and PostgreSQL, and automatic migrations on start."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection, Engine

__all__ = [
    "create_engine_for",
    "is_postgres",
    "migrate",
    "open_database",
    "normalise_url",
    "reader",
]

log = logging.getLogger(__name__)

_MIGRATIONS = Path(__file__).with_name("migrations")
# Execution option of connections that only read: on SQLite they begin a deferred transaction
# (a WAL snapshot that never waits for the writer) instead of taking the write lock.
_READ_ONLY = "loa_read_only"
# An arbitrary constant: the PostgreSQL advisory lock that serialises concurrent migrations.
_MIGRATION_LOCK = 0x10A0001


def normalise_url(url: str, base_dir: Path | None = None) -> str:
    """``postgresql://`` → psycopg 3 driver; a relative SQLite path is taken beside ``base_dir``."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////") and base_dir is not None:
        rel = url.removeprefix("sqlite:///")
        if rel and rel != ":memory:":
            return "sqlite:///" + str((base_dir / rel).resolve())
    return url


def is_postgres(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "postgresql"


def reader(engine: Engine) -> Engine:
    """``engine`` for connections that only read (see _READ_ONLY)."""
    return engine.execution_options(**{_READ_ONLY: True})


def _private_sqlite_file(url: str) -> None:
    """Create the SQLite file readable by its owner only (0600), and tighten existing ones.

    SQLite gives the ``-wal`` and ``-shm`` files the database file's mode, so they follow; files
    left by an older version (created 0644) are tightened too.
    """
    database = sa.engine.make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.parent.is_dir():
        return  # SQLite reports the missing folder itself
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            candidate = Path(f"{database}{suffix}")
            if candidate.stat().st_mode & 0o077:
                candidate.chmod(0o600)


def create_engine_for(
    url: str, base_dir: Path | None = None, *, busy_timeout_ms: int = 30000
) -> Engine:
    """An engine with the project's connection settings (SQLite: WAL, foreign keys, one writer;
    ``busy_timeout_ms``: how long a write waits for another's lock before failing)."""
    url = normalise_url(url, base_dir)
    if url.startswith("sqlite"):
        _private_sqlite_file(url)
        engine = sa.create_engine(
            url, connect_args={"timeout": busy_timeout_ms / 1000, "check_same_thread": False}
        )

        @sa.event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # type: ignore[no-untyped-def]
            # One writer at a time: a transaction that may write takes the write lock at BEGIN,
            # so two never deadlock upgrading a read lock and a claim is atomic across processes.
            # Readers (reader()) read a snapshot without queueing behind writers.
            read_only = conn.get_execution_options().get(_READ_ONLY)
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    if not is_postgres(engine):
        yield
        return
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": _MIGRATION_LOCK})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": _MIGRATION_LOCK})
            conn.commit()


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest version (safe to call from several processes at once)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.attributes["engine"] = engine
    with _migration_lock(engine):
        command.upgrade(cfg, "head")


def open_database(url: str, base_dir: Path | None = None) -> Engine:
    """An engine whose schema is migrated to the newest version."""
    engine = create_engine_for(url, base_dir)
    migrate(engine)
    return engine
