"""The bell: channel-layer messages that tell dispatchers to act now.

Rung from whichever process committed the change (a request, a shell, a dispatcher). Best
effort: the database sweep is the guarantee, so a channel layer that is down costs latency,
never a job.
"""

import asyncio
import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import transaction

from printing.delivery.frames import job_frame
from printing.models import PrintJob

logger = logging.getLogger("printing.delivery")

# Every dispatcher: jobs addressed to no printer.
BROADCAST_GROUP = "print.all"
# Every dispatcher: woken to print to network printers at once.
NETWORK_GROUP = "print.network"
# Message types a dispatcher handles.
BELL = "print.jobs"
WAKE = "print.wake"
RECHECK = "print.check"


def printer_group(printer_id: int) -> str:
    return f"print.printer.{printer_id}"


def _group(printer_id: int | None) -> str:
    return printer_group(printer_id) if printer_id else BROADCAST_GROUP


def jobs_announce(jobs: Iterable[PrintJob]) -> None:
    """Ring the dispatchers that hold sockets for these (pending) jobs, with each job's
    frame built once."""
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


def printers_recheck(printer_ids: Iterable[int]) -> None:
    """Ask the dispatchers to re-check these printers' sockets (disabled? token revoked?)."""
    ids = sorted(set(printer_ids))
    _ring({printer_group(pk): {"type": RECHECK, "printer_ids": ids} for pk in ids})


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


def ring_on_commit(ring: Callable[..., None], *args: Any) -> None:
    """Ring once the caller's transaction commits: nobody is told about a row that might
    still roll back."""
    transaction.on_commit(partial(ring, *args), robust=True)
