"""The webhook admin: endpoints (events as checkboxes, the secret kept out of the list, the
re-enable action) and the read-only delivery log with its redeliver action."""

import pytest
from django.urls import reverse
from django.utils import timezone

from integrations.models import WebhookDelivery, WebhookEndpoint
from tests.webhooks import SECRET, delivery_create, endpoint_create, hours_ago

pytestmark = pytest.mark.django_db
Status = WebhookDelivery.Status


@pytest.fixture
def staff(admin_client):
    return admin_client


def test_an_endpoint_is_added_with_its_events_ticked_and_a_secret_offered(staff):
    page = staff.get(reverse("admin:integrations_webhookendpoint_add")).content.decode()
    assert 'type="checkbox" name="events" value="job.completed"' in page
    assert "小票已打印" in page or "Ticket printed" in page
    # A strong secret is offered, ready to copy into the receiver.
    assert 'name="secret"' in page
    response = staff.post(
        reverse("admin:integrations_webhookendpoint_add"),
        {
            "url": "https://erp.example/hooks/print",
            "events": ["job.completed", "order.cancelled"],
            "secret": "s3cret-value-for-signing",
            "description": "ERP",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["job.completed", "order.cancelled"]
    assert endpoint.secret == "s3cret-value-for-signing"
    assert endpoint.created_by == "staff:admin"
    listing = staff.get(reverse("admin:integrations_webhookendpoint_changelist")).content.decode()
    assert "https://erp.example/hooks/print" in listing
    assert "s3cret-value-for-signing" not in listing


def test_an_endpoint_needs_at_least_one_known_event(staff):
    response = staff.post(
        reverse("admin:integrations_webhookendpoint_add"),
        {"url": "https://erp.example/h", "events": ["job.exploded"], "secret": "x"},
    )
    assert response.status_code == 200
    assert not WebhookEndpoint.objects.exists()


def test_re_enabling_clears_the_failures_and_the_disabled_state(staff):
    endpoint = endpoint_create(
        "https://erp.example/h",
        is_active=False,
        failing_since=hours_ago(30),
        disabled_at=timezone.now(),
        disabled_reason="every delivery failed for 24 h",
    )
    page = staff.get(reverse("admin:integrations_webhookendpoint_change", args=[endpoint.pk]))
    assert "every delivery failed for 24 h" in page.content.decode()
    response = staff.post(
        reverse("admin:integrations_webhookendpoint_changelist"),
        {"action": "enable", "_selected_action": [endpoint.pk]},
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.is_active
    assert (endpoint.failing_since, endpoint.disabled_at, endpoint.disabled_reason) == (
        None,
        None,
        "",
    )


def test_ticking_active_again_in_the_form_also_clears_the_disabled_state(staff):
    endpoint = endpoint_create(
        "https://erp.example/h", is_active=False, disabled_at=timezone.now(), events=["job.failed"]
    )
    response = staff.post(
        reverse("admin:integrations_webhookendpoint_change", args=[endpoint.pk]),
        {
            "url": endpoint.url,
            "events": ["job.failed"],
            "secret": SECRET,
            "description": "",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    endpoint.refresh_from_db()
    assert endpoint.is_active
    assert endpoint.disabled_at is None


def test_the_delivery_log_lists_filters_and_shows_the_payload_read_only(staff):
    endpoint = endpoint_create("https://erp.example/h")
    failed = delivery_create(
        endpoint,
        data={"printer": "厨房打印机", "job_id": 12},
        status=Status.FAILED,
        attempts=9,
        response_status=500,
        last_error="HTTP 500 Internal Server Error: boom (gave up after 24 h)",
    )
    delivery_create(endpoint, status=Status.DELIVERED, subject="order:3", event="order.printed")
    changelist = reverse("admin:integrations_webhookdelivery_changelist")
    listing = staff.get(changelist).content.decode()
    assert "HTTP 500 Internal Server Error: boom" in listing
    assert "order:3" in listing
    filtered = staff.get(changelist, {"status__exact": "failed"}).content.decode()
    assert "job:1" in filtered
    assert "order:3" not in filtered
    assert staff.get(changelist, {"event__exact": "order.printed"}).status_code == 200
    assert staff.get(changelist, {"endpoint__id__exact": endpoint.pk}).status_code == 200
    assert "job:1" in staff.get(changelist, {"q": str(failed.event_id)}).content.decode()
    assert staff.get(changelist, {"q": "not-a-uuid"}).status_code == 200
    assert staff.get(reverse("admin:integrations_webhookdelivery_add")).status_code == 403
    page = staff.get(reverse("admin:integrations_webhookdelivery_change", args=[failed.pk]))
    text = page.content.decode()
    assert '<pre class="webhook-payload">{\n  &quot;job_id&quot;: 12,' in text
    assert "厨房打印机" in text
    assert 'name="payload"' not in text  # shown, not editable


def test_redeliver_makes_deliveries_due_now_with_the_same_event_id(staff):
    endpoint = endpoint_create("https://erp.example/h")
    failed = delivery_create(
        endpoint, status=Status.FAILED, attempts=9, next_attempt_at=hours_ago(-1)
    )
    delivered = delivery_create(endpoint, status=Status.DELIVERED, attempts=1, subject="job:2")
    event_id = failed.event_id
    response = staff.post(
        reverse("admin:integrations_webhookdelivery_changelist"),
        {"action": "redeliver", "_selected_action": [failed.pk, delivered.pk]},
        follow=True,
    )
    assert response.status_code == 200
    failed.refresh_from_db()
    delivered.refresh_from_db()
    assert (failed.status, failed.attempts, failed.event_id) == (Status.PENDING, 9, event_id)
    assert failed.next_attempt_at <= timezone.now()
    assert (delivered.status, delivered.attempts) == (Status.PENDING, 1)


def test_redelivering_to_a_disabled_endpoint_says_it_waits(staff):
    endpoint = endpoint_create("https://off.example/h", is_active=False)
    delivery = delivery_create(endpoint, status=Status.FAILED)
    response = staff.post(
        reverse("admin:integrations_webhookdelivery_changelist"),
        {"action": "redeliver", "_selected_action": [delivery.pk]},
        follow=True,
    )
    messages = [str(m) for m in response.context["messages"]]
    assert any("https://off.example/h" in m for m in messages), messages
