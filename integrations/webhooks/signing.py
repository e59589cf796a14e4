"""What a webhook request carries and how it is signed; pure functions, no Django, so that
a receiver can copy `signature_verify` as it is.

Body: compact UTF-8 JSON `{"id", "type", "created_at", "data"}`. Headers: `X-Webhook-Id`
(the same on every attempt, for the receiver's dedupe), `X-Webhook-Timestamp` (Unix seconds
of this attempt) and `X-Webhook-Signature: sha256=<hex HMAC-SHA256(secret,
"<timestamp>.<body>")>`. Signing the timestamp with the body lets a receiver refuse a
captured request replayed later.
"""

import hashlib
import hmac
import json
import time
from datetime import datetime

SIGNATURE_PREFIX = "sha256="
# How far a request's timestamp may be from the receiver's clock, by default.
TOLERANCE_SECONDS = 300


def envelope_body(*, event_id: str, event: str, created_at: datetime, data: dict) -> bytes:
    """The request body: the event as the receiver sees it."""
    envelope = {"id": event_id, "type": event, "created_at": created_at.isoformat(), "data": data}
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()


def signature_compute(secret: str, timestamp: int | str, body: bytes) -> str:
    """`sha256=<hex>`: HMAC-SHA256 of `"<timestamp>.<body>"` under the endpoint's secret."""
    message = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def signature_headers(
    *, secret: str, event_id: str, body: bytes, user_agent: str, timestamp: int | None = None
) -> dict[str, str]:
    """Every header of one attempt; a new timestamp (and so signature) per attempt."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": "application/json",
        "User-Agent": user_agent,
        "X-Webhook-Id": event_id,
        "X-Webhook-Timestamp": str(timestamp),
        "X-Webhook-Signature": signature_compute(secret, timestamp, body),
    }


def signature_verify(
    secret: str,
    timestamp: str | int,
    body: bytes,
    header: str,
    tolerance: float = TOLERANCE_SECONDS,
    *,
    now: float | None = None,
) -> bool:
    """The receiver's check: the signature header matches this body and timestamp, and the
    timestamp is within `tolerance` seconds of now. Compares in constant time."""
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        return False
    now = time.time() if now is None else now
    if abs(now - sent_at) > tolerance:
        return False
    expected = signature_compute(secret, sent_at, body)
    return hmac.compare_digest(expected.encode(), (header or "").strip().encode())
