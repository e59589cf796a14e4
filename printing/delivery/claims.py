"""The queue: which jobs wait for a process's sockets, claiming them for a socket, marking
the bell's deliveries sent, and putting jobs of lost sockets back."""

import itertools
from collections import defaultdict
from collections.abc import Collection
from typing import Any

from django.db.models import Exists, F, Q
from django.utils import timezone

from printing.delivery.transitions import Transition, jobs_transition
from printing.models import PrinterConnection, PrintJob

Status = PrintJob.Status
# Upper bound on the jobs one sweep reads; a larger backlog drains over several sweeps.
SWEEP_LIMIT = 2000
# Past this many local printers, the sweep reads every waiting job and filters here rather
# than sending the database an IN list of thousands of ids twice a second.
IN_LIST_LIMIT = 100


def jobs_waiting(*, printer_ids: Collection[int]) -> list[tuple[int, int | None, str]]:
    """(id, printer_id, status) of jobs to offer for these printers or for all, in order."""
    due = Q(not_before__isnull=True) | Q(not_before__lte=timezone.now())
    waiting = PrintJob.objects.filter(due, status__in=PrintJob.WAITING)
    local = set(printer_ids)
    if len(local) <= IN_LIST_LIMIT:
        waiting = waiting.filter(Q(printer__isnull=True) | Q(printer_id__in=local))
    rows = waiting.order_by("priority", "created_at", "id").values_list(
        "id", "printer_id", "status"
    )
    if len(local) <= IN_LIST_LIMIT:
        return list(rows[:SWEEP_LIMIT])
    mine = (row for row in rows.iterator() if row[1] is None or row[1] in local)
    return list(itertools.islice(mine, SWEEP_LIMIT))


def jobs_statuses(*, job_ids: Collection[int]) -> dict[int, str]:
    return dict(PrintJob.objects.filter(id__in=list(job_ids)).values_list("id", "status"))


def _sent(connection_id: int, attempt: Any) -> Transition:
    changes = {
        "sent_at": timezone.now(),
        "received_at": None,
        "sent_connection_id": connection_id,
        "delivery_attempts": attempt,
    }
    return Transition(Status.SENT, "sent", changes, new_attempt=True)


def jobs_claim_and_load(*, claims: dict[int, list[int]], job_ids: list[int]) -> dict[int, PrintJob]:
    """Claim pending jobs for the sockets about to get them ({connection: [job ids]});
    return the jobs `job_ids` as they now are.

    A job another process is claiming is skipped; it is loaded as that process left it.
    """
    for connection_id, ids in claims.items():
        jobs_transition(
            PrintJob.objects.filter(id__in=ids, status=Status.PENDING),
            _sent(connection_id, F("delivery_attempts") + 1),
            connection_id=connection_id,
            skip_locked=True,
        )
    return PrintJob.objects.select_related("order", "printer").in_bulk(job_ids)


def jobs_mark_sent(*, sent: dict[int, list[tuple[int, int]]]) -> None:
    """Record deliveries made by the bell: {connection: [(job, attempt), ...]}.

    The frames went out before this runs, so the client may already have answered, or its
    socket closed: only a job nobody has touched since (still pending, no failure counted,
    socket open) becomes sent; every offered job counts the attempt.
    """
    for connection_id, pairs in sent.items():
        by_attempt: dict[int, list[int]] = defaultdict(list)
        for job_id, attempt in pairs:
            by_attempt[attempt].append(job_id)
        socket_open = Exists(PrinterConnection.objects.filter(pk=connection_id, closed_at=None))
        for attempt, ids in by_attempt.items():
            offered = PrintJob.objects.filter(id__in=ids, delivery_attempts=attempt - 1)
            moved = jobs_transition(
                offered.filter(socket_open, status=Status.PENDING, retry_count=0, not_before=None),
                _sent(connection_id, attempt),
                connection_id=connection_id,
            )
            if len(moved) < len(ids):
                offered.update(delivery_attempts=attempt)


def jobs_requeue(*, connection_ids: Collection[int], message: str = "socket closed") -> int:
    """Put the jobs held by these lost sockets back in the queue; returns how many."""
    if not connection_ids:
        return 0
    held = PrintJob.objects.filter(
        status__in=PrintJob.HELD, sent_connection_id__in=list(connection_ids)
    )
    transition = Transition(Status.PENDING, "released", {"sent_connection": None}, message)
    return len(jobs_transition(held, transition))
