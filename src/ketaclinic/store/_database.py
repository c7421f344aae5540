"""Connections: one writer and read-only readers on SQLite, a checked pool on PostgreSQL.

SQLite and the WAL-reset bug
----------------------------
SQLite 3.7.0 to 3.51.2 can corrupt a WAL-mode database when two connections write or
checkpoint at the same moment (the "WAL-reset bug", https://sqlite.org/wal.html#walresetbug,
fixed in 3.51.3). Python's ``sqlite3`` here links SQLite 3.40.1. The packages that bring their
own SQLite do not help yet: ``sqlean.py`` (3.50.4) and ``pysqlite3-binary`` (3.51.1) bundle
affected versions, and ``apsw`` (3.54.1) has a fixed SQLite but no DB-API that SQLAlchemy can
drive. So ketaclinic removes the precondition of the bug instead: **one connection does every
write and every checkpoint.**

- The writer is the only read-write connection to the file, machine-wide: a process opens it
  only while holding an exclusive ``flock`` on ``<database>.writer-lock`` (released by the
  kernel if the process dies), and its pool holds exactly one connection, lent to one
  transaction at a time (``BEGIN IMMEDIATE``). Automatic checkpoints run in the connection that
  commits, which is always the writer.
- Every other connection is opened read-only (``mode=ro``). SQLite never checkpoints from a
  read-only connection, not even when it is the last to close (it cannot take the write lock
  on a file it opened read-only), and an authorizer refuses any statement that writes and the
  ``wal_checkpoint`` pragma, so a reader cannot be asked to.

When the linked SQLite is 3.51.3 or newer the same rules stay in force (they cost little) and
``protection`` says that the library is fixed as well. Durability: WAL with
``synchronous=FULL`` (every commit is fsynced), foreign keys on, a busy timeout.

PostgreSQL
----------
At start-up the server must have ``fsync``, ``full_page_writes`` and ``synchronous_commit``
on (any level but ``off``); otherwise :class:`StorageError` names the setting and the store
refuses to start, because a commit that returned could otherwise be lost in a crash.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, QueuePool, create_engine, event, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ketaclinic.config import Settings
from ketaclinic.errors import ConfigurationError, StorageError

__all__ = [
    "FIXED_SQLITE",
    "Database",
    "SQLiteProtection",
    "open_database",
    "sqlite_protection",
]

#: The first SQLite release without the WAL-reset bug (https://sqlite.org/wal.html#walresetbug).
FIXED_SQLITE = (3, 51, 3)
_FIRST_AFFECTED = (3, 7, 0)

_PG_DURABILITY = ("fsync", "full_page_writes", "synchronous_commit")


@dataclass(frozen=True)
class SQLiteProtection:
    """Which protection against the WAL-reset bug is active, and why."""

    sqlite_version: str
    library_fixed: bool
    single_writer: bool
    description: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "sqlite_version": self.sqlite_version,
            "library_fixed": self.library_fixed,
            "single_writer": self.single_writer,
            "description": self.description,
        }


def sqlite_protection(version: str = sqlite3.sqlite_version) -> SQLiteProtection:
    """The protection for the SQLite ``version`` linked into this process."""
    numbers = tuple(int(part) for part in version.split(".")[:3])
    fixed = numbers >= FIXED_SQLITE or numbers < _FIRST_AFFECTED
    if fixed:
        text_ = (
            f"SQLite {version} has no WAL-reset bug; single-writer rule kept as well "
            "(one connection writes and checkpoints, readers are read-only)"
        )
    else:
        text_ = (
            f"SQLite {version} has the WAL-reset bug (3.7.0-3.51.2); protected by the "
            "single-writer rule: one connection, under an exclusive file lock, does every "
            "write and checkpoint; every other connection is read-only and never checkpoints"
        )
    return SQLiteProtection(version, fixed, True, text_)


class _WriterLock:
    """An exclusive ``flock`` that makes this process the only SQLite writer of a file."""

    def __init__(self, path: Path, timeout_s: float) -> None:
        self.path = path
        self.timeout_s = timeout_s
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        if self._fd is not None:
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + self.timeout_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise StorageError(
                        f"another process is writing to this database (it holds {self.path}); "
                        "SQLite allows one writer at a time: stop it, or wait and try again"
                    ) from None
                time.sleep(0.02)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


# sqlite3 authorizer codes a read-only connection may use; everything else is refused.
_READ_ACTIONS = frozenset(
    {
        sqlite3.SQLITE_SELECT,
        sqlite3.SQLITE_READ,
        sqlite3.SQLITE_FUNCTION,
        sqlite3.SQLITE_TRANSACTION,
        sqlite3.SQLITE_SAVEPOINT,
        sqlite3.SQLITE_RECURSIVE,
    }
)
# Pragmas that could checkpoint or change the file; refused on readers even to query them
# with an argument.
_WRITING_PRAGMAS = frozenset(
    {"wal_checkpoint", "journal_mode", "wal_autocheckpoint", "incremental_vacuum", "optimize"}
)


def _reader_authorizer(action: int, arg1: str | None, arg2: str | None, *_: object) -> int:
    if action in _READ_ACTIONS:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_PRAGMA:
        name = (arg1 or "").lower()
        if name in _WRITING_PRAGMAS and (arg2 is not None or name == "wal_checkpoint"):
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


class Database:
    """The application's database: transactions for use cases, snapshots for reading.

    Create it with :func:`open_database`. ``transaction()`` is the only way to write;
    ``snapshot()`` gives a consistent read-only view (backups, checks, reports).
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.url: URL = settings.sqlalchemy_url
        self.dialect: str = self.url.get_backend_name()
        self._writer: Engine | None = None
        self._reader: Engine | None = None
        self._lock: _WriterLock | None = None
        if self.dialect == "sqlite":
            path = Path(self.url.database or "")
            if not path.parent.is_dir():
                raise ConfigurationError(
                    f"KETACLINIC_DATABASE_URL={self.url.render_as_string()!r} is not accepted: "
                    f"directory {path.parent} does not exist; accepted: an SQLite file in an "
                    "existing directory"
                )
            path = path.resolve()  # the writer, the readers and the lock agree on one file
            self.sqlite_path: Path | None = path
            #: checked at start-up: which protection against the WAL-reset bug is active
            self.protection: SQLiteProtection | None = sqlite_protection()
            self._lock = _WriterLock(
                Path(f"{path}.writer-lock"), settings.sqlite_busy_timeout_ms / 1000
            )
        else:
            self.sqlite_path = None
            self.protection = None
        self._writer_sessions: sessionmaker[Session] | None = None
        self._reader_sessions: sessionmaker[Session] | None = None

    # -- engines ---------------------------------------------------------------------------
    @property
    def writer_engine(self) -> Engine:
        """The engine that writes (on SQLite: the single writer connection)."""
        if self._writer is None:
            self._writer = (
                self._sqlite_writer() if self.dialect == "sqlite" else self._postgres_engine()
            )
        return self._writer

    @property
    def reader_engine(self) -> Engine:
        """Read-only connections on SQLite; the same pool as the writer on PostgreSQL."""
        if self._reader is None:
            self._reader = self._sqlite_reader() if self.dialect == "sqlite" else self.writer_engine
        return self._reader

    @property
    def holds_writer_lock(self) -> bool:
        return self._lock is not None and self._lock.held

    def _busy_s(self) -> float:
        return self.settings.sqlite_busy_timeout_ms / 1000

    def _sqlite_writer(self) -> Engine:
        assert self._lock is not None
        assert self.sqlite_path is not None
        lock, path, busy_ms = self._lock, self.sqlite_path, self.settings.sqlite_busy_timeout_ms

        def connect() -> sqlite3.Connection:
            lock.acquire()
            conn = sqlite3.connect(
                path, timeout=busy_ms / 1000, isolation_level=None, check_same_thread=False
            )
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode != "wal":
                conn.close()
                raise StorageError(f"SQLite refused WAL mode for {path} (journal mode {mode})")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
            return conn

        engine = create_engine(
            "sqlite+pysqlite://",
            creator=connect,
            poolclass=QueuePool,
            pool_size=1,
            max_overflow=0,
            pool_timeout=self._busy_s(),
        )
        _begin_with(engine, "BEGIN IMMEDIATE")
        return engine

    def _sqlite_reader(self) -> Engine:
        assert self.sqlite_path is not None
        uri = f"file:{self.sqlite_path.resolve()}?mode=ro"
        busy_ms = self.settings.sqlite_busy_timeout_ms

        def connect() -> sqlite3.Connection:
            conn = sqlite3.connect(
                uri, uri=True, timeout=busy_ms / 1000, isolation_level=None, check_same_thread=False
            )
            conn.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
            conn.execute("PRAGMA query_only=ON")
            conn.set_authorizer(_reader_authorizer)
            return conn

        engine = create_engine(
            "sqlite+pysqlite://",
            creator=connect,
            poolclass=QueuePool,
            pool_size=4,
            max_overflow=4,
            pool_timeout=self._busy_s(),
        )
        _begin_with(engine, "BEGIN")
        return engine

    def _postgres_engine(self) -> Engine:
        size = self.settings.pg_pool_size
        return create_engine(self.url, pool_size=size, max_overflow=size, pool_pre_ping=True)

    # -- sessions --------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One write transaction: committed when the block ends, rolled back on an error."""
        if self._writer_sessions is None:
            self._writer_sessions = sessionmaker(self.writer_engine, expire_on_commit=False)
        with _storage_errors(), self._writer_sessions() as session, session.begin():
            yield session

    @contextmanager
    def snapshot(self) -> Iterator[Session]:
        """A read-only transaction that sees one consistent state of the database."""
        if self._reader_sessions is None:
            self._reader_sessions = sessionmaker(self.reader_engine, expire_on_commit=False)
        with _storage_errors(), self._reader_sessions() as session, session.begin():
            if self.dialect == "postgresql":
                session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
            yield session

    def durability(self) -> dict[str, str]:
        """The settings a committed write relies on, as the server reports them."""
        if self.dialect == "sqlite":
            with self.writer_engine.connect() as conn:
                journal = conn.exec_driver_sql("PRAGMA journal_mode").scalar_one()
                sync = conn.exec_driver_sql("PRAGMA synchronous").scalar_one()
                fks = conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one()
                busy = conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one()
                conn.rollback()
            names = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
            return {
                "journal_mode": str(journal),
                "synchronous": names.get(int(sync), str(sync)),
                "foreign_keys": "ON" if int(fks) else "OFF",
                "busy_timeout_ms": str(busy),
            }
        with self.writer_engine.connect() as conn:
            values = {
                name: str(conn.exec_driver_sql(f"SHOW {name}").scalar_one())
                for name in (*_PG_DURABILITY, "data_checksums")
            }
            conn.rollback()
        return values

    def check_durability(self) -> None:
        """Refuse (``StorageError``) when a setting would let a committed write be lost."""
        values = self.durability()
        if self.dialect == "sqlite":
            if values["journal_mode"].lower() != "wal" or values["synchronous"] != "FULL":
                raise StorageError(f"SQLite durability settings are not as required: {values}")
            return
        for name in ("fsync", "full_page_writes"):
            if values[name] != "on":
                raise StorageError(
                    f"PostgreSQL has {name}={values[name]}: a committed write could be lost in "
                    f"a crash; set {name} = on in postgresql.conf and restart the server"
                )
        if values["synchronous_commit"] == "off":
            raise StorageError(
                "PostgreSQL has synchronous_commit=off: a commit that returned could be lost "
                "in a crash; set synchronous_commit = on"
            )

    def disconnect(self) -> None:
        """Close every connection and give up the writer lock, but keep the engines (and
        their compiled-statement caches): the next transaction reconnects. Call it before
        ``os.fork()`` so that parent and child never share a connection or the lock."""
        for engine in {id(e): e for e in (self._writer, self._reader) if e is not None}.values():
            engine.dispose()
        if self._lock is not None:
            self._lock.release()

    def close(self) -> None:
        """Close every connection and give up the SQLite writer lock."""
        for engine in {id(e): e for e in (self._writer, self._reader) if e is not None}.values():
            engine.dispose()
        self._writer = self._reader = None
        self._writer_sessions = self._reader_sessions = None
        if self._lock is not None:
            self._lock.release()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Database({self.url.render_as_string(hide_password=True)!r})"


def _begin_with(engine: Engine, statement: str) -> None:
    """Let SQLAlchemy, not the driver, start SQLite transactions, with ``statement``."""

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql(statement)


@contextmanager
def _storage_errors() -> Iterator[None]:
    try:
        yield
    except OperationalError as exc:
        message = str(exc.orig) if exc.orig is not None else str(exc)
        if "locked" in message or "busy" in message:
            raise StorageError(
                f"the database stayed locked longer than the busy timeout ({message}); "
                "try again, or raise KETACLINIC_SQLITE_BUSY_TIMEOUT_MS"
            ) from exc
        raise


def open_database(settings: Settings, *, check: bool = True) -> Database:
    """Open the database the settings name; with ``check``, refuse unsafe durability.

    On SQLite nothing is opened yet (the writer lock is taken by the first write, so that
    read-only commands can run beside a running application); the connection settings are
    ours and applied to every connection. PostgreSQL is connected to and checked at once; one
    that cannot be reached is a configuration error naming ``KETACLINIC_DATABASE_URL``.
    """
    db = Database(settings)
    if not check or db.dialect == "sqlite":
        return db
    try:
        db.check_durability()
    except OperationalError as exc:
        db.close()
        raise ConfigurationError(
            f"KETACLINIC_DATABASE_URL={db.url.render_as_string(hide_password=True)!r} cannot be "
            f"reached: {str(exc.orig).strip().splitlines()[0] if exc.orig else exc}"
        ) from None
    except BaseException:
        db.close()
        raise
    return db
