"""The webhook outbox as the senders see it: which deliveries are due, claiming them (one
process per attempt), recording outcomes, retries and giving up, failing endpoints, and
the history's pruning. Synchronous ORM work; the sender runs it off the event loop.

A claim is a conditional UPDATE on the attempt count that also moves `next_attempt_at` past
the attempt's timeout: that is the lease. Two processes cannot claim the same attempt, and a
process killed while sending leaves the delivery due again once the lease runs out.
"""

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from integrations.models import WebhookDelivery, WebhookEndpoint
from integrations.webhooks.signing import envelope_body
from integrations.webhooks.transport import Outcome

logger = logging.getLogger("integrations.webhooks")
Status = WebhookDelivery.Status

RETRY_CAP_SECONDS = 3600.0
RETRY_JITTER = 0.1
# A claim's lease outlasts the attempt's timeout by this much, so a slow attempt is never
# sent a second time by another process while it is still running.
LEASE_MARGIN_SECONDS = 2.0
# Rows of history deleted per housekeeping round, so a large backlog never holds the
# database for long.
PRUNE_BATCH = 500


@dataclass(frozen=True)
class Claimed:
    """One attempt this process owns until its lease ends."""

    delivery_id: int
    endpoint_id: int
    url: str
    secret: str
    event_id: str
    event: str
    subject: str
    attempt: int
    created_at: datetime
    body: bytes


@dataclass(frozen=True)
class Result:
    claimed: Claimed
    outcome: Outcome
    finished_at: datetime


def retry_delay(
    *, attempt: int, base: float, cap: float = RETRY_CAP_SECONDS, jitter: float = RETRY_JITTER
) -> float:
    """Seconds before attempt `attempt + 1`: base, 2 × base, 4 × base … at most `cap`, plus
    up to `jitter` of it so that endpoints failing together do not retry in step."""
    delay = min(cap, base * 2 ** max(0, min(attempt - 1, 30)))
    return delay * (1 + jitter * random.random())


def _lease(attempt: int) -> timedelta:
    delay = retry_delay(attempt=attempt, base=settings.PRINT_WEBHOOK_RETRY_BASE)
    return timedelta(seconds=max(delay, settings.PRINT_WEBHOOK_TIMEOUT + LEASE_MARGIN_SECONDS))


def _give_up_after() -> timedelta:
    return timedelta(hours=settings.PRINT_WEBHOOK_GIVE_UP_AFTER)


# Claiming


def _due(now: datetime, *, limit: int, full: set[int]) -> list[dict]:
    """Due deliveries, oldest first, each the oldest still pending of its endpoint and
    subject: one subject's events go out in order, a failing one holding the rest back."""
    # One pass over the pending rows, grouped, rather than NOT EXISTS per row: with no
    # index on the subject, that scanned an endpoint's whole backlog for every due row.
    firsts = (
        WebhookDelivery.objects.filter(status=Status.PENDING, endpoint__is_active=True)
        .values("endpoint_id", "subject")
        .annotate(first=Min("pk"))
        .values("first")
    )
    return list(
        WebhookDelivery.objects.filter(pk__in=firsts, next_attempt_at__lte=now)
        .exclude(endpoint_id__in=full)
        .order_by("pk")
        .values(
            "pk",
            "endpoint_id",
            "event_id",
            "event",
            "subject",
            "payload",
            "created_at",
            "attempts",
            "endpoint__url",
            "endpoint__secret",
            "endpoint__failing_since",
        )[:limit]
    )


def deliveries_claim(*, limit: int, in_flight: dict[int, int], per_endpoint: int) -> list[Claimed]:
    """Claim up to `limit` due deliveries. An endpoint gets at most `per_endpoint` attempts
    in flight in this process, counting `in_flight`, and a failing endpoint one: a receiver
    that hangs cannot take every slot. When nothing is due this is one query."""
    now = timezone.now()
    room = dict(in_flight)
    full = {pk for pk, count in room.items() if count >= per_endpoint}
    claimed: list[Claimed] = []
    for _ in range(3):
        wanted = limit - len(claimed)
        rows = _due(now, limit=wanted * 2, full=full) if wanted > 0 else []
        if not rows:
            break
        skipped = False
        with transaction.atomic():
            for row in rows:
                endpoint = row["endpoint_id"]
                cap = 1 if row["endpoint__failing_since"] else per_endpoint
                if room.get(endpoint, 0) >= cap or len(claimed) >= limit:
                    full.add(endpoint)
                    skipped = True
                    continue
                if _claim(row, now):
                    room[endpoint] = room.get(endpoint, 0) + 1
                    claimed.append(_claimed(row))
        if not skipped or len(claimed) >= limit:
            break
    return claimed


def _claim(row: dict, now: datetime) -> bool:
    attempt = row["attempts"] + 1
    return bool(
        WebhookDelivery.objects.filter(
            pk=row["pk"], attempts=row["attempts"], status=Status.PENDING, next_attempt_at__lte=now
        ).update(attempts=attempt, last_attempt_at=now, next_attempt_at=now + _lease(attempt))
    )


def _claimed(row: dict) -> Claimed:
    event_id = str(row["event_id"])
    return Claimed(
        delivery_id=row["pk"],
        endpoint_id=row["endpoint_id"],
        url=row["endpoint__url"],
        secret=row["endpoint__secret"],
        event_id=event_id,
        event=row["event"],
        subject=row["subject"],
        attempt=row["attempts"] + 1,
        created_at=row["created_at"],
        body=envelope_body(
            event_id=event_id, event=row["event"], created_at=row["created_at"], data=row["payload"]
        ),
    )


def deliveries_release(*, claims: list[Claimed]) -> int:
    """Attempts this process will not finish (it is stopping): due again at once, for
    another process or the next start, instead of after their lease."""
    now = timezone.now()
    released = 0
    with transaction.atomic():
        for claim in claims:
            released += WebhookDelivery.objects.filter(
                pk=claim.delivery_id, attempts=claim.attempt, status=Status.PENDING
            ).update(next_attempt_at=now)
    return released


# Outcomes


def deliveries_record(*, results: list[Result]) -> list[int]:
    """Write what each attempt came to, in one transaction; the endpoints it disabled."""
    last_outcome: dict[int, Result] = {}
    with transaction.atomic():
        for result in results:
            if result.outcome.delivered:
                _delivered(result)
            else:
                _failed(result)
            last_outcome[result.claimed.endpoint_id] = result
        for endpoint_id, result in last_outcome.items():
            endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id)
            if result.outcome.delivered:
                endpoint.filter(failing_since__isnull=False).update(failing_since=None)
            else:
                endpoint.filter(failing_since=None).update(failing_since=result.finished_at)
        failing = [pk for pk, result in last_outcome.items() if not result.outcome.delivered]
        return endpoints_disable_failing(endpoint_ids=failing) if failing else []


def _delivered(result: Result) -> None:
    # Whoever sent it: a success is final, even if another process has claimed a later
    # attempt since.
    WebhookDelivery.objects.filter(pk=result.claimed.delivery_id, status=Status.PENDING).update(
        status=Status.DELIVERED,
        delivered_at=result.finished_at,
        response_status=result.outcome.status,
        last_error="",
    )


def _failed(result: Result) -> None:
    claimed, at = result.claimed, result.finished_at
    error = result.outcome.error
    gave_up = at - claimed.created_at >= _give_up_after()
    if gave_up:
        error = f"{error} (gave up after {settings.PRINT_WEBHOOK_GIVE_UP_AFTER:g} h)"
    delay = retry_delay(attempt=claimed.attempt, base=settings.PRINT_WEBHOOK_RETRY_BASE)
    WebhookDelivery.objects.filter(
        pk=claimed.delivery_id, attempts=claimed.attempt, status=Status.PENDING
    ).update(
        status=Status.FAILED if gave_up else Status.PENDING,
        response_status=result.outcome.status,
        last_error=error[:2000],
        next_attempt_at=at + timedelta(seconds=delay),
    )


# Endpoints


def endpoints_disable_failing(*, endpoint_ids: list[int] | None = None) -> list[int]:
    """Disable active endpoints whose every delivery failed for the give-up time (the
    alert `webhook_disabled` then opens); the ones disabled now."""
    now = timezone.now()
    hours = settings.PRINT_WEBHOOK_GIVE_UP_AFTER
    candidates = WebhookEndpoint.objects.filter(
        is_active=True, failing_since__lte=now - _give_up_after()
    )
    if endpoint_ids is not None:
        candidates = candidates.filter(pk__in=endpoint_ids)
    disabled = []
    for pk, url in candidates.values_list("pk", "url"):
        if WebhookEndpoint.objects.filter(pk=pk, is_active=True).update(
            is_active=False,
            disabled_at=now,
            disabled_reason=f"every delivery failed for {hours:g} h",
        ):
            disabled.append(pk)
            logger.warning("webhook_endpoint=%s url=%s event=disabled hours=%g", pk, url, hours)
    return disabled


def webhook_endpoint_enable(*, endpoint_id: int) -> bool:
    """Staff re-enable an endpoint: it starts again with a clean record."""
    return bool(
        WebhookEndpoint.objects.filter(pk=endpoint_id).update(
            is_active=True, failing_since=None, disabled_at=None, disabled_reason=""
        )
    )


def webhook_deliveries_redeliver(*, delivery_ids: list[int]) -> int:
    """Send these deliveries again now, with the same event id (receivers dedupe on it); an
    event older than the give-up time gets one more attempt."""
    return WebhookDelivery.objects.filter(pk__in=delivery_ids).update(
        status=Status.PENDING, next_attempt_at=timezone.now()
    )


# Housekeeping


def webhooks_maintain() -> None:
    """Now and then: disable endpoints failing too long, give up deliveries of disabled
    endpoints that are past their time, forget old history."""
    now = timezone.now()
    endpoints_disable_failing()
    WebhookDelivery.objects.filter(
        status=Status.PENDING, endpoint__is_active=False, created_at__lte=now - _give_up_after()
    ).update(status=Status.FAILED, last_error="gave up: endpoint disabled")
    cutoff = now - timedelta(days=settings.PRINT_WEBHOOK_HISTORY_DAYS)
    old = WebhookDelivery.objects.filter(
        status__in=(Status.DELIVERED, Status.FAILED), created_at__lt=cutoff
    )
    batch = list(old.order_by("pk").values_list("pk", flat=True)[:PRUNE_BATCH])
    if batch:
        WebhookDelivery.objects.filter(pk__in=batch).delete()
