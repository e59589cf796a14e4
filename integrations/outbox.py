"""The webhook outbox: events written as deliveries, one per subscribed endpoint, in the
transaction of the change they report. A rollback takes them back with the change; a commit
makes them due for the sender (integrations.webhooks), whatever happens to the process.

Every recorder is one cheap query when no endpoint wants the event, so the printing path
pays nothing for webhooks nobody subscribed to.
"""

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from integrations.models import Event, PrinterPresence, WebhookDelivery, WebhookEndpoint
from orders.models import Order
from printing import selectors
from printing.models import Alert, PrinterConfig, PrintJob

# A job moving to one of these statuses is told as this event.
JOB_EVENTS = {
    PrintJob.Status.COMPLETED: Event.JOB_COMPLETED,
    PrintJob.Status.FAILED: Event.JOB_FAILED,
    PrintJob.Status.EXPIRED: Event.JOB_EXPIRED,
}
# The tickets an order is printed with; voids, reprints, alarm slips and tests do not count.
TICKET_TYPES = (PrintJob.JobType.ORDER, PrintJob.JobType.KITCHEN, PrintJob.JobType.LABEL)

EventSpec = tuple[str, str, dict]


def webhook_subscribers(*, events: Iterable[str]) -> dict[str, list[int]]:
    """The active endpoints wanting each of these events (none: no key)."""
    wanted = set(events)
    found: dict[str, list[int]] = {}
    for pk, subscribed in WebhookEndpoint.objects.filter(is_active=True).values_list(
        "pk", "events"
    ):
        for event in wanted.intersection(subscribed or ()):
            found.setdefault(event, []).append(pk)
    return found


def webhook_events_record(
    *, events: list[EventSpec], subscribers: dict[str, list[int]] | None = None
) -> int:
    """One delivery per endpoint subscribed to each (event, subject, data), in the caller's
    transaction; returns how many were written. `subscribers`: as webhook_subscribers
    answered for these events, when the caller just asked."""
    if not events:
        return 0
    if subscribers is None:
        subscribers = webhook_subscribers(events=(event for event, _, _ in events))
    now = timezone.now()
    rows = [
        WebhookDelivery(
            endpoint_id=endpoint_id,
            event=event,
            subject=subject,
            payload=data,
            created_at=now,
            next_attempt_at=now,
        )
        for event, subject, data in events
        for endpoint_id in subscribers.get(event, ())
    ]
    WebhookDelivery.objects.bulk_create(rows, batch_size=500)
    return len(rows)


def job_events_record(*, moves: Iterable[tuple[int, str, str, int, str]]) -> int:
    """(job id, from status, to status, attempt, message) of jobs just moved, in the moving
    transaction: job.completed / job.failed / job.expired, and order.printed for an order
    whose last ticket this completed."""
    moves = [move for move in moves if move[2] in JOB_EVENTS]
    if not moves:
        return 0
    subscribers = webhook_subscribers(events=[*JOB_EVENTS.values(), Event.ORDER_PRINTED])
    if not subscribers:
        return 0
    jobs = {
        row["id"]: row
        for row in PrintJob.objects.filter(pk__in=[move[0] for move in moves]).values(
            "id",
            "job_type",
            "order_id",
            "order__pickup_number",
            "printer_id",
            "printer__name",
            "copies",
            "is_reprint",
        )
    }
    now = timezone.now().isoformat()
    events: list[EventSpec] = []
    for job_id, from_status, to_status, attempt, message in moves:
        job = jobs.get(job_id)
        if job is None or JOB_EVENTS[to_status] not in subscribers:
            continue
        events.append(
            (
                JOB_EVENTS[to_status],
                f"job:{job_id}",
                _job_data(job, to_status, from_status, attempt, message, now),
            )
        )
    if Event.ORDER_PRINTED in subscribers:
        completed = {
            job["order_id"]
            for job_id, _, to_status, _, _ in moves
            if to_status == PrintJob.Status.COMPLETED
            and (job := jobs.get(job_id))
            and job["order_id"]
            and job["job_type"] in TICKET_TYPES
            and not job["is_reprint"]
        }
        events += _orders_printed(completed, now)
    return webhook_events_record(events=events, subscribers=subscribers)


def _job_data(job: dict, status: str, from_status: str, attempt: int, message: str, at: str):
    return {
        "job_id": job["id"],
        "job_type": job["job_type"],
        "status": status,
        "from_status": from_status,
        "attempt": attempt,
        "message": message,
        "copies": job["copies"],
        "reprint": job["is_reprint"],
        "order_id": job["order_id"],
        "pickup_number": job["order__pickup_number"] or "",
        "printer": {"id": job["printer_id"], "name": job["printer__name"]}
        if job["printer_id"]
        else None,
        "at": at,
    }


def _orders_printed(order_ids: set[int], at: str) -> list[EventSpec]:
    """order.printed for those of these orders with every ticket now completed, once.

    The orders' rows are locked first: two processes completing an order's last two tickets
    at once would each see the other's ticket unfinished; locked, the second sees the first's.
    """
    if not order_ids:
        return []
    orders = {
        order.pk: order
        for order in Order.objects.select_for_update().filter(pk__in=order_ids).order_by("pk")
    }
    told = set(
        WebhookDelivery.objects.filter(
            event=Event.ORDER_PRINTED, subject__in=[f"order:{pk}" for pk in orders]
        ).values_list("subject", flat=True)
    )
    tickets = (
        PrintJob.objects.filter(order_id__in=orders, job_type__in=TICKET_TYPES, is_reprint=False)
        .exclude(status=PrintJob.Status.CANCELLED)
        .values("order_id")
        .annotate(
            total=Count("id"), printed=Count("id", filter=Q(status=PrintJob.Status.COMPLETED))
        )
    )
    return [
        (
            Event.ORDER_PRINTED,
            f"order:{row['order_id']}",
            {**order_data(orders[row["order_id"]]), "tickets": row["total"], "at": at},
        )
        for row in tickets
        if row["total"] == row["printed"] and f"order:{row['order_id']}" not in told
    ]


def order_data(order: Order) -> dict:
    return {
        "order_id": order.pk,
        "status": order.status,
        "pickup_number": order.pickup_number,
        "order_type": order.order_type,
        "delivery_platform": order.delivery_platform,
        "platform_order_no": order.platform_order_no,
        "total_amount": str(order.total_amount),
    }


def order_cancelled_record(*, order: Order, actor: str) -> int:
    return webhook_events_record(
        events=[
            (
                Event.ORDER_CANCELLED,
                f"order:{order.pk}",
                {**order_data(order), "actor": actor, "at": timezone.now().isoformat()},
            )
        ]
    )


def alert_data(alert: Alert) -> dict:
    return {
        "alert_id": alert.pk,
        "kind": alert.kind,
        "severity": alert.severity,
        "subject": alert.subject,
        "message": alert.message,
        "printer_id": alert.printer_id,
        "order_id": alert.order_id,
        "job_ids": alert.job_ids,
        "opened_at": alert.opened_at.isoformat(),
        "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None,
    }


def alerts_record(*, opened: list[Alert], resolved: list[Alert]) -> int:
    """alert.opened / alert.resolved for alerts this process opened or resolved."""
    return webhook_events_record(
        events=[(Event.ALERT_OPENED, f"alert:{a.pk}", alert_data(a)) for a in opened]
        + [(Event.ALERT_RESOLVED, f"alert:{a.pk}", alert_data(a)) for a in resolved]
    )


def printers_presence_evaluate() -> int:
    """printer.online / printer.offline owed since the last look (the heartbeat's, every
    couple of seconds in each server process); nothing when nobody subscribed."""
    if not webhook_subscribers(events=[Event.PRINTER_ONLINE, Event.PRINTER_OFFLINE]):
        return 0
    with transaction.atomic():
        return printers_presence_record(
            online=set(selectors.printers_online().values_list("pk", flat=True))
        )


def printers_presence_record(*, online: set[int], now: datetime | None = None) -> int:
    """printer.online / printer.offline for each printer whose state changed since it was
    last told. The conditional UPDATE decides who tells: of several processes seeing one
    change, only the one whose update changed the row records the event."""
    now = now or timezone.now()
    printers = {p.pk: p for p in PrinterConfig.objects.all()}
    known = dict(PrinterPresence.objects.values_list("printer_id", "online"))
    # First sight of a printer: its state is recorded, nothing is told.
    PrinterPresence.objects.bulk_create(
        [
            PrinterPresence(printer_id=pk, online=pk in online, changed_at=now)
            for pk in printers
            if pk not in known
        ],
        ignore_conflicts=True,
    )
    events: list[EventSpec] = []
    for pk, was_online in known.items():
        is_online = pk in online
        if pk not in printers or was_online == is_online:
            continue
        if PrinterPresence.objects.filter(printer_id=pk, online=was_online).update(
            online=is_online, changed_at=now
        ):
            printer = printers[pk]
            event = Event.PRINTER_ONLINE if is_online else Event.PRINTER_OFFLINE
            data = {
                "printer": {
                    "id": pk,
                    "name": printer.name,
                    "role": printer.role,
                    "connection_type": printer.connection_type,
                },
                "online": is_online,
                "at": now.isoformat(),
            }
            events.append((event, f"printer:{pk}", data))
    return webhook_events_record(events=events)
