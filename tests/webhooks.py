"""What the webhook tests share: endpoints and deliveries written as the outbox writes them,
the settings that make a test server retry in seconds, and waiting for a condition."""

import time
from datetime import timedelta

from django.utils import timezone

from integrations.models import Event, WebhookDelivery, WebhookEndpoint

SECRET = "whsec-test-0123456789abcdef"
# A test server: quick polls and retries; a lease of timeout + 2 s.
WEBHOOK_ENV = {
    "PRINT_WEBHOOK_POLL_INTERVAL": "0.1",
    "PRINT_WEBHOOK_RETRY_BASE": "0.5",
    "PRINT_WEBHOOK_TIMEOUT": "2",
}


def endpoint_create(url: str, **fields) -> WebhookEndpoint:
    fields = {"secret": SECRET, "events": list(Event.values), **fields}
    return WebhookEndpoint.objects.create(url=url, **fields)


def delivery_create(
    endpoint: WebhookEndpoint,
    *,
    event: str = Event.JOB_COMPLETED,
    subject: str = "job:1",
    data: dict | None = None,
    **fields,
) -> WebhookDelivery:
    """One outbox row, as `integrations.outbox` writes it."""
    data = {"job_id": 1, "status": "completed"} if data is None else data
    return WebhookDelivery.objects.create(
        endpoint=endpoint, event=event, subject=subject, payload=data, **fields
    )


def hours_ago(hours: float):
    return timezone.now() - timedelta(hours=hours)


def wait_until(check, *, within: float = 15.0, interval: float = 0.05):
    """Poll `check()` until it returns something truthy; fail after `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        time.sleep(interval)


def row(delivery: WebhookDelivery) -> WebhookDelivery:
    return WebhookDelivery.objects.get(pk=delivery.pk)
