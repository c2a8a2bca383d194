"""Opening the database so concurrent writers stay correct: the engine per dialect, the lock that
serialises appends to the audit log's hash chain, and a private SQLite file (5c)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import Session


def first_line(exc: BaseException) -> str:
    """The driver's own reason ("connection refused", "unable to open database file"), without SQL."""
    orig = getattr(exc, "orig", None) or exc
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0][:300]


_HOLDS_WRITE_LOCK = "childguard_write_lock"
SQLITE_BUSY_TIMEOUT_S = 30

# an arbitrary 64-bit constant naming the audit chain's advisory lock on PostgreSQL
AUDIT_CHAIN_LOCK = 0x6367_6175_6469_7401


def _lock_chain_postgresql(s: Session) -> None:
    """Held until the transaction ends, so the head read next and the entry appended after it cannot
    interleave with another writer's: the chain neither forks nor loses entries."""
    s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": AUDIT_CHAIN_LOCK})


# dialect -> how an audit append takes the chain head; SQLite needs nothing here because every SQLite
# transaction already starts with BEGIN IMMEDIATE (see `serialise_sqlite_writes`)
CHAIN_LOCKS = {"postgresql": _lock_chain_postgresql}


def serialise_sqlite_writes(engine: Engine) -> None:
    """pysqlite starts transactions lazily, at the first write, after the audit head was already read,
    so two writers could append to the same head. Here every transaction starts with BEGIN IMMEDIATE,
    which takes SQLite's single write lock at once (another process waits for it: busy timeout), and
    threads of this process queue on an in-process lock first, held until COMMIT or ROLLBACK has run,
    so they wait in line instead of in SQLite's sleep-and-retry busy loop."""
    lock = threading.Lock()

    def release(info: dict[Any, Any]) -> None:
        if info.pop(_HOLDS_WRITE_LOCK, False):
            lock.release()

    def finish(conn: Connection, statement: str) -> None:
        try:
            raw = conn.connection.dbapi_connection
            if raw is not None and raw.in_transaction:
                raw.execute(statement)
        finally:
            release(conn.info)

    @event.listens_for(engine, "connect")
    def _autocommit_driver(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself, below

    @event.listens_for(engine, "begin")
    def _begin_immediate(conn: Connection) -> None:
        if not lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_S):  # like SQLite's own busy timeout, never a hang
            raise sqlite3.OperationalError("database is locked: another writer of this process held it "
                                           f"for over {SQLITE_BUSY_TIMEOUT_S} s")
        conn.info[_HOLDS_WRITE_LOCK] = True
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            release(conn.info)
            raise

    @event.listens_for(engine, "commit")
    def _commit(conn: Connection) -> None:
        finish(conn, "COMMIT")  # the driver's own commit() then finds nothing left to do

    @event.listens_for(engine, "rollback")
    def _rollback(conn: Connection) -> None:
        finish(conn, "ROLLBACK")

    @event.listens_for(engine, "checkin")
    def _checkin(dbapi_connection: Any, record: Any) -> None:
        release(record.info)  # a connection never leaves the lock held behind it


def create_private_file(path: Path) -> None:
    """The database holds children's (sealed) excerpts and moderators' accounts: readable by the service
    user only (5c). SQLite gives its journal files the database file's mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def open_engine(url: str) -> Engine:
    sa_url = make_url(url)
    sqlite = sa_url.drivername.startswith("sqlite")
    if sqlite and sa_url.database not in (None, "", ":memory:") and not sa_url.database.startswith("file:"):
        create_private_file(Path(sa_url.database))
    connect_args: dict[str, Any] = {"timeout": SQLITE_BUSY_TIMEOUT_S} if sqlite else {}
    if sa_url.drivername.startswith("postgresql") and "connect_timeout" not in sa_url.query:
        # a dead host fails start-up in seconds, and a database that does not answer a new connection is
        # treated as down (escalations are spooled meanwhile) instead of holding a thread for the TCP timeout
        connect_args["connect_timeout"] = 5
    engine = create_engine(url, future=True, pool_pre_ping=True, connect_args=connect_args)
    if sqlite:
        serialise_sqlite_writes(engine)
    return engine
