"""ORM work off the event loop, for the dispatcher and the printer consumers."""

from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import SyncToAsync
from django.conf import settings
from django.db import DatabaseError, close_old_connections, connections


class _OrmCall(SyncToAsync):
    """Unlike channels' database_sync_to_async, a call does not recycle its thread's
    connections (with CONN_HEALTH_CHECKS that is one extra query per call); a call the
    database failed closes the broken connection so the next reconnects."""

    def thread_handler(self, loop, *args, **kwargs):
        try:
            return super().thread_handler(loop, *args, **kwargs)
        except DatabaseError:
            for connection in connections.all(initialized_only=True):
                connection.close_if_unusable_or_obsolete()
            raise
        finally:
            if settings.DATABASES["default"].get("CONN_MAX_AGE") == 0:
                close_old_connections()


_orm_executor: ThreadPoolExecutor | None = None


def orm_executor() -> ThreadPoolExecutor | None:
    """SQLite takes one writer at a time and makes the others sleep-poll for the lock, in
    sleeps of up to 100 ms: one thread does all of this process's database work, in order
    (the requests' too, see shop/asgi.py). PostgreSQL gets thread pools, so round trips
    overlap."""
    global _orm_executor
    if connections["default"].vendor != "sqlite":
        return None
    if _orm_executor is None:
        _orm_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="print-db")
    return _orm_executor


def db(func):
    """Run ORM work for the dispatcher and the consumers off the event loop."""
    return _OrmCall(func, thread_sensitive=False, executor=orm_executor())
