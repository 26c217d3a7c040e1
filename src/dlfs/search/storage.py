"""Where a study's trials live: storage URLs built and shown safely, the claim lock, retries.

A storage is an SQLite file (the default, out/search.db) or a PostgreSQL database. Its URL is
built by SQLAlchemy, so folder names with ``?``, ``%`` or spaces stay part of the path, and it is
only ever shown with its password masked (``mask``). Every wait here has a deadline.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import re
import time
from pathlib import Path

from dlfs._said import Said
from dlfs.search.config import SearchConfig


class SearchError(Said, RuntimeError):
    """A search that cannot go on: a wait past its deadline, a storage gone, dead workers.
    The message names what it waited for or what failed, with passwords masked; said through
    the catalogue (``SearchError(key=…, **fields)``) or a fixed line (``SearchError(text)``)."""


def default_storage(out) -> str:
    """The SQLite storage URL of a search whose output folder is ``out``: out/search.db."""
    from sqlalchemy.engine import URL

    path = Path(out).resolve() / "search.db"
    return URL.create("sqlite", database=str(path)).render_as_string(hide_password=False)


def parse(url: str):
    """The SQLAlchemy URL of ``url``; a ValueError (password masked) for anything but
    sqlite:///PATH or postgresql://…, whose locks keep the trial count exact across workers."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        parsed = None
    if parsed is None or parsed.get_backend_name() not in ("sqlite", "postgresql") or (
            parsed.get_backend_name() == "sqlite" and not parsed.database):
        raise ValueError(f"storage {mask(url)!r}: use sqlite:///PATH or postgresql://USER@HOST/DB, "
                         "whose locks keep the trial count exact across workers")
    return parsed


def mask(url: str) -> str:
    """``url`` with its password, if any, shown as ***."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy reads: hide whatever sits between user: and @
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", str(url))


def scrub(text: str, url: str) -> str:
    """``text`` (an error message) with the password of ``url`` replaced by ***."""
    from sqlalchemy.engine import make_url

    text = str(text).replace(url, mask(url))
    try:
        password = make_url(url).password
    except Exception:
        return text
    if password:
        from urllib.parse import quote

        for form in {password, quote(password, safe="")}:
            text = text.replace(form, "***")
    return text


def rdb_storage(url: str, config: SearchConfig, durable: bool = True):
    """Optuna's RDBStorage on ``url``, with heartbeats and stale trials re-queued.

    ``durable=False`` (SQLite only) does not wait for the disk at each commit (PRAGMA
    synchronous = OFF): a killed process still loses nothing, a crash of the whole machine may
    lose the last trials. For a study thrown away after its run (the lab's).
    """
    import optuna

    sqlite = parse(url).get_backend_name() == "sqlite"
    engine_kwargs = ({"connect_args": {"timeout": config.wait_timeout}} if sqlite
                     else {"connect_args": {"connect_timeout": 10}, "pool_pre_ping": True})
    storage = optuna.storages.RDBStorage(
        url, engine_kwargs=engine_kwargs, heartbeat_interval=config.heartbeat_interval,
        grace_period=config.grace_period,
        heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(
            max_retry=3))
    if not durable and sqlite:
        import sqlalchemy

        sqlalchemy.event.listen(storage.engine, "connect", _without_waiting_for_the_disk)
        storage.engine.dispose()  # the connections made so far waited; the next ones do not
    return storage


def _without_waiting_for_the_disk(connection, record) -> None:
    connection.execute("PRAGMA synchronous = OFF")


def _lock_key(study_name: str) -> int:
    return int.from_bytes(hashlib.sha256(study_name.encode()).digest()[:8], "big", signed=True)


@contextlib.contextmanager
def claim_lock(url: str, study_name: str, timeout: float, poll: float = 0.05):
    """Serialises 'count the trials, then claim one' across every worker of the study.

    A file lock next to an SQLite file, a PostgreSQL advisory lock; a SearchError after
    ``timeout`` seconds naming the lock, the study and the storage.
    """
    parsed = parse(url)
    deadline = time.monotonic() + timeout

    def too_long():
        if time.monotonic() > deadline:
            raise SearchError(key="said.search_claim_lock", seconds=f"{timeout:g}",
                              study=repr(study_name), storage=mask(url))

    if parsed.get_backend_name() == "sqlite":
        with open(parsed.database + ".lock", "a") as handle:
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as error:
                    if error.errno not in (errno.EAGAIN, errno.EACCES):
                        raise
                too_long()
                time.sleep(poll)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    import sqlalchemy

    key = _lock_key(study_name)
    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool,
                                      connect_args={"connect_timeout": 10})
    try:
        with engine.connect() as connection:
            lock = sqlalchemy.text("SELECT pg_try_advisory_lock(:k)")
            while not connection.execute(lock, {"k": key}).scalar():
                too_long()
                time.sleep(poll)
            try:
                yield
            finally:
                connection.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
    finally:
        engine.dispose()
