"""Delivery of print jobs to printer sockets: ring, claim, send, acknowledge, release.

The print_job table is the queue; the channel layer only rings the bell. Each server process
runs one Dispatcher that holds the printer sockets connected to that process.

- Fast path: when jobs commit, one bell per printer group carries each job's frame, built
  once, to the dispatchers holding a socket for that printer: one channel-layer message per
  process, not per socket. The dispatcher writes the frame to its sockets, then marks the jobs
  sent.
- Catch-up: the dispatcher sweeps the table on an interval and whenever a socket connects or
  names its printer, and offers every waiting job to each local socket that should have it
  and has not had it on this connection, most urgent first, then oldest. That covers
  reconnects, restarts, confirmations made in another process on the in-memory layer, and any
  bell a channel layer dropped.

A job held by a socket that goes away (closed, or its server process died) goes back to
pending and is offered again with the next attempt number; clients dedupe on job_id.
"""

import asyncio
import contextlib
import itertools
import logging
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.db import DatabaseError, close_old_connections, connections, transaction
from django.db.models import Exists, F, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from printing import access, protocol
from printing.devices import DeviceError, NetworkDevice
from printing.escpos_encode import encode_job
from printing.models import PrinterConnection, PrintJob, PrintJobEvent

if TYPE_CHECKING:
    from channels.generic.websocket import AsyncWebsocketConsumer

logger = logging.getLogger("printing.delivery")

BROADCAST_GROUP = "print.all"
# Every dispatcher: woken to print to network printers at once.
NETWORK_GROUP = "print.network"
BELL = "print.jobs"
WAKE = "print.wake"
CHECK = "print.check"
# Upper bound on the jobs one sweep reads; a larger backlog drains over several sweeps.
SWEEP_LIMIT = 2000
# Group memberships are renewed this often: far inside channels' group_expiry (a day), and
# soon enough after a Redis restart that forgot them (pub/sub resubscribes by itself).
GROUPS_REJOIN_INTERVAL = 60
Status = PrintJob.Status


def printer_group(printer_id: int) -> str:
    return f"print.printer.{printer_id}"


class _OrmCall(SyncToAsync):
    """ORM work off the event loop. Unlike channels' database_sync_to_async, a call does not
    recycle its thread's connections (with CONN_HEALTH_CHECKS that is one extra query per
    call); a call the database failed closes the broken connection so the next reconnects."""

    def thread_handler(self, loop, *args, **kwargs):
        try:
            return super().thread_handler(loop, *args, **kwargs)
        except DatabaseError:
            for connection in connections.all(initialized_only=True):
                connection.close_if_unusable_or_obsolete()
            raise
        finally:
            if settings.DATABASES["default"].get("CONN_MAX_AGE") == 0:
                close_old_connections()


_orm_executor: ThreadPoolExecutor | None = None


def orm_executor() -> ThreadPoolExecutor | None:
    """SQLite takes one writer at a time and makes the others sleep-poll for the lock, in
    sleeps of up to 100 ms: one thread does all of this process's database work, in order
    (the requests' too, see shop/asgi.py). PostgreSQL gets thread pools, so round trips
    overlap."""
    global _orm_executor
    if connections["default"].vendor != "sqlite":
        return None
    if _orm_executor is None:
        _orm_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="print-db")
    return _orm_executor


def db(func):
    """Run ORM work for the dispatcher and the consumers off the event loop."""
    return _OrmCall(func, thread_sensitive=False, executor=orm_executor())


# Frames


def job_frame(job: PrintJob, *, attempt: int) -> str:
    """The protocol message for one job, serialised once for every socket that gets it."""
    printer = job.printer
    paper_width = printer.paper_width if printer else 80
    printer_type = printer.printer_type if printer else "thermal"
    target = None
    # The seed's two keys first; then how an ESC/POS agent should encode it.
    printer_config = {"paper_width": paper_width, "printer_type": printer_type}
    if printer:
        target = {"id": printer.pk, "name": printer.name, "ip_address": printer.ip_address}
        printer_config |= printer.escpos_settings().as_mapping()
    if job.job_type == PrintJob.JobType.TEST:
        message = protocol.print_command(
            command="test_print",
            data={
                "job_id": job.pk,
                "content": job.print_content,
                "copies": job.copies,
                "attempt": attempt,
                "printer_config": printer_config,
                "target_printer": target,
            },
        )
        return protocol.dumps(message)
    order = job.order
    order_info = None
    if order is not None:
        order_info = {
            "id": order.pk,
            "status": order.status,
            "total_amount": float(order.total_amount),
            "customer_phone": order.customer_phone,
            "created_at": protocol.now_iso(order.created_at),
        }
    message = protocol.new_order(
        job_id=job.pk,
        order_id=job.order_id,
        job_type=job.job_type,
        content=job.print_content,
        copies=job.copies,
        priority=job.priority,
        attempt=attempt,
        order_info=order_info,
        printer_config=printer_config,
        printer=target,
    )
    return protocol.dumps(message)


# The bell (runs in whichever process committed the jobs)


def _group(printer_id: int | None) -> str:
    return printer_group(printer_id) if printer_id else BROADCAST_GROUP


def jobs_announce(jobs: Iterable[PrintJob]) -> None:
    """Ring the dispatchers that hold sockets for these (pending) jobs. Best effort: the sweep
    is the guarantee, so a channel layer that is down costs latency, never a job."""
    bells: dict[str, list[dict[str, Any]]] = defaultdict(list)
    wake_network = False
    for job in jobs:
        if job.printer is not None and job.printer.connection_type == "network":
            wake_network = True
            continue
        attempt = job.delivery_attempts + 1
        bells[_group(job.printer_id)].append(
            {
                "id": job.pk,
                "printer_id": job.printer_id,
                "attempt": attempt,
                "frame": job_frame(job, attempt=attempt),
            }
        )
    messages = {group: {"type": BELL, "jobs": jobs} for group, jobs in bells.items()}
    if wake_network:
        messages[NETWORK_GROUP] = {"type": WAKE}
    _ring(messages)


def jobs_wake(printer_ids: Iterable[int | None]) -> None:
    """Ask the dispatchers holding these printers' sockets to sweep now (e.g. to cancel)."""
    _ring({_group(printer_id): {"type": WAKE} for printer_id in set(printer_ids)})


def printers_check(printer_ids: Iterable[int]) -> None:
    """Ask the dispatchers to re-check these printers' sockets (disabled? token revoked?)."""
    ids = sorted(set(printer_ids))
    _ring({printer_group(pk): {"type": CHECK, "printer_ids": ids} for pk in ids})


def _ring(messages: dict[str, dict[str, Any]]) -> None:
    try:
        in_server = getattr(SyncToAsync.threadlocal, "main_event_loop", None) is not None
        if in_server or isinstance(get_channel_layer(), InMemoryChannelLayer):
            # A request or a dispatcher call in a server process rings on its event loop.
            async_to_sync(_group_send)(messages)
        else:
            # A shell, a worker, a script on Redis: a long-lived loop of our own keeps one
            # connection, rather than a new loop and connection per bell.
            _bell_loop().submit(_group_send(messages)).result(timeout=10)
    except Exception as exc:
        logger.warning("bell failed (%s); the database sweep will deliver instead", exc)


class _BellLoop:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, name="print-bells", daemon=True).start()

    def submit(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)


_bell_loop_instance: _BellLoop | None = None
_bell_loop_lock = threading.Lock()


def _bell_loop() -> _BellLoop:
    global _bell_loop_instance
    with _bell_loop_lock:
        if _bell_loop_instance is None:
            _bell_loop_instance = _BellLoop()
        return _bell_loop_instance


async def _group_send(messages: dict[str, dict[str, Any]]) -> None:
    layer = get_channel_layer()
    for group, message in messages.items():
        await layer.group_send(group, message)


# State changes. Every one goes through jobs_move: lock the rows (skipping rows another process is
# moving), change them, record a PrintJobEvent each, and log a line each.

ACTOR_CLIENT = "client"
ACTOR_SERVER = "server"


def jobs_move(
    jobs: QuerySet,
    *,
    to: str,
    event: str,
    actor: str = ACTOR_SERVER,
    changes: dict[str, Any] | None = None,
    connection_id: int | None = None,
    message: str = "",
    next_attempt: bool = False,
    skip_locked: bool = False,
    usually_none: bool = False,
) -> list[dict[str, Any]]:
    """Move the jobs matching `jobs` to status `to`; returns the rows as they were.

    Sweeps pass skip_locked: a row another process is moving is that process's to move.
    """
    if usually_none and not jobs.exists():
        # The sweeps' usual answer, found without a write transaction (on SQLite, BEGIN
        # IMMEDIATE takes the database's one write lock).
        return []
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            jobs.select_for_update(skip_locked=skip_locked, of=("self",)).values(
                "id", "status", "order_id", "printer_id", "delivery_attempts"
            )
        )
        if not rows:
            return rows
        PrintJob.objects.filter(id__in=[row["id"] for row in rows]).update(
            status=to, **(changes or {})
        )
        PrintJobEvent.objects.bulk_create(
            PrintJobEvent(
                job_id=row["id"],
                created_at=now,
                from_status=row["status"],
                to_status=to,
                event=event,
                attempt=row["delivery_attempts"] + next_attempt,
                connection_id=connection_id,
                actor=actor,
                message=message,
            )
            for row in rows
        )
    for row in rows:
        _log_move(row, to, event, actor, connection_id, message, next_attempt=next_attempt)
    return rows


def _log_move(
    row: dict,
    to: str,
    event: str,
    actor: str,
    connection_id: int | None,
    message: str,
    *,
    next_attempt: bool = False,
) -> None:
    logger.info(
        "job=%s order=%s printer=%s socket=%s attempt=%s event=%s from=%s to=%s by=%s%s",
        row["id"],
        row["order_id"] or "-",
        row["printer_id"] or "*",
        connection_id or "-",
        row["delivery_attempts"] + next_attempt,
        event,
        row["status"],
        to,
        actor,
        f" message={message!r}" if message else "",
    )


def job_events_created(jobs: Iterable[PrintJob], *, actor: str, message: str = "") -> None:
    now = timezone.now()
    PrintJobEvent.objects.bulk_create(
        PrintJobEvent(
            job_id=job.pk,
            created_at=now,
            to_status=job.status,
            event="created",
            actor=actor,
            message=message,
        )
        for job in jobs
    )
    for job in jobs:
        logger.info(
            "job=%s order=%s printer=%s type=%s event=created to=%s by=%s",
            job.pk,
            job.order_id or "-",
            job.printer_id or "*",
            job.job_type,
            job.status,
            actor,
        )


# The queue


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


def _sent_changes(connection_id: int, attempt: Any) -> dict[str, Any]:
    return {
        "sent_at": timezone.now(),
        "received_at": None,
        "sent_connection_id": connection_id,
        "delivery_attempts": attempt,
    }


def jobs_claim_and_load(*, claims: dict[int, list[int]], job_ids: list[int]) -> dict[int, PrintJob]:
    """Claim pending jobs for the sockets about to get them; return the jobs as they now are.

    A job another process is claiming is skipped; it is loaded as that process left it.
    """
    for connection_id, ids in claims.items():
        jobs_move(
            PrintJob.objects.filter(id__in=ids, status=Status.PENDING),
            to=Status.SENT,
            event="sent",
            connection_id=connection_id,
            changes=_sent_changes(connection_id, F("delivery_attempts") + 1),
            next_attempt=True,
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
            moved = jobs_move(
                offered.filter(socket_open, status=Status.PENDING, retry_count=0, not_before=None),
                to=Status.SENT,
                event="sent",
                connection_id=connection_id,
                changes=_sent_changes(connection_id, attempt),
                next_attempt=True,
            )
            if len(moved) < len(ids):
                offered.update(delivery_attempts=attempt)


def network_job_claim(*, printer_id: int) -> PrintJob | None:
    """The next job for a network printer, moved to printing by the server itself."""
    now = timezone.now()
    with transaction.atomic():
        candidate = (
            PrintJob.objects.filter(printer_id=printer_id, status=Status.PENDING)
            .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
            .order_by("priority", "created_at", "id")
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("pk", flat=True)
            .first()
        )
        if candidate is None:
            return None
        jobs_move(
            PrintJob.objects.filter(pk=candidate),
            to=Status.PRINTING,
            event="printing",
            changes={
                "started_at": now,
                "sent_at": now,
                "sent_connection": None,
                "delivery_attempts": F("delivery_attempts") + 1,
            },
            next_attempt=True,
            message="printing on the network printer",
        )
        return PrintJob.objects.select_related("order", "printer").get(pk=candidate)


def jobs_release(*, connection_ids: Collection[int]) -> int:
    """Put jobs held by these (lost) sockets back in the queue."""
    if not connection_ids:
        return 0
    return len(
        jobs_move(
            PrintJob.objects.filter(
                status__in=PrintJob.HELD, sent_connection_id__in=list(connection_ids)
            ),
            to=Status.PENDING,
            event="released",
            changes={"sent_connection": None},
            message="socket closed",
        )
    )


# Housekeeping, run by every server process: the row locks make each job move once.


def jobs_maintain() -> int:
    """Ack timeouts, expiry and orphans; returns how many jobs went back to pending."""
    now = timezone.now()
    timeout = settings.PRINT_ACK_TIMEOUT
    unacknowledged = PrintJob.objects.annotate(last_word=Coalesce("received_at", "sent_at")).filter(
        status=Status.SENT, last_word__lt=now - timedelta(seconds=timeout)
    )
    requeued = jobs_move(
        unacknowledged,
        to=Status.PENDING,
        event="ack_timeout",
        changes={"sent_connection": None},
        message=f"no status from the client within {timeout:g} s",
        skip_locked=True,
        usually_none=True,
    )
    # Held by a socket already closed (a close that raced a delivery), or by a server
    # process whose lease on a network printer ran out (it died while printing).
    network = Q(printer__connection_type="network")
    orphans = jobs_move(
        PrintJob.objects.filter(
            (Q(sent_connection__isnull=True) & ~network)
            | Q(sent_connection__closed_at__isnull=False)
            | (network & Q(printer__network_lease_until__lt=now)),
            status__in=PrintJob.HELD,
        ),
        to=Status.PENDING,
        event="released",
        changes={"sent_connection": None},
        message="socket already closed",
        skip_locked=True,
        usually_none=True,
    )
    expire_after = settings.PRINT_JOB_EXPIRE_AFTER
    reason = f"未在 {expire_after / 60:g} 分钟内送达 / not delivered within {expire_after:g} s"
    jobs_move(
        PrintJob.objects.filter(
            status__in=PrintJob.WAITING, queued_at__lt=now - timedelta(seconds=expire_after)
        ),
        to=Status.EXPIRED,
        event="expired",
        changes={"sent_connection": None, "not_before": None, "error_message": reason},
        message=reason,
        skip_locked=True,
        usually_none=True,
    )
    return len(requeued) + len(orphans)


# Acknowledgements


@dataclass(frozen=True)
class StatusOutcome:
    applied: bool
    job_status: str


@dataclass(frozen=True)
class Report:
    """A print outcome for one job: a client's `print_status`, or the server's own network
    print. With `printer_id` set (a client's socket), the job must be that printer's or
    nobody's."""

    job_id: int
    status: str
    message: str = ""
    connection_id: int | None = None
    actor: str = ACTOR_CLIENT
    check_printer: bool = True
    printer_id: int | None = None


def retry_backoff(retry_count: int) -> float:
    """Seconds to wait before offering a job again after its `retry_count`-th failure."""
    base = settings.PRINT_RETRY_BACKOFF
    return min(base * 2 ** (retry_count - 1), settings.PRINT_RETRY_BACKOFF_MAX)


def jobs_report(reports: list[Report]) -> list[StatusOutcome | protocol.ProtocolError]:
    """Apply print outcomes in order, in one transaction; one result per report.

    A report that does not fit the job's state (a repeat, `failed` after `completed`)
    changes nothing: `job_id` is the idempotency key. A report about a job that does not
    exist, or is another printer's, comes back as a ProtocolError and changes nothing.
    """
    now = timezone.now()
    results: list[StatusOutcome | protocol.ProtocolError] = []
    changes: dict[int, dict[str, Any]] = {}
    events: list[PrintJobEvent] = []
    with transaction.atomic():
        rows = {
            row["id"]: row
            for row in PrintJob.objects.filter(id__in={r.job_id for r in reports})
            .select_for_update(of=("self",))
            .values(
                "id",
                "printer_id",
                "order_id",
                "status",
                "retry_count",
                "max_retries",
                "delivery_attempts",
                "started_at",
            )
        }
        for report in reports:
            row = rows.get(report.job_id)
            refused = _refusal(report, row)
            if refused is not None:
                results.append(refused)
                continue
            move = _outcome_move(row, report, now)
            if move is None:
                logger.info(
                    "job=%s socket=%s event=status_ignored reported=%s status=%s",
                    report.job_id,
                    report.connection_id or "-",
                    report.status,
                    row["status"],
                )
                results.append(StatusOutcome(applied=False, job_status=row["status"]))
                continue
            to, event, fields, note = move
            events.append(
                PrintJobEvent(
                    job_id=row["id"],
                    created_at=now,
                    from_status=row["status"],
                    to_status=to,
                    event=event,
                    attempt=row["delivery_attempts"],
                    connection_id=report.connection_id,
                    actor=report.actor,
                    message=note,
                )
            )
            _log_move(row, to, event, report.actor, report.connection_id, note)
            row.update(status=to, **{k: v for k, v in fields.items() if k in row})
            changes.setdefault(row["id"], {}).update(status=to, **fields)
            results.append(StatusOutcome(applied=True, job_status=to))
        # One UPDATE per distinct set of changes, not one per job.
        grouped: dict[tuple, list[int]] = defaultdict(list)
        for job_id, fields in changes.items():
            grouped[tuple(sorted(fields.items()))].append(job_id)
        for fields, job_ids in grouped.items():
            PrintJob.objects.filter(id__in=job_ids).update(**dict(fields))
        PrintJobEvent.objects.bulk_create(events)
    return results


def _refusal(report: Report, row: dict | None) -> protocol.ProtocolError | None:
    if row is None:
        return protocol.ProtocolError(
            "unknown_job", f"没有这个打印任务 / no print job {report.job_id}", job_id=report.job_id
        )
    if report.check_printer and row["printer_id"] not in (None, report.printer_id):
        return protocol.ProtocolError(
            "wrong_printer",
            f"打印任务 {report.job_id} 属于另一台打印机 / job {report.job_id} belongs to "
            "another printer",
            job_id=report.job_id,
        )
    return None


# What each reported status may move a job from.
_ACCEPTED_FROM = {
    "received": (Status.SENT,),
    "printing": (Status.PENDING, Status.SENT),
    "completed": (Status.PENDING, Status.SENT, Status.PRINTING),
    "failed": (Status.PENDING, Status.SENT, Status.PRINTING),
}


def _outcome_move(row: dict, report: Report, now) -> tuple[str, str, dict, str] | None:
    """(to, event, field changes, event message), or None when the report does not fit."""
    if row["status"] not in _ACCEPTED_FROM[report.status]:
        return None
    if report.status == "received":
        return Status.SENT, "received", {"received_at": now}, report.message
    if report.status == "printing":
        # Whoever prints it holds it: if this socket is lost, the job is offered again.
        fields = {"started_at": now, "sent_connection_id": report.connection_id}
        return Status.PRINTING, "printing", fields, report.message
    if report.status == "completed":
        fields = {"completed_at": now, "error_message": None}
        if row["started_at"] is None:
            fields["started_at"] = now
        return Status.COMPLETED, "completed", fields, report.message
    # Failed: count it; offer the job again after a backoff, or give up at max_retries.
    message = report.message or "打印失败 / print failed"
    retries = row["retry_count"] + 1
    fields = {"retry_count": retries, "error_message": message, "sent_connection_id": None}
    if retries < row["max_retries"]:
        delay = retry_backoff(retries)
        fields["not_before"] = now + timedelta(seconds=delay)
        note = f"{message} (retry {retries}/{row['max_retries']} in {delay:g} s)"
        return Status.PENDING, "failed", fields, note
    return Status.FAILED, "failed", fields, f"{message} (gave up after {retries} failures)"


def job_status_report(
    *, job_id: int, status: str, message: str, connection_id: int, printer_id: int | None
) -> StatusOutcome:
    """Apply one client's `print_status`; raises ProtocolError for a job it may not report on."""
    [result] = jobs_report(
        [
            Report(
                job_id=job_id,
                status=status,
                message=message,
                connection_id=connection_id,
                printer_id=printer_id,
            )
        ]
    )
    if isinstance(result, protocol.ProtocolError):
        raise result
    return result


def job_report(
    *, job_id: int, status: str, message: str, actor: str, connection_id: int | None = None
) -> StatusOutcome:
    """The server's own print outcome for a job (network printers): no printer check."""
    [result] = jobs_report(
        [
            Report(
                job_id=job_id,
                status=status,
                message=message,
                connection_id=connection_id,
                actor=actor,
                check_printer=False,
            )
        ]
    )
    return result


def jobs_record(
    *, sent: dict[int, list[tuple[int, int]]], reports: list[Report]
) -> list[StatusOutcome | protocol.ProtocolError]:
    """What the dispatcher gathered since its last write: deliveries, then status reports,
    in one transaction (SQLite then takes its write lock once for all of them)."""
    with transaction.atomic():
        if sent:
            jobs_mark_sent(sent=sent)
        return jobs_report(reports) if reports else []


# The per-process dispatcher


class Outages:
    """Logs once when a dependency stops answering and once when it is back, instead of a
    traceback every second."""

    def __init__(self) -> None:
        self.down: dict[str, str] = {}

    def failed(self, what: str, exc: BaseException) -> None:
        if what not in self.down:
            self.down[what] = f"{type(exc).__name__}: {exc}"
            logger.error("event=%s_unavailable error=%s (retrying)", what, self.down[what])

    def ok(self, what: str) -> None:
        if self.down.pop(what, None) is not None:
            logger.warning("event=%s_back", what)


class PrinterSocket:
    """The dispatcher's handle on one printer consumer."""

    def __init__(
        self,
        consumer: "AsyncWebsocketConsumer",
        connection_id: int,
        client: str,
        *,
        address: str = "",
        token_hash: str | None = None,
    ):
        self.consumer = consumer
        self.connection_id = connection_id
        self.client = client
        self.address = address
        # Set when the socket was let in by a printer's token: it is that printer's for good,
        # and is closed if the token is replaced.
        self.token_hash = token_hash
        # Let in as one printer (token or ticket): printer_info does not move it.
        self.fixed_printer = False
        self.printer_id: int | None = None
        # job id -> attempt sent on this connection; a job is re-sent only at a later attempt.
        self.sent: dict[int, int] = {}
        self.last_heard = time.monotonic()
        self.last_ping = 0.0
        self.heard_since_beat = True
        self.open = True
        # Sequence number of this socket's latest print_status (see Dispatcher.report).
        self.last_report = 0

    def heard(self) -> None:
        self.last_heard = time.monotonic()
        self.heard_since_beat = True

    async def send(self, frame: str) -> None:
        if self.open:
            await self.consumer.send(text_data=frame)

    async def close(self, code: int, reason: str) -> None:
        if self.open:
            logger.info(
                "connection=%s client=%s event=refuse code=%s reason=%s",
                self.connection_id,
                self.client,
                code,
                reason,
            )
            await self.consumer.close(code=code, reason=reason)


class Dispatcher:
    """Holds this process's printer sockets and delivers jobs to them."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.layer = get_channel_layer()
        self.sockets: dict[int, PrinterSocket] = {}
        self.by_printer: dict[int, set[PrinterSocket]] = defaultdict(set)
        # Reserved and open sockets, in total and by client address (connection limits).
        self.connected = 0
        self.by_address: Counter[str] = Counter()
        # Jobs that left the local sockets' books, with their last attempt: a bell that
        # arrives after the sweep delivered and finished a job must not deliver it again.
        self.finished: dict[int, tuple[int, float]] = {}
        # Sockets that have been sent jobs not yet known to be finished (see sweep).
        self.holders: set[PrinterSocket] = set()
        self.groups_joined_at = time.monotonic()
        self.printers_checked_at = timezone.now()
        self.server_id: int | None = None
        self.channel: str | None = None
        self.wake = asyncio.Event()
        self.tasks: list[asyncio.Task] = []
        self.started: asyncio.Task | None = None
        self.started_at = timezone.now()
        self.stopping = False
        self.outages = Outages()
        # Written behind, in batches: one transaction per batch (see _record_forever).
        self.pending_sent: dict[int, list[tuple[int, int]]] = defaultdict(list)
        self.pending_reports: list[tuple[Report, PrinterSocket]] = []
        self.record_wanted = asyncio.Event()
        self.reports_queued = 0
        self.reports_recorded = 0
        self.recorded = asyncio.Event()
        # Sockets closed while the database was away: their rows are closed later.
        self.unrecorded_closes: dict[int, int | None] = {}
        self.network: NetworkPrinting | None = None

    # Life cycle

    async def start(self) -> None:
        from printing import services

        layer_name = type(self.layer).__name__ if self.layer else "none"
        self.server_id = await db(services.server_process_register)(channel_layer=layer_name)
        if self.layer is not None:
            self.channel = await self.layer.new_channel("printdispatch.")
            await self._join(BROADCAST_GROUP)
            await self._join(NETWORK_GROUP)
        self.network = NetworkPrinting(self.server_id)
        self.tasks = [
            self.loop.create_task(self._listen(), name="print-bells"),
            self.loop.create_task(self._sweep_forever(), name="print-sweep"),
            self.loop.create_task(self._tick_forever(), name="print-heartbeat"),
            self.loop.create_task(self.network.run(), name="print-network"),
            self.loop.create_task(self._record_forever(), name="print-record"),
        ]
        logger.info("server=%s event=dispatcher_started layer=%s", self.server_id, layer_name)

    async def stop(self) -> None:
        from printing import services

        self.stopping = True
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self._record()
        if self.network is not None:
            await self.network.stop()
        for sock in self.sockets.values():
            sock.open = False
        self.sockets.clear()
        self.by_printer.clear()
        if self.server_id is not None:
            await db(services.server_process_stop)(server_id=self.server_id)

    # Sockets

    def reserve(self, address: str) -> str | None:
        """Count one more socket from this address, or say why it would be one too many.

        Checked and counted in one step, before any await, so sockets arriving together
        cannot all slip under a limit; every reservation is given back by release().
        """
        if self.connected >= settings.PRINT_MAX_CONNECTIONS:
            return f"server full ({settings.PRINT_MAX_CONNECTIONS} connections)"
        if self.by_address[address] >= settings.PRINT_MAX_CONNECTIONS_PER_ADDRESS:
            return (
                f"too many connections from {address} "
                f"({settings.PRINT_MAX_CONNECTIONS_PER_ADDRESS})"
            )
        self.connected += 1
        self.by_address[address] += 1
        return None

    def release(self, address: str) -> None:
        self.connected -= 1
        self.by_address[address] -= 1
        if self.by_address[address] <= 0:
            del self.by_address[address]

    async def attach(
        self,
        consumer: "AsyncWebsocketConsumer",
        *,
        client: str,
        path: str,
        address: str = "",
        printer_id: int | None = None,
        token_hash: str | None = None,
        by: str = "network",
    ) -> PrinterSocket:
        """Register a socket; one let in by a token or ticket is bound to its printer."""
        from printing import services

        try:
            connection_id = await db(services.printer_connection_open)(
                server_id=self.server_id,
                client_address=client,
                path=path,
                printer_id=printer_id,
                authenticated_by=by,
            )
        except BaseException:
            self.release(address)
            raise
        sock = PrinterSocket(
            consumer, connection_id, client, address=address, token_hash=token_hash
        )
        sock.fixed_printer = printer_id is not None
        self.sockets[connection_id] = sock
        logger.info(
            "connection=%s client=%s path=%s event=connect by=%s", connection_id, client, path, by
        )
        if printer_id is not None:
            await self._bind(sock, printer_id)
            logger.info("connection=%s printer=%s event=bind by=%s", connection_id, printer_id, by)
        self.wake.set()
        return sock

    async def identify(self, sock: PrinterSocket, info: protocol.PrinterInfo):
        """Bind the socket to the printer it names (or to none); its backlog follows."""
        from printing import services

        printer = await db(services.printer_connection_identify)(
            connection_id=sock.connection_id,
            info=info,
            printer_id=sock.printer_id if sock.fixed_printer else None,
        )
        await self._bind(sock, printer.pk if printer else None)
        logger.info(
            "connection=%s printer=%s reported_name=%r event=bind",
            sock.connection_id,
            printer.name if printer else "-",
            info.name,
        )
        self.wake.set()
        return printer

    async def detach(self, sock: PrinterSocket, code: int | None) -> None:
        from printing import services

        sock.open = False
        if self.sockets.pop(sock.connection_id, None) is not None:
            self.release(sock.address)
        await self._bind(sock, None)
        try:
            released = await db(services.printer_connection_close)(
                connection_id=sock.connection_id, code=code
            )
        except DatabaseError as exc:
            self.outages.failed("database", exc)
            self.unrecorded_closes[sock.connection_id] = code
            return
        logger.info(
            "connection=%s client=%s event=disconnect code=%s released=%s",
            sock.connection_id,
            sock.client,
            code,
            released,
        )
        if released:
            self.wake.set()

    async def _bind(self, sock: PrinterSocket, printer_id: int | None) -> None:
        old = sock.printer_id
        if old == printer_id:
            return
        sock.printer_id = printer_id
        if old is not None:
            members = self.by_printer.get(old)
            if members is not None:
                members.discard(sock)
                if not members:
                    del self.by_printer[old]
                    await self._leave(printer_group(old))
        if printer_id is not None and sock.open:
            first = printer_id not in self.by_printer
            self.by_printer[printer_id].add(sock)
            if first:
                await self._join(printer_group(printer_id))

    def targets(self, printer_id: int | None) -> Iterable[PrinterSocket]:
        if printer_id is None:
            return list(self.sockets.values())
        return list(self.by_printer.get(printer_id, ()))

    # Groups: one membership per process and printer, refreshed so that neither group expiry
    # nor a channel-layer restart can silently drop this process from a group.

    async def _check_layer(self) -> None:
        """Publish into the void: fails while Redis is away, so the outage gets logged."""
        if self.layer is None or isinstance(self.layer, InMemoryChannelLayer):
            return
        try:
            await self.layer.group_send("print.health", {"type": "print.health"})
        except Exception as exc:
            self.outages.failed("channel_layer", exc)
        else:
            self.outages.ok("channel_layer")

    def _groups(self) -> list[str]:
        return [BROADCAST_GROUP, NETWORK_GROUP, *(printer_group(pk) for pk in self.by_printer)]

    async def _join(self, group: str) -> None:
        if self.layer is None or self.channel is None:
            return
        try:
            await self.layer.group_add(group, self.channel)
        except Exception as exc:
            logger.warning("group_add %s failed (%s); the sweep covers it", group, exc)

    async def _leave(self, group: str) -> None:
        if self.layer is None or self.channel is None:
            return
        try:
            await self.layer.group_discard(group, self.channel)
        except Exception as exc:
            logger.warning("group_discard %s failed (%s)", group, exc)

    # Fast path

    async def _listen(self) -> None:
        if self.layer is None:
            return
        backoff = 0.5
        while not self.stopping:
            try:
                message = await self.layer.receive(self.channel)
                backoff = 0.5
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("channel layer receive failed (%s); retrying", exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10)
                continue
            try:
                await self._heard(message)
            except asyncio.CancelledError:
                raise
            except Exception:
                # The sweep still delivers; the bell must keep ringing for the next job.
                logger.exception("bell handling failed; listening on")

    async def _heard(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == BELL:
            await self._deliver_bell(message["jobs"])
        elif kind == WAKE:
            self.wake.set()
            self.network.wake.set()
        elif kind == CHECK:
            await self.check_printers(message["printer_ids"])

    async def _deliver_bell(self, jobs: list[dict[str, Any]]) -> None:
        sent: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for job in jobs:
            job_id, attempt = job["id"], job["attempt"]
            if self.finished.get(job_id, (0, 0.0))[0] >= attempt:
                continue
            first = None
            for sock in self.targets(job["printer_id"]):
                if not sock.open or sock.sent.get(job_id, 0) >= attempt:
                    continue
                sock.sent[job_id] = attempt
                self.holders.add(sock)
                await sock.send(job["frame"])
                first = first or sock
            if first is not None:
                sent[first.connection_id].append((job_id, attempt))
        for connection_id, pairs in sent.items():
            self.pending_sent[connection_id].extend(pairs)
        if sent:
            self.record_wanted.set()

    # Writing behind: deliveries and status reports gather while the previous batch is being
    # written, then go to the database together. Under load a batch holds many jobs, so the
    # database sees a few transactions a second instead of several per job.

    def report(self, sock: PrinterSocket, status: protocol.PrintStatus) -> None:
        """A client's `print_status`, recorded with the next batch. The socket does not wait:
        an error (unknown job, another printer's job) is sent to it once the batch is in."""
        report = Report(
            job_id=status.job_id,
            status=status.status,
            message=status.message,
            connection_id=sock.connection_id,
            printer_id=sock.printer_id,
        )
        self.pending_reports.append((report, sock))
        self.reports_queued += 1
        sock.last_report = self.reports_queued
        self.record_wanted.set()

    async def reports_settled(self, sock: PrinterSocket) -> None:
        """Waits until the socket's reports so far are recorded (or refused), so that a pong
        tells a client that everything it said before its ping has been handled."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(10):
                while self.reports_recorded < sock.last_report and not self.stopping:
                    await self.recorded.wait()

    async def _record_forever(self) -> None:
        while not self.stopping:
            await self.record_wanted.wait()
            self.record_wanted.clear()
            try:
                await self._record()
                self.outages.ok("database")
            except asyncio.CancelledError:
                raise
            except DatabaseError as exc:
                self.outages.failed("database", exc)
                await asyncio.sleep(0.5)
            except Exception:
                logger.exception("recording deliveries and reports failed")

    async def _record(self) -> None:
        sent, self.pending_sent = self.pending_sent, defaultdict(list)
        batch, self.pending_reports = self.pending_reports, []
        upto = self.reports_queued
        try:
            await self._record_batch(sent, batch)
        finally:
            self.reports_recorded = upto
            self.recorded.set()
            self.recorded = asyncio.Event()

    async def _record_batch(
        self, sent: dict[int, list[tuple[int, int]]], batch: list[tuple[Report, PrinterSocket]]
    ) -> None:
        if not sent and not batch:
            return
        try:
            results = await db(jobs_record)(sent=dict(sent), reports=[r for r, _ in batch])
        except DatabaseError:
            # Unrecorded deliveries are offered again by the sweep (clients dedupe); a client
            # whose report was not recorded hears so, and the job is offered again anyway.
            for report, sock in batch:
                error = protocol.error(
                    code="server_unavailable",
                    message="服务器暂时无法记录，请稍后重试 / the server cannot record this now, "
                    "try again shortly",
                    job_id=report.job_id,
                )
                await sock.send(protocol.dumps(error))
            raise
        for (report, sock), result in zip(batch, results, strict=True):
            if isinstance(result, protocol.ProtocolError):
                logger.info(
                    "connection=%s event=bad_report code=%s job=%s",
                    sock.connection_id,
                    result.code,
                    report.job_id,
                )
                await sock.send(protocol.dumps(result.as_message()))

    # Catch-up

    async def _sweep_forever(self) -> None:
        while not self.stopping:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a
            # cancellation that races with the event, and the loop would never stop.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(settings.PRINT_POLL_INTERVAL):
                    await self.wake.wait()
            self.wake.clear()
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except DatabaseError as exc:
                self.outages.failed("database", exc)
                await asyncio.sleep(1)
            except Exception:
                logger.exception("sweep failed; retrying")
                await asyncio.sleep(1)

    async def sweep(self) -> None:
        """Offer every waiting job to the local sockets that should have it and do not; tell
        sockets about jobs cancelled while they held them."""
        if not self.sockets:
            return
        rows = await db(jobs_waiting)(printer_ids=list(self.by_printer))
        if len(rows) < SWEEP_LIMIT:
            await self._settle_finished({job_id for job_id, _, _ in rows})
        plan: list[tuple[int, list[PrinterSocket]]] = []
        claims: dict[int, list[int]] = defaultdict(list)
        for job_id, printer_id, status in rows:
            targets = [
                sock
                for sock in self.targets(printer_id)
                if status == Status.PENDING or job_id not in sock.sent
            ]
            if targets:
                plan.append((job_id, targets))
                if status == Status.PENDING:
                    claims[targets[0].connection_id].append(job_id)
        if not plan:
            return
        jobs = await db(jobs_claim_and_load)(claims=claims, job_ids=[pk for pk, _ in plan])
        for job_id, targets in plan:
            job = jobs.get(job_id)
            if job is None or job.status != Status.SENT:
                continue
            attempt = job.delivery_attempts
            frame = None
            for sock in targets:
                if not sock.open or sock.sent.get(job_id, 0) >= attempt:
                    continue
                frame = frame or job_frame(job, attempt=attempt)
                sock.sent[job_id] = attempt
                self.holders.add(sock)
                await sock.send(frame)

    async def _settle_finished(self, waiting: set[int]) -> None:
        """Forget jobs no longer waiting; send `cancel_job` for the cancelled ones."""
        holders = [sock for sock in self.holders if sock.open]
        self.holders = set(holders)
        finished = {job_id for sock in holders for job_id in sock.sent if job_id not in waiting}
        if not finished:
            return
        statuses = await db(jobs_statuses)(job_ids=finished)
        now = time.monotonic()
        for sock in holders:
            for job_id in [job_id for job_id in sock.sent if job_id in finished]:
                attempt = sock.sent.pop(job_id)
                self.finished[job_id] = (max(attempt, self.finished.get(job_id, (0,))[0]), now)
                if statuses.get(job_id) == Status.CANCELLED:
                    await sock.send(protocol.dumps(protocol.cancel_job(job_id=job_id)))
                    logger.info("job=%s socket=%s event=cancel_sent", job_id, sock.connection_id)
            if not sock.sent:
                self.holders.discard(sock)

    # Heartbeats

    async def check_printers(self, printer_ids: list[int], changed_since=None) -> None:
        """Close local sockets of printers that were disabled or got a new token (or were
        deleted); with `changed_since`, only printers changed since then are looked at."""
        from printing import services

        local = [pk for pk in printer_ids if pk in self.by_printer]
        if not local:
            return
        current = await db(services.printers_access)(printer_ids=local, changed_since=changed_since)
        if changed_since is not None:
            local = list(current)
        for printer_id in local:
            active, token = current.get(printer_id, (False, None))
            for sock in list(self.by_printer.get(printer_id, ())):
                if not active:
                    await sock.close(access.FORBIDDEN, "printer disabled")
                elif sock.token_hash is not None and sock.token_hash != token:
                    await sock.close(access.UNAUTHORIZED, "token revoked")

    async def _tick_forever(self) -> None:
        from printing import services

        last_beat = last_walk = last_maintain = 0.0
        while not self.stopping:
            # Each chore as often as its setting needs and no more: with thousands of idle
            # sockets, these loops are most of the CPU a process uses at rest.
            walk_every = max(0.25, min(5.0, settings.PRINT_PING_INTERVAL / 4))
            maintain_every = max(
                0.25, min(2.0, settings.PRINT_ACK_TIMEOUT / 4, settings.PRINT_FAILOVER_AFTER / 4)
            )
            await asyncio.sleep(min(1.0, walk_every, maintain_every))
            now = time.monotonic()
            try:
                if now - last_walk >= walk_every:
                    last_walk = now
                    await self._ping_quiet(now)
                if now - last_maintain >= maintain_every:
                    last_maintain = now
                    if await db(jobs_maintain)() + await db(services.print_jobs_failover)():
                        self.wake.set()
                    self.outages.ok("database")
                if now - last_beat >= settings.PRINT_HEARTBEAT_INTERVAL:
                    last_beat = now
                    await self._beat()
            except asyncio.CancelledError:
                raise
            except DatabaseError as exc:
                self.outages.failed("database", exc)
            except Exception:
                logger.exception("housekeeping failed; retrying")

    async def _ping_quiet(self, now: float) -> None:
        interval = settings.PRINT_PING_INTERVAL
        frame = None
        for sock in list(self.sockets.values()):
            if now - sock.last_heard >= interval and now - sock.last_ping >= interval:
                frame = frame or protocol.dumps(protocol.ping())
                sock.last_ping = now
                await sock.send(frame)

    async def _beat(self) -> None:
        from printing import services

        forget_before = time.monotonic() - 600
        for job_id in [j for j, (_, at) in self.finished.items() if at < forget_before]:
            del self.finished[job_id]
        await self._check_layer()
        for connection_id, code in list(self.unrecorded_closes.items()):
            await db(services.printer_connection_close)(connection_id=connection_id, code=code)
            del self.unrecorded_closes[connection_id]
        heard, quiet = [], []
        for sock in self.sockets.values():
            (heard if sock.heard_since_beat else quiet).append(sock.connection_id)
            sock.heard_since_beat = False
        await db(services.server_process_heartbeat)(
            server_id=self.server_id, heard_connection_ids=heard, quiet_connection_ids=quiet
        )
        if await db(services.server_processes_reap)():
            self.wake.set()
        # Printers changed since the last look (with a margin for commits that land late);
        # a bell asks for the same check at once when staff change a printer.
        checked, self.printers_checked_at = self.printers_checked_at, timezone.now()
        await self.check_printers(
            list(self.by_printer), changed_since=checked - timedelta(seconds=30)
        )
        if time.monotonic() - self.groups_joined_at > GROUPS_REJOIN_INTERVAL:
            self.groups_joined_at = time.monotonic()
            for group in self._groups():
                await self._join(group)


class NetworkPrinting:
    """Prints to network printers from this process: a bounded pool of threads, one job at
    a time per printer, the printer leased in the database so that no other process prints
    to it at the same time. Also probes the printers no one is printing to."""

    def __init__(self, server_id: int) -> None:
        self.server_id = server_id
        self.pool = ThreadPoolExecutor(
            max_workers=settings.PRINT_NETWORK_WORKERS, thread_name_prefix="print-network"
        )
        self.busy: set[int] = set()
        self.tasks: set[asyncio.Task] = set()
        self.wake = asyncio.Event()

    async def run(self) -> None:
        from printing import services

        last_probe = 0.0
        while True:
            # A job for a network printer rings NETWORK_GROUP, so polling is only the
            # fallback (a confirmation in another process on the in-memory layer).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(settings.PRINT_POLL_INTERVAL, 2.0)):
                    await self.wake.wait()
            self.wake.clear()
            try:
                for printer in await db(services.network_printers_due)():
                    self._spawn(printer, self._print_queue)
                if time.monotonic() - last_probe >= settings.PRINT_NETWORK_PROBE_INTERVAL:
                    last_probe = time.monotonic()
                    for printer in await db(services.network_printers_to_probe)(
                        server_id=self.server_id
                    ):
                        self._spawn(printer, self._probe)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("network printing loop failed; retrying")
                await asyncio.sleep(1)

    def _spawn(self, printer, work) -> None:
        if printer.pk in self.busy:
            return
        self.busy.add(printer.pk)
        task = asyncio.get_running_loop().create_task(work(printer))
        self.tasks.add(task)
        task.add_done_callback(
            lambda done: (self.tasks.discard(done), self.busy.discard(printer.pk))
        )

    async def stop(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.pool.shutdown(wait=False, cancel_futures=True)

    async def _run_blocking(self, func, *args):
        return await asyncio.get_running_loop().run_in_executor(self.pool, func, *args)

    async def _probe(self, printer) -> None:
        from printing import services

        device = _network_device(printer)
        try:
            problem = await self._run_blocking(device.probe)
            reachable = True
        except DeviceError as exc:
            problem, reachable = str(exc), False
        await db(services.network_printer_record)(
            printer_id=printer.pk, problem=problem, reachable=reachable
        )

    async def _print_queue(self, printer) -> None:
        """Print this printer's due jobs one after another while this process holds it."""
        from printing import services

        if not await db(services.network_printer_lease)(
            printer_id=printer.pk, server_id=self.server_id
        ):
            return
        try:
            device, settings_ = _network_device(printer), printer.escpos_settings()
            while job := await db(network_job_claim)(printer_id=printer.pk):
                started = time.monotonic()
                try:
                    await self._run_blocking(_print_job, device, settings_, job)
                    problem = None
                except DeviceError as exc:
                    problem = str(exc)
                await db(job_report)(
                    job_id=job.pk,
                    status="failed" if problem else "completed",
                    message=problem or "打印成功",
                    actor="server:network",
                )
                await db(services.network_printer_record)(
                    printer_id=printer.pk, problem=problem, reachable=problem is None
                )
                logger.info(
                    "job=%s order=%s device=%s outcome=%s ms=%d",
                    job.pk,
                    job.order_id or "-",
                    device.name,
                    f"failed({problem})" if problem else "completed",
                    (time.monotonic() - started) * 1000,
                )
                if problem or not await db(services.network_printer_lease)(
                    printer_id=printer.pk, server_id=self.server_id
                ):
                    break
        finally:
            await db(services.network_printer_release)(
                printer_id=printer.pk, server_id=self.server_id
            )


def _network_device(printer) -> NetworkDevice:
    return NetworkDevice(
        host=printer.ip_address,
        port=printer.port,
        timeout=settings.PRINT_NETWORK_TIMEOUT,
        status=printer.status_query,
    )


def _print_job(device: NetworkDevice, printer_settings, job: PrintJob) -> None:
    data = encode_job(
        content=job.print_content,
        settings=printer_settings,
        copies=job.copies,
        order_id=job.order_id,
    )
    device.print(data, job.print_content)


_dispatcher: Dispatcher | None = None


async def get_dispatcher() -> Dispatcher:
    """This process's dispatcher, started on first use (Channels runs no lifespan startup)."""
    global _dispatcher
    loop = asyncio.get_running_loop()
    current = _dispatcher
    if (
        current is None
        or current.loop is not loop
        or (current.started.done() and (current.started.cancelled() or current.started.exception()))
    ):
        current = _dispatcher = Dispatcher(loop)
        current.started = loop.create_task(current.start())
    await asyncio.shield(current.started)
    return current


async def stop_dispatcher() -> None:
    global _dispatcher
    current, _dispatcher = _dispatcher, None
    if current is not None and current.started is not None:
        if not current.started.done():
            current.started.cancel()
        await current.stop()
