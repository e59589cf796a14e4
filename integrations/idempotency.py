"""Idempotency-Key: a request retried with the same key gets the first answer, once.

The key's record is inserted first, in the transaction that does the work. A second
request with the key (a retry racing the first) blocks on the unique constraint until the
first commits, then reads its answer; if the first failed, its record went with it and the
retry does the work. Only successful answers are kept: a refused request may be corrected
and sent again with the same key.
"""

import hashlib
import json
import re
from collections.abc import Callable
from datetime import timedelta

from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from integrations.access import ApiError, Caller
from integrations.models import IdempotencyRecord

HEADER = "Idempotency-Key"
KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,255}")
WINDOW = timedelta(hours=24)

Answer = tuple[int, dict]


def idempotent(request: HttpRequest, *, caller: Caller, act: Callable[[], Answer]) -> Answer:
    """`act()` (in a transaction), or the answer it gave this caller's key before."""
    key = request.headers.get(HEADER)
    if key is None:
        return act()
    key = key.strip()
    if not KEY_PATTERN.fullmatch(key):
        raise ApiError(
            400, "invalid_idempotency_key", f"{HEADER} must be 1 to 255 printable ASCII characters"
        )
    fingerprint = request_fingerprint(request)
    with transaction.atomic():
        # First statement of the transaction: on SQLite a read before the write would make
        # the write fail instead of waiting for the other writer.
        record_id = _insert(caller.identity, key, fingerprint)
        if record_id is None:
            record = IdempotencyRecord.objects.get(caller=caller.identity, key=key)
            if record.created_at < timezone.now() - WINDOW:
                record.delete()
                record_id = _insert(caller.identity, key, fingerprint)
            else:
                return _replayed(record, fingerprint)
        status, body = act()
        if 200 <= status < 300:
            IdempotencyRecord.objects.filter(pk=record_id).update(status_code=status, response=body)
        else:
            transaction.set_rollback(True)
    return status, body


def request_fingerprint(request: HttpRequest) -> str:
    """The method, path and body, the body's JSON key order and spacing aside."""
    try:
        body = json.dumps(json.loads(request.body), sort_keys=True, separators=(",", ":"))
    except ValueError:
        body = request.body.decode("utf-8", "replace")
    text = f"{request.method} {request.path}\n{body}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def idempotency_records_prune(*, now=None) -> int:
    """Forget keys older than the window (their requests would be new ones)."""
    now = now or timezone.now()
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=now - WINDOW).delete()
    return deleted


def _insert(caller: str, key: str, fingerprint: str) -> int | None:
    """The new record's id; None if this caller's key has one already (waiting, on
    PostgreSQL, for the transaction that wrote it)."""
    table = connection.ops.quote_name(IdempotencyRecord._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (caller, key, request_hash, created_at) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (caller, key) DO NOTHING RETURNING id",
            [caller, key, fingerprint, connection.ops.adapt_datetimefield_value(timezone.now())],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _replayed(record: IdempotencyRecord, fingerprint: str) -> Answer:
    if record.request_hash != fingerprint:
        raise ApiError(
            409,
            "idempotency_conflict",
            f"this {HEADER} was used for a different request; use a new key",
        )
    if record.status_code is None:
        raise ApiError(
            409, "idempotency_in_progress", "the first request with this key is still running"
        )
    # The first answer, as it was; "created" only the first time.
    return (200 if record.status_code == 201 else record.status_code), record.response
