"""API keys made in the admin: scopes, revocation, last use; and the environment's keys,
which stay full access."""

import pytest
from django.utils import timezone

from integrations.models import ApiKey, WebhookEndpoint
from integrations.services import api_key_create, api_key_revoke
from orders.models import Order
from printing.models import PrinterConfig, PrintJob
from tests.api_client import KEY, call

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def printer():
    return PrinterConfig.objects.create(name="收银台")


def body() -> dict:
    return {"items": [{"name": "珍珠奶茶", "unit_price": "15.00"}]}


def test_a_key_is_shown_once_and_only_its_hash_is_kept():
    key, raw = api_key_create(name="小程序", scopes=["orders:write"], actor="staff:boss")
    assert raw.startswith("psk_")
    assert len(raw) > 40
    stored = ApiKey.objects.get(pk=key.pk)
    assert raw not in (stored.key_hash, stored.prefix, str(stored.scopes))
    assert raw.startswith(stored.prefix)


def test_a_key_does_what_its_scopes_allow_and_nothing_else(client):
    _, writer = api_key_create(name="小程序", scopes=["orders:write"], actor="staff:boss")
    created = call(client, "post", "/api/orders", body(), key=writer)
    assert created.status_code == 201
    assert Order.objects.count() == 1

    for method, url, payload in [
        ("get", f"/api/orders/{created.json()['id']}", None),
        ("get", "/api/printers/status", None),
        ("post", "/api/jobs", {"printer": "收银台", "content": "x"}),
        ("get", "/api/alerts", None),
        ("get", "/api/webhooks", None),
        ("post", "/api/webhooks", {"url": "http://h/x", "secret": "s" * 16,
                                   "events": ["job.failed"]}),
    ]:  # fmt: skip
        refused = call(client, method, url, payload, key=writer)
        assert refused.status_code == 403, url
        assert refused.json()["error"] == "missing_scope"
        assert "scope" in refused.json()["message"]
    assert not PrintJob.objects.exists()
    assert not WebhookEndpoint.objects.exists()


def test_each_scope_opens_its_operations(client):
    _, reader = api_key_create(
        name="看板", scopes=["orders:read", "printers:read", "alerts:read", "jobs:write",
                           "webhooks:write"], actor="a",
    )  # fmt: skip
    order = Order.objects.create()
    assert call(client, "get", f"/api/orders/{order.pk}", key=reader).status_code == 200
    assert call(client, "get", "/api/printers/status", key=reader).status_code == 200
    assert call(client, "get", "/api/alerts", key=reader).status_code == 200
    assert call(client, "get", "/api/webhooks", key=reader).status_code == 200
    job = call(client, "post", "/api/jobs", {"printer": "收银台", "content": "x"}, key=reader)
    assert job.status_code == 201
    assert call(client, "post", "/api/orders", body(), key=reader).status_code == 403


def test_a_revoked_key_is_refused_at_once(client):
    key, raw = api_key_create(name="旧收银机", scopes=["orders:write"], actor="a")
    assert api_key_revoke(key_id=key.pk)
    refused = call(client, "post", "/api/orders", body(), key=raw)
    assert (refused.status_code, refused.json()["error"]) == (401, "revoked_key")
    assert not Order.objects.exists()
    assert not api_key_revoke(key_id=key.pk)


def test_unknown_and_missing_keys_are_401(client):
    for key in ("psk_nope", None):
        refused = call(client, "post", "/api/orders", body(), key=key)
        assert (refused.status_code, refused.json()["error"]) == (401, "unauthorized")


def test_last_use_is_recorded_at_most_once_a_minute(client):
    key, raw = api_key_create(name="小程序", scopes=["orders:read"], actor="a")
    assert key.last_used_at is None
    order = Order.objects.create()
    call(client, "get", f"/api/orders/{order.pk}", key=raw)
    first = ApiKey.objects.get(pk=key.pk).last_used_at
    assert first is not None
    assert timezone.now() - first < timezone.timedelta(seconds=10)
    call(client, "get", f"/api/orders/{order.pk}", key=raw)
    assert ApiKey.objects.get(pk=key.pk).last_used_at == first


def test_the_environments_keys_may_do_everything(client, settings):
    settings.PRINT_API_KEYS = [KEY]
    assert call(client, "post", "/api/orders", body()).status_code == 201
    assert call(client, "get", "/api/webhooks").status_code == 200
    assert call(client, "get", "/api/printers/status").status_code == 200


def test_an_order_made_with_a_key_names_it_in_the_job_history(client):
    _, raw = api_key_create(name="小程序", scopes=["orders:write"], actor="a")
    order_id = call(client, "post", "/api/orders", body(), key=raw).json()["id"]
    call(client, "post", f"/api/orders/{order_id}/confirm", key=raw)
    cancelled = call(client, "post", f"/api/orders/{order_id}/cancel", key=raw)
    assert cancelled.status_code == 200
    void = PrintJob.objects.filter(order_id=order_id, job_type="void")
    # Nothing had left the server: the receipt is cancelled, no void is printed.
    assert not void.exists()
    assert PrintJob.objects.get(order_id=order_id).events.filter(actor="api:小程序").exists()
