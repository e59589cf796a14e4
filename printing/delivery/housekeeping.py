"""Housekeeping of the queue, run by every server process (the row locks make each job move
once): the ack and printing timeouts, jobs held by sockets already gone, expiry, and failover
to a backup printer."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from printing import selectors, tickets
from printing.delivery.bell import jobs_announce
from printing.delivery.transitions import Transition, jobs_transition
from printing.models import PrintJob

Status = PrintJob.Status
# Failover moves at most this many jobs a round; the next round takes the rest.
FAILOVER_BATCH = 200
# Paper tickets move to a backup printer; a test page is for its own printer.
FAILOVER_TYPES = (
    PrintJob.JobType.ORDER,
    PrintJob.JobType.KITCHEN,
    PrintJob.JobType.VOID,
    PrintJob.JobType.LABEL,
    PrintJob.JobType.REPRINT,
    PrintJob.JobType.TEXT,
)


def jobs_maintain() -> int:
    """Timeouts, orphans and expiry; returns how many jobs went back to pending.

    Expiry runs last, so that a job the timeouts put back and that was queued too long ago
    expires at once instead of printing late.
    """
    requeued = jobs_ack_timeout() + jobs_printing_timeout() + jobs_orphans_requeue()
    jobs_expire()
    return requeued


def jobs_ack_timeout() -> int:
    """Jobs sent with no word from the client within PRINT_ACK_TIMEOUT go back to pending."""
    timeout = settings.PRINT_ACK_TIMEOUT
    silent = PrintJob.objects.annotate(last_word=Coalesce("received_at", "sent_at")).filter(
        status=Status.SENT, last_word__lt=timezone.now() - timedelta(seconds=timeout)
    )
    message = f"no status from the client within {timeout:g} s"
    return _move_any(
        silent, Transition(Status.PENDING, "ack_timeout", {"sent_connection": None}, message)
    )


def jobs_printing_timeout() -> int:
    """Jobs reported `printing` longer than PRINT_PRINTING_TIMEOUT ago with no outcome go
    back to pending: a client stuck (or lying) must not hold a receipt forever. Their next
    offer is marked a possible duplicate (the job keeps its `started_at`)."""
    timeout = settings.PRINT_PRINTING_TIMEOUT
    stuck = PrintJob.objects.filter(
        status=Status.PRINTING, started_at__lt=timezone.now() - timedelta(seconds=timeout)
    )
    message = f"no outcome within {timeout:g} s of printing"
    return _move_any(
        stuck, Transition(Status.PENDING, "printing_timeout", {"sent_connection": None}, message)
    )


def jobs_orphans_requeue() -> int:
    """Jobs held by a socket already closed (a close that raced a delivery), or by a server
    process whose lease on a network printer ran out (it died while printing)."""
    network = Q(printer__connection_type="network")
    orphans = PrintJob.objects.filter(
        (Q(sent_connection__isnull=True) & ~network)
        | Q(sent_connection__closed_at__isnull=False)
        | (network & Q(printer__network_lease_until__lt=timezone.now())),
        status__in=PrintJob.HELD,
    )
    message = "socket already closed"
    return _move_any(
        orphans, Transition(Status.PENDING, "released", {"sent_connection": None}, message)
    )


def jobs_expire() -> int:
    """Jobs not delivered within PRINT_JOB_EXPIRE_AFTER of being queued give up."""
    after = settings.PRINT_JOB_EXPIRE_AFTER
    reason = f"未在 {after / 60:g} 分钟内送达 / not delivered within {after:g} s"
    old = PrintJob.objects.filter(
        status__in=PrintJob.WAITING, queued_at__lt=timezone.now() - timedelta(seconds=after)
    )
    changes = {"sent_connection": None, "not_before": None, "error_message": reason}
    return _move_any(old, Transition(Status.EXPIRED, "expired", changes, reason))


def _move_any(jobs: QuerySet, transition: Transition) -> int:
    # Usually there is nothing to move: found out without a write transaction (on SQLite,
    # BEGIN IMMEDIATE takes the database's one write lock).
    if not jobs.exists():
        return 0
    return len(jobs_transition(jobs, transition, skip_locked=True))


def jobs_failover() -> int:
    """Move jobs waiting too long for an offline printer to its backup printer, once.

    Order receipts are laid out again for the backup's paper, with a stamp naming the
    printer they were meant for.
    """
    cutoff = timezone.now() - timedelta(seconds=settings.PRINT_FAILOVER_AFTER)
    stuck = PrintJob.objects.filter(
        status=Status.PENDING,
        failover_from__isnull=True,
        queued_at__lte=cutoff,
        printer__backup_printer__is_active=True,
        job_type__in=FAILOVER_TYPES,
    ).exclude(printer__in=selectors.printers_online())
    moved = [
        job for pk in stuck.values_list("pk", flat=True)[:FAILOVER_BATCH] if (job := _failover(pk))
    ]
    if moved:
        jobs_announce(moved)
    return len(moved)


def _failover(job_id: int) -> PrintJob | None:
    with transaction.atomic():
        job = (
            PrintJob.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("printer__backup_printer", "order")
            .filter(pk=job_id, status=Status.PENDING, failover_from__isnull=True)
            .first()
        )
        if job is None:
            return None
        original, backup = job.printer, job.printer.backup_printer
        content, layout = tickets.relaid_for_printer(
            job, printer=backup, stamp=f"备用打印 (原: {original.name})"
        )
        message = (
            f"{original.name} offline for {settings.PRINT_FAILOVER_AFTER:g} s: "
            f"moved to {backup.name}"
        )
        changes = {
            "printer": backup,
            "failover_from": original,
            "print_content": content,
            "layout": layout,
        }
        jobs_transition(
            PrintJob.objects.filter(pk=job.pk),
            Transition(Status.PENDING, "failover", changes, message),
        )
        job.printer, job.print_content, job.layout = backup, content, layout
        return job
