"""One run at a time: a PostgreSQL session-level advisory lock around a long job (an import, a scan).

The lock is the database session's, so it is released when the job ends or when its connection dies with
its worker; a second run of the same job meanwhile is told the lock is taken and leaves. SQLite runs one
writer anyway, so there every caller gets the lock. Each kind of job has its own namespace (the first key),
written beside the job's code.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.db import InterfaceError, OperationalError, connection


@contextlib.contextmanager
def session_lock(namespace: int, key: int) -> Iterator[bool]:
    """Try to take (namespace, key) for this session; yields whether it was taken, releases it on exit."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [namespace, key])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            # The connection may be gone with the job's failure; then the database has released it already.
            with contextlib.suppress(InterfaceError, OperationalError), connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [namespace, key])
