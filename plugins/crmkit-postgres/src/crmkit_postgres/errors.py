"""Native psycopg errors translated into crmkit errors (``raise … from exc``)."""

from __future__ import annotations

import psycopg
from psycopg import errors as pg
from psycopg_pool import PoolTimeout

from crmkit.errors import ConflictError, CrmkitError, StoreError


def translate_error(exc: psycopg.Error, path: str) -> CrmkitError:
    """The crmkit error for a native error on the database *path* names.

    * a unique violation → :class:`crmkit.ConflictError` (code ``exists``);
    * a serialization failure or deadlock → :class:`crmkit.ConflictError`
      (code ``store.concurrent``: nothing was saved, try again);
    * a lost connection (server restart, ``pg_terminate_backend``, network)
      → ``store.connection_lost``; no free pooled connection in time or a lock
      wait that timed out → ``store.busy``;
    * a write on a read-only connection or a hot standby → ``store.read_only``;
    * cannot connect, permission denied → ``store.io``;
    * anything else → :class:`crmkit.StoreError` (code ``store``) with the
      server's message.
    """
    text = (str(exc) or type(exc).__name__).strip()
    if isinstance(exc, pg.UniqueViolation):
        diag = exc.diag
        key = diag.message_detail or diag.constraint_name or text
        return ConflictError(code="exists", kind="record", key=key)
    if isinstance(exc, (pg.SerializationFailure, pg.DeadlockDetected)):
        return ConflictError(code="store.concurrent", path=path, detail=text)
    if isinstance(exc, (pg.LockNotAvailable, pg.QueryCanceled, PoolTimeout)):
        return StoreError(code="store.busy", path=path)
    if isinstance(exc, pg.IntegrityError):
        return StoreError(code="store", detail=f"the database refused the change: {text}")
    if isinstance(exc, pg.ReadOnlySqlTransaction):
        return StoreError(code="store.read_only", path=path)
    if isinstance(exc, pg.InsufficientPrivilege):
        return StoreError(code="store.io", path=path, detail=text)
    if isinstance(
        exc, (pg.AdminShutdown, pg.CrashShutdown, pg.ConnectionFailure, pg.ConnectionException)
    ) or (isinstance(exc, psycopg.OperationalError) and _lost(exc)):
        return StoreError(code="store.connection_lost", path=path, detail=text)
    if isinstance(exc, psycopg.OperationalError):
        return StoreError(code="store.io", path=path, detail=text)
    return StoreError(code="store", detail=text)


def _lost(exc: psycopg.OperationalError) -> bool:
    low = str(exc).lower()
    return any(
        marker in low
        for marker in (
            "terminating connection",
            "server closed the connection",
            "connection is closed",
            "consuming input failed",
            "connection lost",
            "connection is lost",
            "eof detected",
            "broken pipe",
        )
    )


__all__ = ["translate_error"]
