"""Print outcomes: a client's `print_status`, or the server's own network print, applied to
the job. Which report may move which job where is decided by two pure functions."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from printing import protocol
from printing.delivery.transitions import ACTOR_CLIENT, ROW_FIELDS, Move, Transition, moves_write
from printing.models import PrintJob, PrintJobEvent

logger = logging.getLogger("printing.delivery")
Status = PrintJob.Status


@dataclass(frozen=True)
class Report:
    """A print outcome for one job.

    With `check_printer` (a client's socket) the report must come from the delivery: the job
    must be the socket's printer's (`printer_id`) or nobody's, and the socket must have been
    sent it (`offered_attempt`: the latest attempt of the job sent on this socket, None if
    none) or hold it. Without (the server's own network print) it is believed.
    """

    job_id: int
    status: str
    message: str = ""
    connection_id: int | None = None
    actor: str = ACTOR_CLIENT
    check_printer: bool = True
    printer_id: int | None = None
    offered_attempt: int | None = None


@dataclass(frozen=True)
class StatusOutcome:
    applied: bool
    job_status: str


def retry_backoff(retry_count: int) -> float:
    """Seconds to wait before offering a job again after its `retry_count`-th failure."""
    base = settings.PRINT_RETRY_BACKOFF
    return min(base * 2 ** (retry_count - 1), settings.PRINT_RETRY_BACKOFF_MAX)


def reports_apply(reports: list[Report]) -> list[StatusOutcome | protocol.ProtocolError]:
    """Apply print outcomes in order, in one transaction; one result per report.

    A report that does not fit the job's state (a repeat, `failed` after `completed`, a
    second `failed` of one attempt) changes nothing: `job_id` is the idempotency key. A
    report the socket may not make (see report_refusal) comes back as a ProtocolError and
    changes nothing.
    """
    now = timezone.now()
    results: list[StatusOutcome | protocol.ProtocolError] = []
    moves: list[Move] = []
    with transaction.atomic(savepoint=False):
        rows = {
            row["id"]: row
            for row in PrintJob.objects.filter(id__in={r.job_id for r in reports})
            .select_for_update(of=("self",))
            .values(*ROW_FIELDS, *_REPORT_FIELDS)
        }
        _mark_failed_attempts(rows, reports)
        for report in reports:
            row = rows.get(report.job_id)
            refused = report_refusal(report, row)
            if refused is not None:
                results.append(refused)
                continue
            transition = report_transition(row, report, now)
            if transition is None:
                logger.info(
                    "job=%s socket=%s event=status_ignored reported=%s status=%s",
                    report.job_id,
                    report.connection_id or "-",
                    report.status,
                    row["status"],
                )
                results.append(StatusOutcome(applied=False, job_status=row["status"]))
                continue
            moves.append(
                Move.of(row, transition, actor=report.actor, connection_id=report.connection_id)
            )
            # The next report of this job in the batch sees the state this one left.
            row.update(status=transition.to)
            row.update((k, v) for k, v in transition.changes.items() if k in row)
            if transition.event == "failed":
                row["attempt_failed"] = True
            results.append(StatusOutcome(applied=True, job_status=transition.to))
        moves_write(moves)
    return results


# What a report needs to know of a job besides ROW_FIELDS.
_REPORT_FIELDS = ("retry_count", "max_retries", "started_at", "sent_connection_id")


def _mark_failed_attempts(rows: dict[int, dict[str, Any]], reports: list[Report]) -> None:
    """Set each row's `attempt_failed`: a failure is already recorded for its current
    attempt. Only a pending job can have one (a failure leaves the job pending, and only a
    claim, which starts a new attempt, sends it again), so only pending jobs that get a
    `printing` or `failed` report are looked up: a client's usual reports cost nothing more."""
    asked = {
        r.job_id
        for r in reports
        if r.status in ("printing", "failed")
        and r.job_id in rows
        and rows[r.job_id]["status"] == Status.PENDING
    }
    failed = set()
    if asked:
        failed = set(
            PrintJobEvent.objects.filter(job_id__in=asked, event="failed").values_list(
                "job_id", "attempt"
            )
        )
    for row in rows.values():
        row["attempt_failed"] = (row["id"], row["delivery_attempts"]) in failed


def report_refusal(report: Report, row: dict[str, Any] | None) -> protocol.ProtocolError | None:
    """Why this socket may not report on this job (None: it may).

    A job that does not exist and another printer's job get the same answer, so that a
    socket cannot find out which job ids exist. `printing`, `received` and `failed` come
    only from a socket the current attempt was sent to (or that holds the job); `completed`
    also from one sent an earlier attempt: it printed that one, and says so late.
    """
    if row is None:
        return protocol.unknown_job(report.job_id)
    if not report.check_printer:
        return None
    if row["printer_id"] not in (None, report.printer_id):
        return protocol.unknown_job(report.job_id)
    if report.connection_id is not None and report.connection_id == row["sent_connection_id"]:
        return None
    offered = report.offered_attempt
    if offered is not None and (
        offered >= row["delivery_attempts"] or report.status == "completed"
    ):
        return None
    return protocol.wrong_socket(report.job_id)


# What each reported status may move a job from.
_ACCEPTED_FROM = {
    "received": (Status.SENT,),
    "printing": (Status.PENDING, Status.SENT),
    "completed": (Status.PENDING, Status.SENT, Status.PRINTING),
    "failed": (Status.PENDING, Status.SENT, Status.PRINTING),
}


def report_transition(row: dict[str, Any], report: Report, now: datetime) -> Transition | None:
    """Where the report moves the job, or None when it does not fit the job's state.

    An attempt fails at most once: a `failed` (or a `printing`) for an attempt whose failure
    is already counted is a replay, and would spend the retries without their backoff.
    """
    if row["status"] not in _ACCEPTED_FROM[report.status]:
        return None
    if report.status in ("printing", "failed") and row.get("attempt_failed"):
        return None
    if report.status == "received":
        return Transition(Status.SENT, "received", {"received_at": now}, report.message)
    if report.status == "printing":
        # Whoever prints it holds it: if this socket is lost, the job is offered again.
        changes = {"started_at": now, "sent_connection_id": report.connection_id}
        return Transition(Status.PRINTING, "printing", changes, report.message)
    if report.status == "completed":
        changes = {"completed_at": now, "error_message": None}
        if row["started_at"] is None:
            changes["started_at"] = now
        return Transition(Status.COMPLETED, "completed", changes, report.message)
    return _failure(row, report, now)


def _failure(row: dict[str, Any], report: Report, now: datetime) -> Transition:
    """Count the failure; offer the job again after a backoff, or give up at max_retries."""
    message = report.message or "打印失败 / print failed"
    retries = row["retry_count"] + 1
    # The printer said it did not print: the next attempt is not a possible duplicate.
    changes = {
        "retry_count": retries,
        "error_message": message,
        "sent_connection_id": None,
        "started_at": None,
    }
    if retries < row["max_retries"]:
        delay = retry_backoff(retries)
        changes["not_before"] = now + timedelta(seconds=delay)
        note = f"{message} (retry {retries}/{row['max_retries']} in {delay:g} s)"
        return Transition(Status.PENDING, "failed", changes, note)
    note = f"{message} (gave up after {retries} failures)"
    return Transition(Status.FAILED, "failed", changes, note)
