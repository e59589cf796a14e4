"""The dispatcher's clock: pings for quiet sockets, the queue's housekeeping at its
settings' pace, and the heartbeat (this process and its sockets are alive; dead processes
are reaped; changed printers re-checked; channel-layer groups renewed)."""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from integrations.outbox import printers_presence_evaluate
from printing import protocol
from printing.alerts import alerts_evaluate
from printing.delivery import presence
from printing.delivery.decisions import DeliveryBook
from printing.delivery.groups import Groups
from printing.delivery.housekeeping import jobs_failover, jobs_maintain
from printing.delivery.orm import db
from printing.delivery.outages import Outages

logger = logging.getLogger("printing.delivery")
# Printers changed since the last look are re-checked, with this margin for late commits.
RECHECK_MARGIN = timedelta(seconds=30)


class Heartbeat:
    def __init__(
        self,
        *,
        book: DeliveryBook,
        groups: Groups,
        outages: Outages,
        wake: asyncio.Event,
        recheck: Callable[[list[int], datetime | None], Awaitable[None]],
    ) -> None:
        self.book = book
        self.groups = groups
        self.outages = outages
        self.wake = wake
        self.recheck = recheck
        self.server_id: int | None = None
        self.printers_checked_at = timezone.now()
        # Sockets closed while the database was away: their rows are closed later.
        self.unrecorded_closes: dict[int, int | None] = {}
        self.stopping = False

    async def run(self) -> None:
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
                    if await db(jobs_maintain)() + await db(jobs_failover)():
                        self.wake.set()
                    self.outages.ok("database")
                    await self._alerts()
                if now - last_beat >= settings.PRINT_HEARTBEAT_INTERVAL:
                    last_beat = now
                    await self._beat()
            except asyncio.CancelledError:
                raise
            except DatabaseError as exc:
                self.outages.failed("database", exc)
            except Exception:
                logger.exception("housekeeping failed; retrying")

    async def _alerts(self) -> None:
        # With the queue's housekeeping (every 2 s at most), so a banner follows its
        # condition within seconds; on its own, so a failing check cannot stop delivery.
        try:
            await db(alerts_evaluate)()
            await db(printers_presence_evaluate)()
        except DatabaseError:
            raise
        except Exception:
            logger.exception("alert evaluation failed; retrying")

    async def _ping_quiet(self, now: float) -> None:
        due = self.book.due_for_ping(now=now, interval=settings.PRINT_PING_INTERVAL)
        if due:
            frame = protocol.dumps(protocol.ping())
            for sock in due:
                await sock.send(frame)

    async def _beat(self) -> None:
        self.book.forget_finished(now=time.monotonic())
        await self.groups.check_layer()
        for connection_id, code in list(self.unrecorded_closes.items()):
            await db(presence.printer_connection_close)(connection_id=connection_id, code=code)
            del self.unrecorded_closes[connection_id]
        heard, quiet = self.book.heard_since_beat()
        await db(presence.server_process_heartbeat)(
            server_id=self.server_id, heard_connection_ids=heard, quiet_connection_ids=quiet
        )
        if await db(presence.server_processes_reap)():
            self.wake.set()
        await db(presence.printer_connections_prune)()
        checked, self.printers_checked_at = self.printers_checked_at, timezone.now()
        await self.recheck(self.book.printers(), checked - RECHECK_MARGIN)
        await self.groups.renew(self.book.printers())
