"""Webhook receivers that misbehave, against real server processes: one that hangs, answers
500 or redirects gets a clear status and holds up neither printing nor another endpoint; a
server killed while sending sends again after restart; two processes send each event once;
24 h of failures give a delivery up and disable its endpoint with an alert."""

import contextlib
import json
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone
from websockets.sync.client import connect

from integrations.models import WebhookDelivery, WebhookEndpoint
from integrations.webhooks.signing import signature_verify
from integrations.webhooks.store import webhook_endpoint_enable
from orders.services import order_confirm, order_create
from printing import protocol
from printing.models import Alert, PrinterConfig, PrintJob
from printing.services import print_job_retry
from tests.conftest import MILK_TEA
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

pytestmark = pytest.mark.django_db(transaction=True)
Status = WebhookDelivery.Status


@contextlib.contextmanager
def printer_socket(server, name: str):
    with connect(server.ws_url, open_timeout=10) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "welcome"
        ws.send(json.dumps(protocol.printer_info(name=name, model="TM-T88V", status="ready")))
        yield ws


def next_frame(ws, kind: str, within: float) -> dict:
    deadline = time.monotonic() + within
    while True:
        message = json.loads(ws.recv(timeout=max(0.01, deadline - time.monotonic())))
        if message["type"] == kind:
            return message


def test_a_hanging_receiver_times_out_and_holds_up_neither_another_endpoint_nor_printing(
    print_server,
):
    PrinterConfig.objects.create(name="厨房打印机")
    with Receiver(lambda request: Answer(hang=True)) as hanging, Receiver() as healthy:
        stuck = endpoint_create(hanging.url)
        stuck_rows = [delivery_create(stuck, subject=f"job:{n}") for n in range(6)]
        server = print_server(**WEBHOOK_ENV)
        wait_until(lambda: len(hanging.received()) >= 1)

        started = time.monotonic()
        other = delivery_create(endpoint_create(healthy.url))
        wait_until(lambda: healthy.delivered(), within=2.5)
        assert time.monotonic() - started < 2.5

        with printer_socket(server, "厨房打印机") as ws:
            order = order_confirm(order_id=order_create(items=[MILK_TEA]).pk)
            frame = next_frame(ws, "new_order", within=3)
            assert frame["order"]["order_id"] == order.pk

        timed_out = wait_until(
            lambda: [r for r in map(row, stuck_rows) if r.last_error == "timed out after 2 s"]
        )
        assert all(r.response_status is None and r.status == Status.PENDING for r in timed_out)
        assert WebhookEndpoint.objects.get(pk=stuck.pk).failing_since is not None
        wait_until(lambda: row(other).status == Status.DELIVERED)


def test_a_redirect_is_a_failure_and_is_not_followed(print_server):
    with Receiver() as target:
        moved = Answer(302, headers=(("Location", target.url),), body=b"")
        with Receiver(lambda request: moved) as receiver:
            delivery = delivery_create(endpoint_create(receiver.url))
            print_server(**WEBHOOK_ENV)
            failed = wait_until(lambda: row(delivery).attempts >= 1 and row(delivery).last_error)
            assert failed == f"redirect not followed: 302 {target.url}"
            assert row(delivery).response_status == 302
            assert row(delivery).status == Status.PENDING  # retried later
            assert target.received() == []


def test_a_delivery_still_failing_after_24_h_is_given_up(print_server):
    with Receiver(lambda request: Answer(500, body=b"boom")) as receiver:
        delivery = delivery_create(endpoint_create(receiver.url), created_at=hours_ago(25))
        print_server(**WEBHOOK_ENV)
        wait_until(lambda: row(delivery).status == Status.FAILED)
        given_up = row(delivery)
        assert given_up.last_error == "HTTP 500 Internal Server Error: boom (gave up after 24 h)"
        assert (given_up.attempts, given_up.response_status) == (1, 500)
        assert len(receiver.received()) == 1


def test_an_endpoint_failing_for_24_h_is_disabled_with_an_alert_until_re_enabled(print_server):
    answers = {"status": 500}
    with Receiver(lambda request: Answer(answers["status"])) as receiver:
        hook = endpoint_create(receiver.url, failing_since=hours_ago(24.5))
        first = delivery_create(hook, subject="job:1")
        print_server(**WEBHOOK_ENV)
        wait_until(lambda: not WebhookEndpoint.objects.get(pk=hook.pk).is_active)
        hook.refresh_from_db()
        assert hook.disabled_at is not None
        assert hook.disabled_reason == "every delivery failed for 24 h"
        alert = wait_until(
            lambda: Alert.objects.filter(kind="webhook_disabled", resolved_at=None).first()
        )
        assert alert.subject == f"webhook:{hook.pk}"
        assert receiver.url in alert.message
        # Disabled: nothing more is sent, however long we look.
        seen = len(receiver.received())
        second = delivery_create(hook, subject="job:2")
        other = Receiver().start()
        try:
            delivery_create(endpoint_create(other.url))
            wait_until(other.delivered)
        finally:
            other.stop()
        assert len(receiver.received()) == seen
        answers["status"] = 200
        webhook_endpoint_enable(endpoint_id=hook.pk)
        wait_until(lambda: Alert.objects.get(pk=alert.pk).resolved_at is not None)
        wait_until(lambda: {row(first).status, row(second).status} == {Status.DELIVERED})


def test_a_server_killed_while_sending_sends_the_same_event_again_after_restart(print_server):
    def answer(request):
        # The first attempt is held open: the server dies while it waits for an answer.
        return Answer(hang=True) if len(receiver.received()) == 1 else Answer()

    with Receiver(answer) as receiver:
        delivery = delivery_create(endpoint_create(receiver.url))
        server = print_server(**WEBHOOK_ENV)
        wait_until(lambda: len(receiver.received()) == 1)
        server.kill()
        assert row(delivery).status == Status.PENDING
        server.start()
        wait_until(lambda: row(delivery).status == Status.DELIVERED, within=20)
        first, again = receiver.received()
        assert first.id == again.id == str(delivery.event_id)
        assert first.status is None  # never answered
        assert again.status == 200
        assert row(delivery).attempts == 2


def test_two_server_processes_send_each_event_once(print_server):
    with Receiver() as a, Receiver() as b:
        endpoints = [endpoint_create(a.url), endpoint_create(b.url)]
        # Both running before the events are written: each finds them due at once.
        print_server(**WEBHOOK_ENV)
        print_server(**WEBHOOK_ENV)
        rows = WebhookDelivery.objects.bulk_create(
            WebhookDelivery(
                endpoint=endpoints[n % 2],
                event="job.completed",
                # Mostly one subject each; every fifth shares one, so order matters too.
                subject="order:1" if n % 5 == 0 else f"job:{n}",
                payload={"n": n},
            )
            for n in range(300)
        )
        expected = {str(delivery.event_id) for delivery in rows}
        wait_until(lambda: len(a.delivered()) + len(b.delivered()) >= 300, within=60)
        wait_until(lambda: not WebhookDelivery.objects.exclude(status=Status.DELIVERED).exists())
        receipts = Counter(r.id for r in a.delivered() + b.delivered())
        assert set(receipts) == expected
        assert set(receipts.values()) == {1}
        assert set(WebhookDelivery.objects.values_list("attempts", flat=True)) == {1}
        for receiver in (a, b):
            shared = [r.json["data"]["n"] for r in receiver.delivered()]
            shared = [n for n in shared if n % 5 == 0]
            assert shared == sorted(shared)
            assert len(shared) == 30


def test_a_server_stopped_while_sending_leaves_the_event_due_at_once(print_server):
    with Receiver(lambda request: Answer(hang=True)) as receiver:
        delivery = delivery_create(endpoint_create(receiver.url))
        server = print_server(**{**WEBHOOK_ENV, "PRINT_WEBHOOK_TIMEOUT": "30"})
        wait_until(lambda: len(receiver.received()) == 1)
        leased = row(delivery)
        assert leased.next_attempt_at > timezone.now() + timedelta(seconds=30)
        server.stop()
        released = row(delivery)
        assert (released.status, released.attempts) == (Status.PENDING, 1)
        assert released.next_attempt_at <= timezone.now()


def test_a_tickets_events_from_the_outbox_arrive_signed_and_in_order(print_server):
    """The whole path: a printer reports, the outbox writes the event in that transaction,
    the server sends it. job:N's `job.failed` is refused twice; its later `job.completed`
    waits for it."""
    PrinterConfig.objects.create(name="厨房打印机")
    refusals = {"left": 2}

    def answer(request):
        if request.json["type"] == "job.failed" and refusals["left"]:
            refusals["left"] -= 1
            return Answer(500, body=b"busy")
        return Answer()

    with Receiver(answer) as receiver:
        endpoint_create(receiver.url, events=["job.failed", "job.completed", "order.printed"])
        server = print_server(**WEBHOOK_ENV)
        with printer_socket(server, "厨房打印机") as ws:
            order = order_confirm(order_id=order_create(items=[MILK_TEA]).pk)
            job_id = next_frame(ws, "new_order", within=5)["order"]["job_id"]
            PrintJob.objects.filter(pk=job_id).update(max_retries=1)
            ws.send(json.dumps({"type": "print_status", "job_id": job_id, "status": "failed"}))
            wait_until(lambda: PrintJob.objects.get(pk=job_id).status == "failed")
            assert print_job_retry(job_id=job_id, actor="staff:test")
            assert next_frame(ws, "new_order", within=5)["order"]["job_id"] == job_id
            ws.send(json.dumps({"type": "print_status", "job_id": job_id, "status": "completed"}))
            wait_until(lambda: len(receiver.delivered()) == 3)
        about_job = [r for r in receiver.received() if r.json["data"].get("job_id") == job_id]
        assert [(r.json["type"], r.status) for r in about_job] == [
            ("job.failed", 500),
            ("job.failed", 500),
            ("job.failed", 200),
            ("job.completed", 200),
        ]
        assert len({r.id for r in about_job[:3]}) == 1  # one event, attempted three times
        (printed,) = [r for r in receiver.delivered() if r.json["type"] == "order.printed"]
        assert printed.json["data"]["order_id"] == order.pk
        for request in receiver.received():
            headers = request.headers
            assert signature_verify(
                SECRET, headers["X-Webhook-Timestamp"], request.body, headers["X-Webhook-Signature"]
            )
