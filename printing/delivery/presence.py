"""Presence: the rows that say which server processes are alive and which printer sockets
are open on them, and what happens to their jobs when either goes away."""

import logging
import os
import secrets
import socket
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from printing import protocol
from printing.delivery.claims import jobs_requeue
from printing.models import (
    TEST_CLIENT_PERMISSION,
    PrinterConfig,
    PrinterConnection,
    ServerInstance,
    ServerProcess,
)

logger = logging.getLogger("printing.jobs")


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


@dataclass(frozen=True)
class Identity:
    """What printer_info got a socket: the printer it is bound to (None: only unaddressed
    jobs), and whether it named a printer it may not have without that printer's token."""

    printer: PrinterConfig | None
    token_required: bool = False


def printer_connection_identify(
    *, connection_id: int, info: protocol.PrinterInfo, printer_id: int | None = None
) -> Identity:
    """Keep what the client said about itself. A socket let in by its token (or a ticket)
    stays that printer's; one from a trusted network is bound to the active printer of that
    name, unless that printer has a token: then only a socket presenting it may print its
    receipts."""
    printers = PrinterConfig.objects.filter(is_active=True)
    token_required = False
    if printer_id is not None:
        printer = printers.filter(pk=printer_id).first()
    else:
        printer = printers.filter(name=info.name).first()
        if printer is not None and printer.token_hash:
            printer, token_required = None, True
    PrinterConnection.objects.filter(pk=connection_id).update(
        printer=printer,
        reported_name=info.name[:100],
        reported_model=info.model[:100],
        reported_status=info.status[:100],
        # Whitelisted and capped however the info was made (the parser does it too).
        printer_info=protocol.printer_info_fields(info.info),
        last_seen=timezone.now(),
    )
    return Identity(printer, token_required)


def printer_connection_close(*, connection_id: int, code: int | None) -> int:
    """Mark the socket closed and put the jobs it held back in the queue; returns how many."""
    with transaction.atomic():
        PrinterConnection.objects.filter(pk=connection_id, closed_at=None).update(
            closed_at=timezone.now(), close_code=code
        )
        return jobs_requeue(connection_ids=[connection_id])


def printer_connections_prune(*, batch: int = 1000) -> int:
    """Forget sockets closed more than PRINT_CONNECTION_HISTORY_DAYS ago (one row per socket
    ever opened would grow without end); returns how many. A batch per call, so a long
    backlog is worked off over a few heartbeats instead of one long delete."""
    cutoff = timezone.now() - timedelta(days=settings.PRINT_CONNECTION_HISTORY_DAYS)
    old = PrinterConnection.objects.filter(closed_at__lt=cutoff)
    ids = list(old.order_by().values_list("pk", flat=True)[:batch])
    if not ids:
        return 0
    # Job events and jobs keep their history; only the link to the socket goes.
    deleted, _ = PrinterConnection.objects.filter(pk__in=ids).delete()
    return deleted


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


def server_instance() -> str:
    """This database's instance id, made on first use: the same for every process and
    restart on this database, another one for a new or reset database."""
    instance, _ = ServerInstance.objects.get_or_create(
        pk=1, defaults={"instance": secrets.token_hex(8)}
    )
    return instance.instance


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
        released = jobs_requeue(connection_ids=connection_ids)
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


def printers_credentials(
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


def ticket_holders_allowed(*, user_ids: Collection[int]) -> set[int]:
    """Those of these staff members who may (still) hold a socket opened with a ticket:
    active staff with the test client permission."""
    users = get_user_model().objects.filter(pk__in=user_ids, is_active=True, is_staff=True)
    return {user.pk for user in users if user.has_perm(TEST_CLIENT_PERMISSION)}
