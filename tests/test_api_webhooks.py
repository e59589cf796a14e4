"""Webhook endpoints through the API: POST, GET and DELETE /api/webhooks."""

import pytest

from integrations.models import WebhookDelivery, WebhookEndpoint
from tests.api_client import KEY, call

pytestmark = pytest.mark.django_db

GOOD = {"url": "https://shop.example/hooks/print", "secret": "s3cret-" * 4,
        "events": ["job.completed", "order.printed"]}  # fmt: skip


@pytest.fixture(autouse=True)
def api_key(settings):
    settings.PRINT_API_KEYS = [KEY]


def test_an_endpoint_is_added_listed_without_its_secret_and_removed(client):
    created = call(client, "post", "/api/webhooks", {**GOOD, "description": "小程序"})
    assert created.status_code == 201
    answer = created.json()
    assert (answer["url"], answer["events"], answer["is_active"]) == (
        GOOD["url"], ["job.completed", "order.printed"], True,
    )  # fmt: skip
    assert "secret" not in answer
    endpoint = WebhookEndpoint.objects.get(pk=answer["id"])
    assert (endpoint.secret, endpoint.created_by) == (GOOD["secret"], "api")

    listed = call(client, "get", "/api/webhooks").json()["webhooks"]
    assert [e["id"] for e in listed] == [endpoint.pk]
    assert GOOD["secret"] not in str(listed)

    WebhookDelivery.objects.create(endpoint=endpoint, event="job.completed", subject="job:1",
                                   payload={})  # fmt: skip
    assert call(client, "delete", f"/api/webhooks/{endpoint.pk}").status_code == 204
    assert not WebhookEndpoint.objects.exists()
    assert not WebhookDelivery.objects.exists()
    gone = call(client, "delete", f"/api/webhooks/{endpoint.pk}")
    assert (gone.status_code, gone.json()["error"]) == (404, "not_found")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"url": "ftp://shop.example/x"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"secret": "short"}, "secret"),
        ({"events": []}, "events"),
        ({"events": ["job.completed", "order.eaten"]}, "events"),
        ({"events": "job.completed"}, "events"),
        ({"secret": 12345678901234567}, "secret"),
    ],
)
def test_bad_endpoints_are_refused_with_the_field_named(client, change, field):
    response = call(client, "post", "/api/webhooks", {**GOOD, **change})
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not WebhookEndpoint.objects.exists()


def test_strangers_cannot_list_or_add_endpoints(client):
    assert call(client, "get", "/api/webhooks", key=None).status_code == 401
    assert call(client, "post", "/api/webhooks", GOOD, key="wrong").status_code == 401
    assert not WebhookEndpoint.objects.exists()
