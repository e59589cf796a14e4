"""Every change of a print job's state, written one way whoever makes it (the server, a
client's report, staff): the row, its PrintJobEvent, its log line and the webhooks owed for
it, from `moves_write`."""

import logging
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Model, QuerySet
from django.utils import timezone

from integrations.outbox import job_events_record
from printing.models import PrintJob, PrintJobEvent

logger = logging.getLogger("printing.delivery")

ACTOR_CLIENT = "client"
ACTOR_SERVER = "server"
# What a move needs to know of a job's row; lock these with select_for_update().values().
ROW_FIELDS = ("id", "status", "order_id", "printer_id", "delivery_attempts")


@dataclass(frozen=True)
class Transition:
    """A move to status `to`, as event `event`, setting `changes` on the row."""

    to: str
    event: str
    changes: Mapping[str, Any] = field(default_factory=dict)
    message: str = ""
    # The move starts a new delivery attempt (its event records that attempt's number).
    new_attempt: bool = False


@dataclass(frozen=True)
class Move:
    """One job's transition, with the state it leaves: what the event and log line say."""

    job_id: int
    order_id: int | None
    printer_id: int | None
    from_status: str
    attempt: int
    transition: Transition
    actor: str = ACTOR_SERVER
    connection_id: int | None = None

    @classmethod
    def of(
        cls,
        row: Mapping[str, Any],
        transition: Transition,
        *,
        actor: str = ACTOR_SERVER,
        connection_id: int | None = None,
    ) -> "Move":
        return cls(
            job_id=row["id"],
            order_id=row["order_id"],
            printer_id=row["printer_id"],
            from_status=row["status"],
            attempt=row["delivery_attempts"] + transition.new_attempt,
            transition=transition,
            actor=actor,
            connection_id=connection_id,
        )


def jobs_transition(
    jobs: QuerySet,
    transition: Transition,
    *,
    actor: str = ACTOR_SERVER,
    connection_id: int | None = None,
    skip_locked: bool = False,
) -> list[dict[str, Any]]:
    """Lock the jobs matching `jobs` and move them; returns their rows as they were.

    Sweeps pass skip_locked: a row another process is moving is that process's to move.
    """
    with transaction.atomic(savepoint=False):
        rows = list(
            jobs.select_for_update(skip_locked=skip_locked, of=("self",)).values(*ROW_FIELDS)
        )
        moves_write(
            [Move.of(row, transition, actor=actor, connection_id=connection_id) for row in rows]
        )
    return rows


def moves_write(moves: list[Move]) -> None:
    """Write moves of rows the caller holds locked, in order: one UPDATE per distinct set
    of changes (not one per job), every event in one INSERT, a log line each."""
    if not moves:
        return
    # Several moves of one job (a batch of reports) end in the state of the last one.
    final: dict[int, dict[str, Any]] = defaultdict(dict)
    for move in moves:
        final[move.job_id].update(status=move.transition.to, **move.transition.changes)
    updates: dict[str, tuple[dict[str, Any], list[int]]] = {}
    for job_id, fields in final.items():
        # Keyed by text, not by the values: a change may be a dict (a failover's layout).
        key = repr(sorted((name, _comparable(value)) for name, value in fields.items()))
        updates.setdefault(key, (fields, []))[1].append(job_id)
    for fields, job_ids in updates.values():
        PrintJob.objects.filter(id__in=job_ids).update(**fields)
    _record(moves)
    # The webhooks' outbox, in the same transaction: a job told printed is one that is.
    job_events_record(
        moves=[(m.job_id, m.from_status, m.transition.to, m.attempt, m.transition.message)
               for m in moves]
    )  # fmt: skip


def _comparable(value: Any) -> Any:
    return ("pk", value.pk) if isinstance(value, Model) else value


def jobs_insert(jobs: list[PrintJob], *, actor: str, message: str = "") -> None:
    """Write new jobs with their `created` events and log lines."""
    PrintJob.objects.bulk_create(jobs)
    moves = [
        Move(
            job_id=job.pk,
            order_id=job.order_id,
            printer_id=job.printer_id,
            from_status="",
            attempt=0,
            transition=Transition(to=job.status, event="created", message=message),
            actor=actor,
        )
        for job in jobs
    ]
    _record(moves)


def _record(moves: list[Move]) -> None:
    """The events and log lines of moves whose rows are written."""
    now = timezone.now()
    PrintJobEvent.objects.bulk_create(_event(move, now) for move in moves)
    for move in moves:
        _log(move)


def _event(move: Move, now) -> PrintJobEvent:
    return PrintJobEvent(
        job_id=move.job_id,
        created_at=now,
        from_status=move.from_status,
        to_status=move.transition.to,
        event=move.transition.event,
        attempt=move.attempt,
        connection_id=move.connection_id,
        actor=move.actor,
        message=move.transition.message,
    )


def _log(move: Move) -> None:
    message = move.transition.message
    logger.info(
        "job=%s order=%s printer=%s socket=%s attempt=%s event=%s from=%s to=%s by=%s%s",
        move.job_id,
        move.order_id or "-",
        move.printer_id or "*",
        move.connection_id or "-",
        move.attempt,
        move.transition.event,
        move.from_status or "-",
        move.transition.to,
        move.actor,
        f" message={message!r}" if message else "",
    )
