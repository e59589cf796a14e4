"""Printing flows: writing jobs (confirmation, test prints, reprints, integrations), staff's
cancel and retry, and printers' tokens, tickets and switches.

Every entry point (the order services, the admin, the views, the consumer) calls these.
"""

import logging
from collections.abc import Collection, Sequence
from datetime import timedelta

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from orders.models import Order, OrderItem, ShopProfile
from printing import access, tickets
from printing.delivery.bell import jobs_announce, jobs_wake, printers_recheck, ring_on_commit
from printing.delivery.presence import ticket_holders_allowed
from printing.delivery.transitions import ACTOR_SERVER, Transition, jobs_insert, jobs_transition
from printing.models import PrinterConfig, PrintJob, SocketTicket
from printing.receipt import render_test_page

logger = logging.getLogger("printing.jobs")
Status = PrintJob.Status
JobType = PrintJob.JobType
# The paper tickets a void takes back.
VOIDABLE = (JobType.ORDER, JobType.KITCHEN, JobType.REPRINT)


def print_jobs_enqueue_for_orders(
    *, orders: Sequence[Order], profile: ShopProfile | None = None
) -> list[PrintJob]:
    """Write the tickets of orders just confirmed (locked and numbered by the caller), in the
    caller's transaction; ring on commit.

    The plan of each order is printing.tickets.order_tickets. The same few statements
    however many orders, so confirming a batch costs little more than confirming one.
    """
    if not orders:
        return []
    profile = profile or ShopProfile.current()
    items: dict[int, list[OrderItem]] = {order.pk: [] for order in orders}
    for item in (
        OrderItem.objects.filter(order_id__in=list(items)).select_related("category").order_by("pk")
    ):
        items[item.order_id].append(item)
    printers = _printers(PrinterConfig.objects.filter(is_active=True, auto_print_orders=True))
    jobs = [
        job
        for order in orders
        for job in tickets.order_tickets(
            order=order, items=items[order.pk], printers=printers, profile=profile
        )
    ]
    with transaction.atomic(savepoint=False):
        jobs_insert(jobs, actor=ACTOR_SERVER, message="order confirmed")
        ring_on_commit(jobs_announce, jobs)
    return jobs


def _printers(printers: QuerySet[PrinterConfig]) -> list[PrinterConfig]:
    return list(printers.filter(role__in=tickets.PLAN_ROLES).prefetch_related("categories"))


def print_jobs_void(*, order: Order, actor: str) -> list[PrintJob]:
    """A cancelled order's tickets: those still waiting are cancelled (their sockets are told),
    and every printer that printed one, or may have (sent, printing), gets a void ticket,
    once. A ticket that never left the server gets none."""
    tickets_of_order = PrintJob.objects.filter(order=order, job_type__in=VOIDABLE)
    with transaction.atomic(savepoint=False):
        maybe_printed = set(
            tickets_of_order.filter(
                Q(status__in=(Status.SENT, Status.PRINTING, Status.COMPLETED))
                | Q(status=Status.PENDING, started_at__isnull=False)
            ).values_list("printer_id", flat=True)
        )
        # Cup labels still waiting are cancelled too; a label printed is on a cup already.
        moved = jobs_transition(
            PrintJob.objects.filter(
                order=order, job_type__in=(*VOIDABLE, JobType.LABEL), status__in=PrintJob.WAITING
            ),
            Transition(
                Status.CANCELLED,
                "cancelled",
                {"sent_connection": None, "not_before": None},
                "order cancelled",
            ),
            actor=actor,
        )
        if moved:
            ring_on_commit(jobs_wake, [row["printer_id"] for row in moved])
        if not maybe_printed:
            return []
        printers = {
            printer.pk: printer
            for printer in _printers(PrinterConfig.objects.filter(pk__in=maybe_printed))
        }
        items = list(order.items.select_related("category").order_by("pk"))
        profile = ShopProfile.current()
        jobs = []
        for printer_id in sorted(maybe_printed, key=lambda pk: pk or 0):
            printer = printers.get(printer_id)
            if printer_id is not None and (printer is None or not printer.is_active):
                continue
            mine = tickets.items_for(printer, items)
            jobs.append(
                tickets.ticket_job(
                    order=order,
                    kind=JobType.VOID,
                    receipt=tickets.receipt_for_order(order=order, items=mine, profile=profile),
                    printer=printer,
                    priority=1,
                )
            )
        jobs_insert(jobs, actor=actor, message="order cancelled")
        ring_on_commit(jobs_announce, jobs)
    return jobs


def print_job_create(
    *,
    printer: PrinterConfig,
    content: str,
    job_type: str = PrintJob.JobType.TEXT,
    copies: int = 1,
    priority: int = 5,
    order: Order | None = None,
    actor: str = ACTOR_SERVER,
    message: str = "",
) -> PrintJob:
    """A job for one printer, outside order confirmation: test prints, integrations."""
    job = PrintJob(
        printer=printer,
        order=order,
        job_type=job_type,
        print_content=content,
        copies=copies,
        priority=priority,
    )
    with transaction.atomic():
        jobs_insert([job], actor=actor, message=message)
        ring_on_commit(jobs_announce, [job])
    return job


def print_job_create_test(*, printer: PrinterConfig, actor: str = ACTOR_SERVER) -> PrintJob:
    """A test page for one printer, delivered to it as a `print_command`."""
    content = render_test_page(
        shop_name=ShopProfile.current().printed_shop_name,
        printer_name=printer.name,
        paper_width=printer.paper_width,
        time=timezone.localtime(),
    )
    return print_job_create(
        printer=printer,
        content=content,
        job_type=PrintJob.JobType.TEST,
        priority=1,
        actor=actor,
        message="test print",
    )


def print_jobs_reprint(
    *,
    order: Order,
    actor: str,
    printer_ids: Collection[int] | None = None,
    label: int | None = None,
) -> list[PrintJob]:
    """The order's tickets again, marked 重印 / REPRINT with the time, for the chosen
    printers (default: the receipt printers that print orders); the originals stay in the
    history. A station gets its make ticket, a label printer its cup labels (only cup
    `label` of them when given: the one that smudged), any other printer the receipt."""
    if printer_ids is None:
        printers = _printers(
            PrinterConfig.objects.filter(
                is_active=True, auto_print_orders=True, role=PrinterConfig.Role.RECEIPT
            )
        )
    else:
        printers = _printers(PrinterConfig.objects.filter(is_active=True, pk__in=printer_ids))
        if not printers:
            return []
    items = list(order.items.select_related("category").order_by("pk"))
    stamp = tickets.reprint_stamp()
    profile = ShopProfile.current()
    jobs = []
    for printer in printers or [None]:
        mine = tickets.items_for(printer, items)
        if not mine and items:
            continue
        receipt = tickets.receipt_for_order(order=order, items=mine, profile=profile)
        role = printer.role if printer else PrinterConfig.Role.RECEIPT
        if role == PrinterConfig.Role.LABEL:
            job = tickets.label_job(
                order=order, receipt=receipt, printer=printer, reprint=True, only=label, priority=3
            )
            jobs += [job] if job else []
            continue
        jobs.append(
            tickets.ticket_job(
                order=order,
                kind=JobType.KITCHEN if role == PrinterConfig.Role.STATION else JobType.REPRINT,
                receipt=receipt,
                printer=printer,
                stamp=stamp,
                priority=3,
                is_reprint=True,
            )
        )
    with transaction.atomic():
        jobs_insert(jobs, actor=actor, message="reprint")
        ring_on_commit(jobs_announce, jobs)
    return jobs


def print_jobs_retry_failed(*, actor: str) -> int:
    """Retry every failed job; returns how many went back to the queue."""
    return sum(
        print_job_retry(job_id=pk, actor=actor)
        for pk in PrintJob.objects.filter(status=Status.FAILED).values_list("pk", flat=True)
    )


def print_job_cancel(*, job_id: int, actor: str) -> bool:
    """Cancel a job not yet printing; the sockets that had it are told with `cancel_job`."""
    with transaction.atomic():
        moved = jobs_transition(
            PrintJob.objects.filter(pk=job_id, status__in=PrintJob.WAITING),
            Transition(
                Status.CANCELLED, "cancelled", {"sent_connection": None, "not_before": None}
            ),
            actor=actor,
        )
        if moved:
            ring_on_commit(jobs_wake, [row["printer_id"] for row in moved])
    return bool(moved)


def print_job_retry(*, job_id: int, actor: str) -> bool:
    """Put a failed, expired or cancelled job back in the queue, with a fresh retry budget."""
    changes = {
        "retry_count": 0,
        "not_before": None,
        "queued_at": timezone.now(),
        "completed_at": None,
        "sent_connection": None,
    }
    with transaction.atomic():
        moved = jobs_transition(
            PrintJob.objects.filter(pk=job_id, status__in=PrintJob.RETRYABLE),
            Transition(Status.PENDING, "retried", changes),
            actor=actor,
        )
        if moved:
            job = PrintJob.objects.select_related("order", "printer").get(pk=job_id)
            ring_on_commit(jobs_announce, [job])
    return bool(moved)


# Printers


def printer_token_issue(*, printer: PrinterConfig) -> str:
    """A new secret token for the printer, returned once; the old one stops working and the
    sockets that used it are closed."""
    token = access.token_new()
    printer_token_set(printer=printer, token=token)
    return token


TOKEN_MIN_LENGTH = 32


def printer_token_set(*, printer: PrinterConfig, token: str) -> None:
    """Make `token` the printer's token (provisioning, e.g. docker compose, where the agent
    and the server are given the same secret); sockets that used another one are closed."""
    if len(token) < TOKEN_MIN_LENGTH or not token.isprintable() or token != token.strip():
        raise ValueError(f"a printer token needs at least {TOKEN_MIN_LENGTH} printable characters")
    with transaction.atomic():
        PrinterConfig.objects.filter(pk=printer.pk).update(
            token_hash=access.token_hash(token),
            token_issued_at=timezone.now(),
            updated_at=timezone.now(),
        )
        ring_on_commit(printers_recheck, [printer.pk])
    logger.info("printer=%s event=token_issued", printer.pk)


def printer_set_active(*, printer: PrinterConfig, active: bool) -> None:
    """Enable or disable a printer; a disabled printer's sockets are closed."""
    with transaction.atomic():
        PrinterConfig.objects.filter(pk=printer.pk).update(
            is_active=active, updated_at=timezone.now()
        )
        ring_on_commit(printers_recheck, [printer.pk])
    logger.info("printer=%s event=%s", printer.pk, "enabled" if active else "disabled")


def printer_changed(*, printer_id: int) -> None:
    """A printer was edited or deleted: its sockets are re-checked once that commits (the
    heartbeat also looks at changed printers, but only at those that still exist)."""
    ring_on_commit(printers_recheck, [printer_id])


def printer_by_token(*, token: str) -> PrinterConfig | None:
    return PrinterConfig.objects.filter(token_hash=access.token_hash(token)).first()


TICKET_SECONDS = 60


def printer_ticket_issue(*, printer: PrinterConfig, user) -> str:
    """A one-minute, single-use pass for a staff member's browser to open a socket as this
    printer (the WebSocket test tool): staff never see the printer's token. The socket stays
    open only while that member may use the test client."""
    ticket = access.token_new()
    now = timezone.now()
    # Whoever asks for a pass clears the expired ones: there are only ever a few.
    SocketTicket.objects.filter(expires_at__lt=now).delete()
    SocketTicket.objects.create(
        ticket_hash=access.token_hash(ticket),
        printer=printer,
        user=user,
        expires_at=now + timedelta(seconds=TICKET_SECONDS),
    )
    logger.info("printer=%s user=%s event=ticket_issued", printer.pk, user.pk)
    return ticket


def printer_by_ticket(*, ticket: str) -> tuple[PrinterConfig, int] | None:
    """Redeem a pass: its printer and the staff member it was issued to, or None when it is
    unknown, expired, already used, or its holder may no longer use the test client."""
    found = (
        SocketTicket.objects.filter(
            ticket_hash=access.token_hash(ticket), expires_at__gt=timezone.now()
        )
        .select_related("printer")
        .first()
    )
    # Deleting is redeeming: of two sockets presenting one pass, in any server process,
    # only one deletes the row.
    if found is None or not SocketTicket.objects.filter(pk=found.pk).delete()[0]:
        return None
    if found.user_id not in ticket_holders_allowed(user_ids=[found.user_id]):
        logger.info("printer=%s user=%s event=ticket_refused", found.printer_id, found.user_id)
        return None
    return found.printer, found.user_id
