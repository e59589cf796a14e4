"""Printing flows: writing jobs, and the book-keeping of printer sockets and server processes.

Every entry point (the order signal, the admin, the consumer, the dispatcher) calls these.
"""

import logging
import os
import socket
from collections.abc import Collection, Iterable
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from orders.models import Order, OrderItem
from printing import access, delivery, protocol, selectors
from printing.models import PrinterConfig, PrinterConnection, PrintJob, ServerProcess
from printing.receipt import Receipt, ReceiptItem, render_receipt, render_test_page, stamp_text

logger = logging.getLogger("printing.jobs")

BROADCAST_PAPER_WIDTH = PrinterConfig.PaperWidth.MM80


def receipt_for_order(*, order: Order, items: Iterable[OrderItem] | None = None) -> Receipt:
    return Receipt(
        shop_name=settings.SHOP_NAME,
        order_id=order.pk,
        time=timezone.localtime(order.created_at),
        total=order.total_amount,
        status=order.status,
        note=order.note,
        items=tuple(
            ReceiptItem(
                name=item.name,
                quantity=item.quantity,
                unit_price=item.unit_price,
                size=item.size,
                temperature=item.temperature,
                sugar=item.sugar,
            )
            for item in (order.items.all() if items is None else items)
        ),
    )


def print_jobs_enqueue_for_order(*, order: Order) -> list[PrintJob]:
    """Write a confirmed order's receipts once, in the caller's transaction; ring on commit."""
    return print_jobs_enqueue_for_orders(order_ids=[order.pk])


def print_jobs_enqueue_for_orders(*, order_ids: Collection[int]) -> list[PrintJob]:
    """Write confirmed orders' receipts once each, in the caller's transaction; ring on commit.

    Per order: one job per active printer that prints orders automatically, or one job for
    every connected printer when there is no such printer. The same few statements however
    many orders, so confirming a batch costs little more than confirming one.
    """
    with transaction.atomic(savepoint=False):
        # Serialises two confirmations of the same order (PostgreSQL; SQLite writes are
        # serial anyway), so the second one finds the first one's jobs. Locked in id order,
        # so two batches cannot deadlock.
        orders = list(Order.objects.select_for_update().filter(pk__in=order_ids).order_by("pk"))
        done = set(
            PrintJob.objects.filter(
                order_id__in=[order.pk for order in orders], job_type=PrintJob.JobType.ORDER
            ).values_list("order_id", flat=True)
        )
        orders = [order for order in orders if order.pk not in done]
        if not orders:
            return []
        items: dict[int, list[OrderItem]] = {order.pk: [] for order in orders}
        for item in OrderItem.objects.filter(order_id__in=list(items)).order_by("pk"):
            items[item.order_id].append(item)
        printers = list(PrinterConfig.objects.filter(is_active=True, auto_print_orders=True))
        jobs = []
        for order in orders:
            receipt = receipt_for_order(order=order, items=items[order.pk])
            jobs += [
                PrintJob(
                    order=order,
                    printer=printer,
                    job_type=PrintJob.JobType.ORDER,
                    print_content=render_receipt(receipt, paper_width=printer.paper_width),
                    copies=printer.print_copies,
                )
                for printer in printers
            ] or [
                PrintJob(
                    order=order,
                    printer=None,
                    job_type=PrintJob.JobType.ORDER,
                    print_content=render_receipt(receipt, paper_width=BROADCAST_PAPER_WIDTH),
                )
            ]
        PrintJob.objects.bulk_create(jobs)
        delivery.job_events_created(jobs, actor=delivery.ACTOR_SERVER, message="order confirmed")
        transaction.on_commit(partial(delivery.jobs_announce, jobs), robust=True)
    return jobs


def print_job_create(
    *,
    printer: PrinterConfig,
    content: str,
    job_type: str = PrintJob.JobType.TEXT,
    copies: int = 1,
    priority: int = 5,
    order: Order | None = None,
    actor: str = delivery.ACTOR_SERVER,
    message: str = "",
) -> PrintJob:
    """A job for one printer, outside order confirmation: test prints, reprints, integrations."""
    with transaction.atomic():
        job = PrintJob.objects.create(
            printer=printer,
            order=order,
            job_type=job_type,
            print_content=content,
            copies=copies,
            priority=priority,
        )
        delivery.job_events_created([job], actor=actor, message=message)
        transaction.on_commit(partial(delivery.jobs_announce, [job]), robust=True)
    return job


def print_job_create_test(
    *, printer: PrinterConfig, actor: str = delivery.ACTOR_SERVER
) -> PrintJob:
    """A test page for one printer, delivered to it as a `print_command`."""
    content = render_test_page(
        shop_name=settings.SHOP_NAME,
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


def print_jobs_reprint(*, order: Order, actor: str) -> list[PrintJob]:
    """The order's receipts again, stamped 重印 / REPRINT, for the printers that had them."""
    receipt = receipt_for_order(order=order)
    printer_ids = set(
        PrintJob.objects.filter(order=order, job_type=PrintJob.JobType.ORDER).values_list(
            "printer_id", flat=True
        )
    ) or {None}
    printers = PrinterConfig.objects.in_bulk([pk for pk in printer_ids if pk is not None])
    with transaction.atomic():
        jobs = []
        for printer_id in sorted(printer_ids, key=lambda pk: pk or 0):
            printer = printers.get(printer_id)
            if printer_id is not None and (printer is None or not printer.is_active):
                continue
            jobs.append(
                PrintJob(
                    order=order,
                    printer=printer,
                    job_type=PrintJob.JobType.REPRINT,
                    print_content=render_receipt(
                        receipt,
                        paper_width=printer.paper_width if printer else BROADCAST_PAPER_WIDTH,
                        stamp="重印 / REPRINT",
                    ),
                    copies=1,
                    priority=3,
                )
            )
        PrintJob.objects.bulk_create(jobs)
        delivery.job_events_created(jobs, actor=actor, message="reprint")
        transaction.on_commit(partial(delivery.jobs_announce, jobs), robust=True)
    return jobs


def print_jobs_retry_failed(*, actor: str) -> int:
    """Retry every failed job; returns how many went back to the queue."""
    return sum(
        print_job_retry(job_id=pk, actor=actor)
        for pk in PrintJob.objects.filter(status=PrintJob.Status.FAILED).values_list(
            "pk", flat=True
        )
    )


def print_job_cancel(*, job_id: int, actor: str) -> bool:
    """Cancel a job not yet printing; the sockets that had it are told with `cancel_job`."""
    with transaction.atomic():
        moved = delivery.jobs_move(
            PrintJob.objects.filter(pk=job_id, status__in=PrintJob.WAITING),
            to=PrintJob.Status.CANCELLED,
            event="cancelled",
            actor=actor,
            changes={"sent_connection": None, "not_before": None},
        )
        if moved:
            transaction.on_commit(
                partial(delivery.jobs_wake, [row["printer_id"] for row in moved]), robust=True
            )
    return bool(moved)


def print_job_retry(*, job_id: int, actor: str) -> bool:
    """Put a failed, expired or cancelled job back in the queue, with a fresh retry budget."""
    with transaction.atomic():
        moved = delivery.jobs_move(
            PrintJob.objects.filter(pk=job_id, status__in=PrintJob.RETRYABLE),
            to=PrintJob.Status.PENDING,
            event="retried",
            actor=actor,
            changes={
                "retry_count": 0,
                "not_before": None,
                "queued_at": timezone.now(),
                "completed_at": None,
                "sent_connection": None,
            },
        )
        if moved:
            job = PrintJob.objects.select_related("order", "printer").get(pk=job_id)
            transaction.on_commit(partial(delivery.jobs_announce, [job]), robust=True)
    return bool(moved)


def print_jobs_failover() -> int:
    """Move jobs waiting too long for an offline printer to its backup printer, once.

    Order receipts are laid out again for the backup's paper, with a stamp naming the
    printer they were meant for.
    """
    cutoff = timezone.now() - timedelta(seconds=settings.PRINT_FAILOVER_AFTER)
    stuck = PrintJob.objects.filter(
        status=PrintJob.Status.PENDING,
        failover_from__isnull=True,
        queued_at__lte=cutoff,
        printer__backup_printer__is_active=True,
        job_type__in=(PrintJob.JobType.ORDER, PrintJob.JobType.REPRINT, PrintJob.JobType.TEXT),
    ).exclude(printer__in=selectors.printers_online())
    moved = []
    for job_id in stuck.values_list("pk", flat=True)[:200]:
        with transaction.atomic():
            job = (
                PrintJob.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("printer__backup_printer", "order")
                .filter(pk=job_id, status=PrintJob.Status.PENDING, failover_from__isnull=True)
                .first()
            )
            if job is None:
                continue
            original, backup = job.printer, job.printer.backup_printer
            stamp = f"备用打印 (原: {original.name})"
            if job.order is not None:
                receipt = receipt_for_order(order=job.order)
                content = render_receipt(receipt, paper_width=backup.paper_width, stamp=stamp)
            else:
                content = stamp_text(job.print_content, stamp, paper_width=backup.paper_width)
            delivery.jobs_move(
                PrintJob.objects.filter(pk=job.pk),
                to=PrintJob.Status.PENDING,
                event="failover",
                changes={"printer": backup, "failover_from": original, "print_content": content},
                message=f"{original.name} offline for {settings.PRINT_FAILOVER_AFTER:g} s: "
                f"moved to {backup.name}",
            )
            job.printer, job.print_content = backup, content
            moved.append(job)
    if moved:
        delivery.jobs_announce(moved)
    return len(moved)


# Printers


def printer_token_issue(*, printer: PrinterConfig) -> str:
    """A new secret token for the printer, returned once; the old one stops working and the
    sockets that used it are closed."""
    token = access.token_new()
    with transaction.atomic():
        PrinterConfig.objects.filter(pk=printer.pk).update(
            token_hash=access.token_hash(token),
            token_issued_at=timezone.now(),
            updated_at=timezone.now(),
        )
        transaction.on_commit(partial(delivery.printers_check, [printer.pk]), robust=True)
    logger.info("printer=%s event=token_issued", printer.pk)
    return token


def printer_set_active(*, printer: PrinterConfig, active: bool) -> None:
    """Enable or disable a printer; a disabled printer's sockets are closed."""
    with transaction.atomic():
        PrinterConfig.objects.filter(pk=printer.pk).update(
            is_active=active, updated_at=timezone.now()
        )
        transaction.on_commit(partial(delivery.printers_check, [printer.pk]), robust=True)
    logger.info("printer=%s event=%s", printer.pk, "enabled" if active else "disabled")


def printer_deleted(*, printer_id: int) -> None:
    """A deleted printer's sockets are closed once the deletion commits; the heartbeat only
    looks at printers that still exist."""
    transaction.on_commit(partial(delivery.printers_check, [printer_id]), robust=True)


def printer_by_token(*, token: str) -> PrinterConfig | None:
    return PrinterConfig.objects.filter(token_hash=access.token_hash(token)).first()


TICKET_SALT = "printing.socket-ticket"
TICKET_SECONDS = 60


def printer_ticket_issue(*, printer: PrinterConfig, user: str) -> str:
    """A one-minute pass for a staff member's browser to open a socket as this printer
    (the WebSocket test tool): staff never see the printer's token."""
    return signing.dumps({"printer": printer.pk, "by": user}, salt=TICKET_SALT)


def printer_by_ticket(*, ticket: str) -> PrinterConfig | None:
    try:
        data = signing.loads(ticket, salt=TICKET_SALT, max_age=TICKET_SECONDS)
    except signing.BadSignature:
        return None
    return PrinterConfig.objects.filter(pk=data.get("printer")).first()


def printers_access(
    *, printer_ids: list[int], changed_since=None
) -> dict[int, tuple[bool, str | None]]:
    """{printer id: (is_active, token_hash)} for re-checking the sockets bound to them: these
    printers, or (with `changed_since`) those of them changed since then."""
    printers = PrinterConfig.objects.all()
    if changed_since is not None:
        printers = printers.filter(updated_at__gte=changed_since)
    elif len(printer_ids) <= 100:
        printers = printers.filter(pk__in=printer_ids)
    wanted = set(printer_ids)
    return {
        pk: (active, token)
        for pk, active, token in printers.values_list("pk", "is_active", "token_hash")
        if pk in wanted
    }


# Network printers


NETWORK_LEASE_SECONDS = 30


def network_printers_due() -> list[PrinterConfig]:
    """Active network printers with a job ready to print."""
    now = timezone.now()
    ready = PrintJob.objects.filter(printer=OuterRef("pk"), status=PrintJob.Status.PENDING).filter(
        Q(not_before__isnull=True) | Q(not_before__lte=now)
    )
    return list(
        PrinterConfig.objects.filter(
            is_active=True, connection_type=PrinterConfig.ConnectionType.NETWORK
        ).filter(Exists(ready))
    )


def network_printers_to_probe(*, server_id: int) -> list[PrinterConfig]:
    """Active network printers nobody else is printing to (a probe would get in the way)."""
    return list(
        PrinterConfig.objects.filter(
            is_active=True, connection_type=PrinterConfig.ConnectionType.NETWORK
        ).filter(
            Q(network_lease_until__isnull=True)
            | Q(network_lease_until__lt=timezone.now())
            | Q(network_lease_owner=server_id)
        )
    )


def network_printer_lease(*, printer_id: int, server_id: int) -> bool:
    """Take (or renew) the right to print to this network printer; one process at a time."""
    now = timezone.now()
    return bool(
        PrinterConfig.objects.filter(pk=printer_id)
        .filter(
            Q(network_lease_until__isnull=True)
            | Q(network_lease_until__lt=now)
            | Q(network_lease_owner=server_id)
        )
        .update(
            network_lease_owner=server_id,
            network_lease_until=now + timedelta(seconds=NETWORK_LEASE_SECONDS),
        )
    )


def network_printer_release(*, printer_id: int, server_id: int) -> None:
    PrinterConfig.objects.filter(pk=printer_id, network_lease_owner=server_id).update(
        network_lease_owner=None, network_lease_until=None
    )


def network_printer_record(*, printer_id: int, problem: str | None, reachable: bool) -> None:
    """Keep what a probe or a print found out about a network printer."""
    status = PrinterConfig.NetworkStatus
    if not reachable:
        found = status.OFFLINE
    elif problem is None:
        found = status.ONLINE
    elif "paper" in problem:
        found = status.PAPER_OUT
    elif "cover" in problem:
        found = status.COVER_OPEN
    else:
        found = status.OFFLINE
    printer = PrinterConfig.objects.filter(pk=printer_id)
    before = printer.values_list("network_status", flat=True).first()
    printer.update(network_status=found, network_checked_at=timezone.now())
    if before != found:
        logger.info(
            "printer=%s event=network_status from=%s to=%s problem=%s",
            printer_id,
            before or "unknown",
            found,
            problem or "-",
        )


# Printer sockets


def printer_connection_open(
    *,
    server_id: int,
    client_address: str,
    path: str,
    printer_id: int | None = None,
    authenticated_by: str = "",
) -> int:
    connection = PrinterConnection.objects.create(
        server_id=server_id,
        client_address=client_address[:64],
        path=path[:200],
        printer_id=printer_id,
        authenticated_by=authenticated_by,
    )
    return connection.pk


def printer_connection_identify(
    *, connection_id: int, info: protocol.PrinterInfo, printer_id: int | None = None
) -> PrinterConfig | None:
    """Keep what the client said about itself. A socket let in by its token stays that
    printer's; one from a trusted network is bound to the active printer of that name."""
    printers = PrinterConfig.objects.filter(is_active=True)
    if printer_id is not None:
        printer = printers.filter(pk=printer_id).first()
    else:
        printer = printers.filter(name=info.name).first()
    PrinterConnection.objects.filter(pk=connection_id).update(
        printer=printer,
        reported_name=info.name[:100],
        reported_model=info.model[:100],
        reported_status=info.status[:100],
        printer_info=info.info,
        last_seen=timezone.now(),
    )
    return printer


def printer_connection_close(*, connection_id: int, code: int | None) -> int:
    """Mark the socket closed and put the jobs it held back in the queue; returns how many."""
    with transaction.atomic():
        PrinterConnection.objects.filter(pk=connection_id, closed_at=None).update(
            closed_at=timezone.now(), close_code=code
        )
        return delivery.jobs_release(connection_ids=[connection_id])


# Server processes


def server_processes_reap_host(*, silent_only: bool = False) -> int:
    """Stop the records of this host's server processes that died unannounced (kill -9, a
    power cut): their sockets are closed and their jobs offered again at once.

    With `silent_only` (every heartbeat), only those that missed two heartbeats: processes
    in other pid namespaces (containers on the host network) can share the hostname, and a
    pid that is gone or ours here may be alive there.
    """
    hostname, pid = socket.gethostname(), os.getpid()
    released = 0
    processes = ServerProcess.objects.filter(hostname=hostname, stopped_at=None)
    if silent_only:
        silent = timezone.now() - timedelta(seconds=2 * settings.PRINT_HEARTBEAT_INTERVAL)
        processes = processes.filter(last_seen__lt=silent)
    for process in processes:
        # Same pid, earlier record: this process restarted in place (a container's pid 1).
        if (process.pid == pid and process.pk not in _own_records) or not _pid_alive(process.pid):
            released += server_process_stop(server_id=process.pk, reason="gone")
    return released


def server_process_register(*, channel_layer: str) -> int:
    """Record this process, after reaping this host's dead ones."""
    hostname, pid = socket.gethostname(), os.getpid()
    server_processes_reap_host()
    process = ServerProcess.objects.create(
        hostname=hostname, pid=pid, version=protocol.SERVER_VERSION, channel_layer=channel_layer
    )
    _own_records.add(process.pk)
    return process.pk


# The ServerProcess rows this process wrote: its own pid on them is not a sign of death.
_own_records: set[int] = set()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def server_process_heartbeat(
    *, server_id: int, heard_connection_ids: list[int], quiet_connection_ids: list[int]
) -> None:
    """This process is alive, and so are the sockets heard from since the last beat: named
    by the few that were not (almost every socket answers its pings), not by a list of
    thousands."""
    now = timezone.now()
    ServerProcess.objects.filter(pk=server_id).update(last_seen=now)
    if not heard_connection_ids:
        return
    connections = PrinterConnection.objects.filter(server_id=server_id, closed_at=None)
    if len(quiet_connection_ids) < len(heard_connection_ids):
        connections = connections.exclude(pk__in=quiet_connection_ids)
    else:
        connections = connections.filter(pk__in=heard_connection_ids)
    connections.update(last_seen=now)


def server_process_stop(*, server_id: int, reason: str = "stopped") -> int:
    """Mark a process stopped and close its sockets; returns how many jobs went back to pending.

    The conditional update makes this safe when several live processes reap the same one.
    """
    now = timezone.now()
    with transaction.atomic():
        if not ServerProcess.objects.filter(pk=server_id, stopped_at=None).update(stopped_at=now):
            return 0
        connection_ids = list(
            PrinterConnection.objects.filter(server_id=server_id, closed_at=None).values_list(
                "pk", flat=True
            )
        )
        PrinterConnection.objects.filter(pk__in=connection_ids).update(closed_at=now)
        released = delivery.jobs_release(connection_ids=connection_ids)
    logger.info(
        "server=%s event=%s connections_closed=%s jobs_released=%s",
        server_id,
        reason,
        len(connection_ids),
        released,
    )
    return released


def server_processes_reap() -> int:
    """Stop processes that died: on this host at once (their pid is gone), elsewhere when
    their heartbeat is too old. Returns how many jobs went back to pending."""
    cutoff = timezone.now() - timedelta(seconds=settings.PRINT_SERVER_DEAD_AFTER)
    dead = ServerProcess.objects.filter(stopped_at=None, last_seen__lt=cutoff)
    return server_processes_reap_host(silent_only=True) + sum(
        server_process_stop(server_id=pk, reason="presumed_dead")
        for pk in dead.values_list("pk", flat=True)
    )
