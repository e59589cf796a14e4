"""Webhooks: the signed envelope, the outbox's claims (one process per attempt, one subject
in order), retries and failing endpoints, and a real server delivering to a real receiver.
Faults (hangs, redirects, kill -9, several processes) are in test_webhook_delivery_faults."""

import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import Event, WebhookDelivery, WebhookEndpoint
from integrations.webhooks.signing import (
    envelope_body,
    signature_compute,
    signature_headers,
    signature_verify,
)
from integrations.webhooks.store import (
    Result,
    deliveries_claim,
    deliveries_record,
    retry_delay,
    webhook_deliveries_redeliver,
    webhook_endpoint_enable,
    webhooks_maintain,
)
from integrations.webhooks.transport import Attempt, Outcome
from printing.alerts import alerts_evaluate
from printing.models import Alert
from tests.support.receiver import Answer, Receiver
from tests.webhooks import (
    SECRET,
    WEBHOOK_ENV,
    delivery_create,
    endpoint_create,
    hours_ago,
    row,
    wait_until,
)

Status = WebhookDelivery.Status

# Signing (no database)


def test_the_body_is_compact_utf8_json_and_the_signature_covers_timestamp_and_body():
    created = timezone.now()
    body = envelope_body(
        event_id="e-1", event="job.completed", created_at=created, data={"printer": "厨房打印机"}
    )
    assert (
        body
        == (
            '{"id":"e-1","type":"job.completed","created_at":"'
            + created.isoformat()
            + '","data":{"printer":"厨房打印机"}}'
        ).encode()
    )
    headers = signature_headers(
        secret="s3cret", event_id="e-1", body=body, user_agent="ua", timestamp=1700000000
    )
    assert headers["X-Webhook-Id"] == "e-1"
    assert headers["X-Webhook-Timestamp"] == "1700000000"
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Webhook-Signature"] == signature_compute("s3cret", 1700000000, body)
    assert headers["X-Webhook-Signature"].startswith("sha256=")
    assert len(headers["X-Webhook-Signature"]) == len("sha256=") + 64


def test_verify_accepts_only_the_right_secret_body_and_a_fresh_timestamp():
    body = b'{"id":"x"}'
    header = signature_compute("s3cret", 1000, body)
    assert signature_verify("s3cret", "1000", body, header, now=1100)
    assert signature_verify("s3cret", 1000, body, header, now=1300)
    assert not signature_verify("s3cret", "1000", body, header, now=1301)  # replayed late
    assert not signature_verify("other", "1000", body, header, now=1000)
    assert not signature_verify("s3cret", "1000", body + b" ", header, now=1000)
    assert not signature_verify("s3cret", "1001", body, header, now=1000)
    assert not signature_verify("s3cret", "soon", body, header, now=1000)
    assert not signature_verify("s3cret", "1000", body, "", now=1000)
    assert not signature_verify("s3cret", "1000", body, header[7:], now=1000)


def test_retries_double_from_the_base_up_to_an_hour_with_a_little_jitter():
    delays = [retry_delay(attempt=n, base=10) for n in range(1, 12)]
    for attempt, delay in enumerate(delays, start=1):
        expected = min(3600, 10 * 2 ** (attempt - 1))
        assert expected <= delay <= expected * 1.1
    assert retry_delay(attempt=1000, base=10) <= 3960


# One attempt over real HTTP (no server process)


def test_an_attempt_says_what_the_receiver_did():
    def answer(request):
        return {
            "/ok": Answer(204, body=b""),
            "/boom": Answer(500, body=b"boom\n"),
            "/moved": Answer(301, headers=(("Location", "http://elsewhere.example/hook"),)),
        }.get(request.path, Answer(404, body=b"no such hook"))

    with Receiver(answer) as receiver:
        base = f"http://127.0.0.1:{receiver.port}"

        def post(path: str) -> Outcome:
            return Attempt(base + path, b"{}", {"X-Webhook-Id": "1"}, timeout=2).run()

        assert post("/ok") == Outcome(True, 204, "")
        assert post("/boom") == Outcome(False, 500, "HTTP 500 Internal Server Error: boom")
        assert post("/moved") == Outcome(
            False, 301, "redirect not followed: 301 http://elsewhere.example/hook"
        )
        assert post("/nope") == Outcome(False, 404, "HTTP 404 Not Found: no such hook")
        assert [r.path for r in receiver.received()] == ["/ok", "/boom", "/moved", "/nope"]


def test_an_attempt_ends_at_its_timeout_and_a_refused_connection_is_said_plainly():
    with Receiver(lambda request: Answer(hang=True)) as receiver:
        started = time.monotonic()
        outcome = Attempt(receiver.url, b"{}", {}, timeout=0.5).run()
        assert outcome == Outcome(False, None, "timed out after 0.5 s")
        assert time.monotonic() - started < 2
    refused = Attempt(receiver.url, b"{}", {}, timeout=1).run()
    assert not refused.delivered
    assert refused.error.startswith("connection failed: ConnectionRefusedError")
    assert Attempt("ftp://x/y", b"{}", {}, timeout=1).run().error == "not an http(s) URL: ftp://x/y"


# The outbox's claims and outcomes (the database)


@pytest.mark.django_db
def test_a_claim_takes_the_oldest_of_each_subject_once_and_leases_it(settings):
    settings.PRINT_WEBHOOK_TIMEOUT = 5
    hook = endpoint_create("http://127.0.0.1:9/hook")
    first = delivery_create(hook, subject="job:1")
    delivery_create(hook, subject="job:1", event=Event.ORDER_PRINTED)
    other = delivery_create(hook, subject="job:2")
    claims = deliveries_claim(limit=10, in_flight={}, per_endpoint=10)
    assert [c.delivery_id for c in claims] == [first.pk, other.pk]
    assert claims[0].attempt == 1
    assert json.loads(claims[0].body)["id"] == str(first.event_id)
    claimed = row(first)
    assert claimed.attempts == 1
    # The lease: not due again before the timeout (and a margin) has passed.
    assert claimed.next_attempt_at >= claimed.last_attempt_at + timedelta(seconds=7)
    # Another process looking now finds nothing: the claimed rows are leased, the third
    # waits for the first of its subject.
    assert deliveries_claim(limit=10, in_flight={}, per_endpoint=10) == []


@pytest.mark.django_db
def test_a_subject_held_back_by_a_failing_event_does_not_hold_up_the_others():
    hook = endpoint_create("http://127.0.0.1:9/hook")
    # job:1's first event is waiting for its retry; forty more of job:1 wait behind it.
    delivery_create(hook, subject="job:1", attempts=1, next_attempt_at=hours_ago(-1))
    for _ in range(40):
        delivery_create(hook, subject="job:1")
    later = delivery_create(hook, subject="job:2")
    claims = deliveries_claim(limit=1, in_flight={}, per_endpoint=1)
    assert [c.delivery_id for c in claims] == [later.pk]


@pytest.mark.django_db
def test_an_endpoint_gets_its_share_of_slots_and_a_failing_one_a_single_slot():
    healthy = endpoint_create("http://127.0.0.1:9/a")
    failing = endpoint_create("http://127.0.0.1:9/b", failing_since=timezone.now())
    for n in range(5):
        delivery_create(failing, subject=f"job:{n}")
        delivery_create(healthy, subject=f"job:{n}")
    claims = deliveries_claim(limit=8, in_flight={}, per_endpoint=3)
    by_endpoint = [c.endpoint_id for c in claims]
    assert by_endpoint.count(failing.pk) == 1
    assert by_endpoint.count(healthy.pk) == 3
    # With its slots taken in this process, the healthy endpoint waits; the rest are leased.
    busy = {healthy.pk: 3, failing.pk: 1}
    assert deliveries_claim(limit=8, in_flight=busy, per_endpoint=3) == []


@pytest.mark.django_db
def test_outcomes_retry_a_failure_later_and_mark_the_endpoint_failing_until_a_success(settings):
    settings.PRINT_WEBHOOK_RETRY_BASE = 10
    hook = endpoint_create("http://127.0.0.1:9/hook")
    first, second = delivery_create(hook, subject="job:1"), delivery_create(hook, subject="job:2")
    a, b = deliveries_claim(limit=2, in_flight={}, per_endpoint=2)
    now = timezone.now()
    deliveries_record(results=[Result(a, Outcome(False, 503, "HTTP 503 Service Unavailable"), now)])
    failed = row(first)
    assert (failed.status, failed.attempts, failed.response_status) == (Status.PENDING, 1, 503)
    assert failed.last_error == "HTTP 503 Service Unavailable"
    assert now + timedelta(seconds=10) <= failed.next_attempt_at <= now + timedelta(seconds=11)
    hook.refresh_from_db()
    assert hook.failing_since == now
    deliveries_record(results=[Result(b, Outcome(True, 200, ""), timezone.now())])
    assert row(second).status == Status.DELIVERED
    assert row(second).delivered_at is not None
    hook.refresh_from_db()
    assert hook.failing_since is None
    # A late outcome of an attempt another process has since taken over changes nothing.
    WebhookDelivery.objects.filter(pk=first.pk).update(attempts=2)
    deliveries_record(results=[Result(a, Outcome(False, None, "timed out"), timezone.now())])
    assert row(first).last_error == "HTTP 503 Service Unavailable"


@pytest.mark.django_db
def test_a_delivery_failing_past_the_give_up_time_is_failed_and_a_long_failing_endpoint_disabled():
    hook = endpoint_create("http://127.0.0.1:9/hook", failing_since=hours_ago(25))
    old = delivery_create(hook, created_at=hours_ago(25))
    young = delivery_create(hook, subject="job:2")
    claims = deliveries_claim(limit=2, in_flight={}, per_endpoint=2)
    assert len(claims) == 1  # failing: one slot
    disabled = deliveries_record(
        results=[Result(claims[0], Outcome(False, 500, "HTTP 500"), timezone.now())]
    )
    assert row(old).status == Status.FAILED
    assert row(old).last_error == "HTTP 500 (gave up after 24 h)"
    assert disabled == [hook.pk]
    hook.refresh_from_db()
    assert not hook.is_active
    assert hook.disabled_at is not None
    assert hook.disabled_reason == "every delivery failed for 24 h"
    # Nothing is sent to a disabled endpoint; its backlog waits for it to be re-enabled.
    assert deliveries_claim(limit=2, in_flight={}, per_endpoint=2) == []
    assert row(young).status == Status.PENDING
    assert webhook_endpoint_enable(endpoint_id=hook.pk)
    hook.refresh_from_db()
    assert (hook.is_active, hook.failing_since, hook.disabled_at) == (True, None, None)
    assert [c.delivery_id for c in deliveries_claim(limit=2, in_flight={}, per_endpoint=2)] == [
        young.pk
    ]


@pytest.mark.django_db
def test_housekeeping_disables_prunes_history_and_gives_up_a_disabled_endpoints_old_backlog(
    settings,
):
    settings.PRINT_WEBHOOK_HISTORY_DAYS = 7
    hook = endpoint_create("http://127.0.0.1:9/a", failing_since=hours_ago(30))
    kept = endpoint_create("http://127.0.0.1:9/b")
    backlog = delivery_create(hook, created_at=hours_ago(26))
    old = delivery_create(kept, status=Status.DELIVERED, created_at=hours_ago(8 * 24))
    old_failed = delivery_create(kept, status=Status.FAILED, created_at=hours_ago(8 * 24))
    recent = delivery_create(kept, status=Status.DELIVERED, created_at=hours_ago(24))
    waiting = delivery_create(kept, created_at=hours_ago(8 * 24), subject="job:9")
    webhooks_maintain()
    hook.refresh_from_db()
    assert not hook.is_active
    assert row(backlog).status == Status.FAILED
    assert row(backlog).last_error == "gave up: endpoint disabled"
    remaining = set(WebhookDelivery.objects.values_list("pk", flat=True))
    assert old.pk not in remaining
    assert old_failed.pk not in remaining
    assert {recent.pk, waiting.pk, backlog.pk} <= remaining


@pytest.mark.django_db
def test_a_disabled_endpoint_opens_an_alert_until_it_is_re_enabled_or_deleted():
    hook = endpoint_create("https://erp.example/hook", is_active=False, disabled_at=timezone.now())
    # Switched off by staff (no disabled_at): nothing to shout about.
    endpoint_create("https://quiet.example/hook", is_active=False)
    assert alerts_evaluate().opened == 1
    alert = Alert.objects.get(resolved_at=None)
    assert (alert.kind, alert.subject) == ("webhook_disabled", f"webhook:{hook.pk}")
    assert alert.message == "Webhook https://erp.example/hook 已停用：连续 24 小时投递失败"
    webhook_endpoint_enable(endpoint_id=hook.pk)
    assert alerts_evaluate().resolved == 1
    again = endpoint_create("https://erp.example/2", is_active=False, disabled_at=timezone.now())
    alerts_evaluate()
    again.delete()
    assert alerts_evaluate().resolved == 1
    assert not Alert.objects.filter(resolved_at=None).exists()


# A real server, a real receiver


pytestmark_server = pytest.mark.django_db(transaction=True)


@pytestmark_server
def test_a_delivery_arrives_signed_and_is_marked_delivered(print_server):
    with Receiver() as receiver:
        hook = endpoint_create(receiver.url)
        delivery = delivery_create(hook, data={"job_id": 12, "printer": "厨房打印机"})
        print_server(**WEBHOOK_ENV)
        (request,) = wait_until(receiver.delivered)
        headers = request.headers
        assert signature_verify(
            SECRET, headers["X-Webhook-Timestamp"], request.body, headers["X-Webhook-Signature"]
        )
        assert headers["X-Webhook-Id"] == str(delivery.event_id)
        assert headers["Content-Type"] == "application/json"
        assert "print-server/" in headers["User-Agent"]
        assert "厨房打印机".encode() in request.body  # UTF-8, not \\u escapes
        assert request.json == {
            "id": str(delivery.event_id),
            "type": "job.completed",
            "created_at": delivery.created_at.isoformat(),
            "data": {"job_id": 12, "printer": "厨房打印机"},
        }
        done = wait_until(lambda: row(delivery).status == Status.DELIVERED and row(delivery))
        assert (done.attempts, done.response_status, done.last_error) == (1, 200, "")


@pytestmark_server
def test_one_subjects_events_arrive_in_order_a_failure_retried_before_the_next(print_server):
    failures = {"left": 2}

    def answer(request):
        # The first event of job:7 is refused twice, then taken.
        if request.json["data"]["n"] == 0 and failures["left"]:
            failures["left"] -= 1
            return Answer(500, body=b"not now")
        return Answer()

    with Receiver(answer) as receiver:
        hook = endpoint_create(receiver.url)
        ours = [delivery_create(hook, subject="job:7", data={"n": n}) for n in range(5)]
        others = [delivery_create(hook, subject=f"job:{n}", data={"n": n}) for n in range(20, 25)]
        print_server(**WEBHOOK_ENV)
        wait_until(lambda: len(receiver.delivered()) == 10)
        received = [r.json["data"]["n"] for r in receiver.received()]
        job_7 = [n for n in received if n < 20]
        assert job_7 == [0, 0, 0, 1, 2, 3, 4]
        assert sorted(n for n in received if n >= 20) == [20, 21, 22, 23, 24]
        first = wait_until(lambda: row(ours[0]).status == Status.DELIVERED and row(ours[0]))
        assert (first.attempts, first.response_status, first.last_error) == (3, 200, "")
        for delivery in ours[1:] + others:
            assert row(delivery).attempts == 1


@pytestmark_server
def test_redelivering_sends_the_same_event_id_again(print_server):
    with Receiver() as receiver:
        hook = endpoint_create(receiver.url)
        delivery = delivery_create(hook)
        print_server(**WEBHOOK_ENV)
        wait_until(lambda: row(delivery).status == Status.DELIVERED)
        assert webhook_deliveries_redeliver(delivery_ids=[delivery.pk]) == 1
        first, again = wait_until(lambda: len(receiver.delivered()) == 2 and receiver.delivered())
        assert first.id == again.id == str(delivery.event_id)
        assert again.headers["X-Webhook-Timestamp"] >= first.headers["X-Webhook-Timestamp"]
        wait_until(lambda: row(delivery).status == Status.DELIVERED)
        assert row(delivery).attempts == 2


@pytestmark_server
def test_deliveries_to_an_endpoint_switched_off_by_staff_wait_for_it(print_server):
    with Receiver() as off, Receiver() as on:
        switched_off = endpoint_create(off.url, is_active=False)
        waiting = delivery_create(switched_off)
        sent = delivery_create(endpoint_create(on.url))
        print_server(**WEBHOOK_ENV)
        # The later delivery went out: the sender has looked, and passed the first by.
        wait_until(lambda: row(sent).status == Status.DELIVERED)
        assert off.received() == []
        assert (row(waiting).status, row(waiting).attempts) == (Status.PENDING, 0)
        WebhookEndpoint.objects.filter(pk=switched_off.pk).update(is_active=True)
        wait_until(lambda: row(waiting).status == Status.DELIVERED)
        assert [r.id for r in off.delivered()] == [str(waiting.event_id)]
