"""The webhook outbox: which state changes write which deliveries, in their own transaction.

Sending them is tests/test_webhooks.py's; here only what is owed, to whom, and once.
"""

import pytest
from django.db import transaction

from integrations.models import Event, PrinterPresence, WebhookDelivery, WebhookEndpoint
from integrations.outbox import printers_presence_record
from orders.services import order_cancel
from printing.alerts import alerts_evaluate
from printing.delivery.transitions import Transition, jobs_transition
from printing.models import Alert, PrinterConfig, PrintJob
from printing.services import print_jobs_reprint

pytestmark = pytest.mark.django_db

EVERYTHING = [choice.value for choice in Event]


def endpoint(*events: str, **fields) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        url="http://127.0.0.1:9/hook", secret="s" * 32, events=list(events), **fields
    )


def move(job: PrintJob, to: str) -> None:
    jobs_transition(PrintJob.objects.filter(pk=job.pk), Transition(to=to, event=to))


def owed(event: str | None = None) -> list[WebhookDelivery]:
    deliveries = WebhookDelivery.objects.order_by("pk")
    return list(deliveries.filter(event=event) if event else deliveries)


def test_a_printed_ticket_is_owed_to_the_endpoints_that_asked_for_it(make_printer, make_order):
    make_printer("收银台")
    wanted = endpoint(Event.JOB_COMPLETED)
    endpoint(Event.JOB_FAILED)
    endpoint(Event.JOB_COMPLETED, is_active=False)
    order = make_order(confirm=True)
    job = PrintJob.objects.get(order=order)

    move(job, PrintJob.Status.COMPLETED)

    [delivery] = owed()
    assert (delivery.endpoint, delivery.event, delivery.subject) == (
        wanted,
        "job.completed",
        f"job:{job.pk}",
    )
    data = delivery.payload
    assert (data["job_id"], data["status"], data["order_id"]) == (job.pk, "completed", order.pk)
    assert data["pickup_number"] == order.pickup_number != ""
    assert data["printer"]["name"] == "收银台"
    assert delivery.status == "pending"


def test_failed_and_expired_tickets_are_told_and_other_moves_are_not(make_printer, make_order):
    make_printer("收银台")
    endpoint(*EVERYTHING)
    first, second = make_order(confirm=True), make_order(confirm=True)
    jobs = [PrintJob.objects.get(order=o) for o in (first, second)]

    move(jobs[0], PrintJob.Status.SENT)
    move(jobs[0], PrintJob.Status.FAILED)
    move(jobs[1], PrintJob.Status.EXPIRED)

    assert [(d.event, d.subject) for d in owed()] == [
        ("job.failed", f"job:{jobs[0].pk}"),
        ("job.expired", f"job:{jobs[1].pk}"),
    ]
    assert owed()[0].payload["from_status"] == "sent"


def test_a_rolled_back_change_owes_nothing(make_printer, make_order):
    make_printer("收银台")
    endpoint(*EVERYTHING)
    job = PrintJob.objects.get(order=make_order(confirm=True))

    def move_then_fail() -> None:
        with transaction.atomic():
            move(job, PrintJob.Status.COMPLETED)
            raise RuntimeError("the change fails after the move")

    with pytest.raises(RuntimeError):
        move_then_fail()
    assert owed() == []
    assert PrintJob.objects.get(pk=job.pk).status == "pending"


def test_an_order_is_printed_once_every_ticket_of_it_is_and_reprints_do_not_repeat_it(
    make_printer, make_order
):
    make_printer("收银台", role=PrinterConfig.Role.RECEIPT)
    make_printer("制作台", role=PrinterConfig.Role.STATION)
    endpoint(Event.ORDER_PRINTED)
    order = make_order(confirm=True)
    receipt, ticket = PrintJob.objects.filter(order=order).order_by("job_type")
    assert {receipt.job_type, ticket.job_type} == {"order", "kitchen"}

    move(receipt, PrintJob.Status.COMPLETED)
    assert owed() == []
    move(ticket, PrintJob.Status.COMPLETED)
    [printed] = owed()
    assert (printed.event, printed.subject) == ("order.printed", f"order:{order.pk}")
    assert printed.payload["tickets"] == 2
    assert printed.payload["pickup_number"] == order.pickup_number

    for job in print_jobs_reprint(order=order, actor="staff:a"):
        move(job, PrintJob.Status.COMPLETED)
    assert len(owed()) == 1


def test_a_cancelled_ticket_does_not_hold_the_order_back(make_printer, make_order):
    make_printer("收银台", role=PrinterConfig.Role.RECEIPT)
    make_printer("制作台", role=PrinterConfig.Role.STATION)
    endpoint(Event.ORDER_PRINTED)
    order = make_order(confirm=True)
    receipt, ticket = PrintJob.objects.filter(order=order).order_by("job_type")
    move(ticket, PrintJob.Status.CANCELLED)
    move(receipt, PrintJob.Status.COMPLETED)
    assert [d.event for d in owed()] == ["order.printed"]


def test_cancelling_an_order_is_told_once(make_printer, make_order):
    make_printer("收银台")
    endpoint(Event.ORDER_CANCELLED)
    order = make_order(confirm=True)
    order_cancel(order_id=order.pk, actor="staff:a")
    order_cancel(order_id=order.pk, actor="staff:a")
    [cancelled] = owed()
    assert cancelled.payload["status"] == "cancelled"
    assert cancelled.payload["actor"] == "staff:a"


def test_alerts_opening_and_resolving_are_told(settings, make_printer):
    settings.PRINT_ALERT_OFFLINE_AFTER = 0
    endpoint(Event.ALERT_OPENED, Event.ALERT_RESOLVED)
    printer = make_printer("收银台")
    alerts_evaluate()
    alerts_evaluate()
    [opened] = owed()
    alert = Alert.objects.get(resolved_at=None)
    assert (opened.event, opened.subject) == ("alert.opened", f"alert:{alert.pk}")
    assert opened.payload["kind"] == "printer_offline"

    PrinterConfig.objects.filter(pk=printer.pk).update(is_active=False)
    alerts_evaluate()
    assert [d.event for d in owed()] == ["alert.opened", "alert.resolved"]
    assert owed()[1].payload["resolved_at"] is not None


def test_a_printer_coming_and_going_is_told_once_per_change(make_printer):
    endpoint(Event.PRINTER_ONLINE, Event.PRINTER_OFFLINE)
    printer = make_printer("收银台")
    printers_presence_record(online=set())
    assert PrinterPresence.objects.get(printer=printer).online is False
    assert owed() == []

    printers_presence_record(online={printer.pk})
    printers_presence_record(online={printer.pk})
    printers_presence_record(online=set())
    assert [d.event for d in owed()] == ["printer.online", "printer.offline"]
    assert owed()[0].payload["printer"]["name"] == "收银台"
