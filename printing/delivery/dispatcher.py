"""The per-process dispatcher: holds this process's printer sockets and delivers jobs to
them. It decides nothing itself (see decisions.py); it awaits what the decisions call for.

- Fast path: a bell carries each job's frame, built once, to the dispatchers holding a
  socket for that printer; the dispatcher writes it to its sockets, then the recorder marks
  the jobs sent.
- Catch-up: the sweep reads the table on an interval and whenever a socket connects or names
  its printer, and offers every waiting job to each local socket that should have it and has
  not had it on this connection, most urgent first, then oldest.
"""

import asyncio
import contextlib
import logging
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from channels.layers import get_channel_layer
from django.conf import settings
from django.db import DatabaseError

from integrations.webhooks.sender import WebhookSender
from printing import access, protocol
from printing.delivery import presence
from printing.delivery.bell import BELL, RECHECK, WAKE
from printing.delivery.claims import SWEEP_LIMIT, jobs_claim_and_load, jobs_statuses, jobs_waiting
from printing.delivery.decisions import Binding, DeliveryBook
from printing.delivery.frames import job_frame
from printing.delivery.groups import Groups
from printing.delivery.heartbeat import Heartbeat
from printing.delivery.network import NetworkPrinting
from printing.delivery.orm import db
from printing.delivery.outages import Outages
from printing.delivery.recorder import Recorder
from printing.delivery.sockets import PrinterSocket
from printing.models import PrintJob

if TYPE_CHECKING:
    from channels.generic.websocket import AsyncWebsocketConsumer

logger = logging.getLogger("printing.delivery")


class Dispatcher:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.layer = get_channel_layer()
        self.book = DeliveryBook()
        # Sockets let in by a staff member's ticket, re-checked every heartbeat.
        self.ticket_sockets: set[PrinterSocket] = set()
        self.outages = Outages()
        self.groups = Groups(self.layer, self.outages)
        self.recorder = Recorder(self.outages)
        self.wake = asyncio.Event()
        self.heartbeat = Heartbeat(
            book=self.book,
            groups=self.groups,
            outages=self.outages,
            wake=self.wake,
            recheck=self.sockets_recheck,
        )
        self.network: NetworkPrinting | None = None
        # Webhooks go out from every server process, off the printing path.
        self.webhooks = WebhookSender(self.outages)
        self.server_id: int | None = None
        # This database's id, for `welcome` (see presence.server_instance).
        self.instance: str | None = None
        self.tasks: list[asyncio.Task] = []
        self.started: asyncio.Task | None = None
        self.stopping = False

    # Life cycle

    async def start(self) -> None:
        layer_name = type(self.layer).__name__ if self.layer else "none"
        self.server_id = await db(presence.server_process_register)(channel_layer=layer_name)
        self.instance = await db(presence.server_instance)()
        self.heartbeat.server_id = self.server_id
        await self.groups.open()
        self.network = NetworkPrinting(self.server_id)
        self.tasks = [
            self.loop.create_task(self._listen(), name="print-bells"),
            self.loop.create_task(self._sweep_forever(), name="print-sweep"),
            self.loop.create_task(self.heartbeat.run(), name="print-heartbeat"),
            self.loop.create_task(self.network.run(), name="print-network"),
            self.loop.create_task(self.recorder.run(), name="print-record"),
            self.loop.create_task(self.webhooks.run(), name="webhook-sender"),
        ]
        logger.info("server=%s event=dispatcher_started layer=%s", self.server_id, layer_name)

    async def stop(self) -> None:
        self.stopping = self.recorder.stopping = self.heartbeat.stopping = True
        self.webhooks.stopping = True
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self.recorder.flush()
        if self.network is not None:
            await self.network.stop()
        await self.webhooks.stop()
        for sock in self.book.sockets.values():
            sock.open = False
        self.book.sockets.clear()
        self.book.by_printer.clear()
        self.ticket_sockets.clear()
        if self.server_id is not None:
            await db(presence.server_process_stop)(server_id=self.server_id)

    # Sockets

    def slot_reserve(self, address: str) -> str | None:
        """Count one more socket from this address, or say why it would be one too many.
        Checked and counted before any await, so sockets arriving together cannot all slip
        under a limit; every reservation is given back by slot_release()."""
        return self.book.slot_reserve(
            address,
            max_total=settings.PRINT_MAX_CONNECTIONS,
            max_per_address=settings.PRINT_MAX_CONNECTIONS_PER_ADDRESS,
        )

    def slot_release(self, address: str) -> None:
        self.book.slot_release(address)

    async def attach(
        self,
        consumer: "AsyncWebsocketConsumer",
        *,
        client: str,
        path: str,
        address: str = "",
        printer_id: int | None = None,
        token_hash: str | None = None,
        user_id: int | None = None,
        by: str = "network",
    ) -> PrinterSocket:
        """Register a socket; one let in by a token or ticket is bound to its printer."""
        try:
            connection_id = await db(presence.printer_connection_open)(
                server_id=self.server_id,
                client_address=client,
                path=path,
                printer_id=printer_id,
                authenticated_by=by,
            )
        except BaseException:
            self.slot_release(address)
            raise
        sock = PrinterSocket(
            consumer,
            connection_id,
            client,
            address=address,
            printer_id=printer_id,
            token_hash=token_hash,
            user_id=user_id,
        )
        self.book.add(sock)
        if user_id is not None:
            self.ticket_sockets.add(sock)
        logger.info(
            "connection=%s client=%s path=%s event=connect by=%s", connection_id, client, path, by
        )
        if printer_id is not None:
            await self._apply(self.book.bind(sock, printer_id))
            logger.info("connection=%s printer=%s event=bind by=%s", connection_id, printer_id, by)
        self.wake.set()
        return sock

    async def identify(self, sock: PrinterSocket, info: protocol.PrinterInfo) -> presence.Identity:
        """Bind the socket to the printer it names (or to none); its backlog follows."""
        identity = await db(presence.printer_connection_identify)(
            connection_id=sock.connection_id,
            info=info,
            printer_id=sock.printer_id if sock.fixed_printer else None,
        )
        printer = identity.printer
        await self._apply(self.book.bind(sock, printer.pk if printer else None))
        logger.info(
            "connection=%s printer=%s reported_name=%r event=%s",
            sock.connection_id,
            printer.name if printer else "-",
            info.name,
            "bind_refused reason=token_required" if identity.token_required else "bind",
        )
        self.wake.set()
        return identity

    async def detach(self, sock: PrinterSocket, code: int | None) -> None:
        self.ticket_sockets.discard(sock)
        await self._apply(self.book.remove(sock))
        try:
            released = await db(presence.printer_connection_close)(
                connection_id=sock.connection_id, code=code
            )
        except DatabaseError as exc:
            self.outages.failed("database", exc)
            self.heartbeat.unrecorded_closes[sock.connection_id] = code
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

    async def _apply(self, binding: Binding) -> None:
        if binding.leave is not None:
            await self.groups.leave_printer(binding.leave)
        if binding.join is not None:
            await self.groups.join_printer(binding.join)

    def status_report(self, sock: PrinterSocket, status: protocol.PrintStatus) -> None:
        """A client's `print_status`, recorded with the next batch."""
        self.recorder.status(sock, status)

    async def reports_settled(self, sock: PrinterSocket) -> None:
        await self.recorder.settled(sock)

    async def sockets_recheck(
        self, printer_ids: list[int], changed_since: datetime | None = None
    ) -> None:
        """Close local sockets of printers that were disabled or got a new token (or were
        deleted); with `changed_since`, only printers changed since then are looked at. Sockets
        opened with a ticket close when its staff member was deactivated or lost the test
        client permission."""
        await self._ticket_holders_recheck()
        local = [pk for pk in printer_ids if pk in self.book.by_printer]
        if not local:
            return
        current = await db(presence.printers_credentials)(
            printer_ids=local, changed_since=changed_since
        )
        if changed_since is not None:
            local = list(current)
        for printer_id in local:
            active, token = current.get(printer_id, (False, None))
            for sock in self.book.targets(printer_id):
                if not active:
                    await sock.close(access.FORBIDDEN, "printer disabled")
                elif sock.token_hash is not None and sock.token_hash != token:
                    await sock.close(access.UNAUTHORIZED, "token revoked")
                elif token is not None and sock.token_hash is None and not sock.fixed_printer:
                    # Bound by name before the printer had a token: now it needs one.
                    await sock.close(access.UNAUTHORIZED, "token required")

    async def _ticket_holders_recheck(self) -> None:
        if not self.ticket_sockets:
            return
        holders = {sock.user_id for sock in self.ticket_sockets}
        allowed = await db(presence.ticket_holders_allowed)(user_ids=holders)
        for sock in list(self.ticket_sockets):
            if sock.user_id not in allowed:
                await sock.close(access.FORBIDDEN, "ticket holder no longer allowed")

    # Fast path

    async def _listen(self) -> None:
        if self.layer is None:
            return
        backoff = 0.5
        while not self.stopping:
            try:
                message = await self.layer.receive(self.groups.channel)
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
            sends, sent = self.book.bell_sends(message["jobs"])
            for sock, frame in sends:
                await sock.send(frame)
            self.recorder.deliveries(sent)
        elif kind == WAKE:
            self.wake.set()
            self.network.wake.set()
        elif kind == RECHECK:
            await self.sockets_recheck(message["printer_ids"])

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
        if not self.book.sockets:
            return
        rows = await db(jobs_waiting)(printer_ids=self.book.printers())
        if len(rows) < SWEEP_LIMIT:
            await self._settle({job_id for job_id, _, _ in rows})
        plan, claims = self.book.sweep_plan(rows)
        if not plan:
            return
        jobs = await db(jobs_claim_and_load)(claims=claims, job_ids=[pk for pk, _ in plan])
        for job_id, targets in plan:
            job = jobs.get(job_id)
            if job is None or job.status != PrintJob.Status.SENT:
                continue
            chosen = self.book.send_to(job_id, job.delivery_attempts, targets)
            if chosen:
                frame = job_frame(job, attempt=job.delivery_attempts)
                for sock in chosen:
                    await sock.send(frame)

    async def _settle(self, waiting: set[int]) -> None:
        """Forget jobs no longer waiting; send `cancel_job` for the cancelled ones."""
        finished = self.book.unsettled(waiting)
        if not finished:
            return
        statuses = await db(jobs_statuses)(job_ids=finished)
        for sock, job_id in self.book.settle(finished, statuses, now=time.monotonic()):
            await sock.send(protocol.dumps(protocol.cancel_job(job_id=job_id)))
            logger.info("job=%s socket=%s event=cancel_sent", job_id, sock.connection_id)


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
