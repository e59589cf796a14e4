"""Writing behind: the bell's deliveries and clients' status reports gather while the
previous batch is being written, then go to the database together. Under load a batch holds
many jobs, so the database sees a few transactions a second instead of several per job."""

import asyncio
import contextlib
import logging
from collections import defaultdict

from django.db import DatabaseError, transaction

from printing import protocol
from printing.delivery.claims import jobs_mark_sent
from printing.delivery.orm import db
from printing.delivery.outages import Outages
from printing.delivery.reports import Report, StatusOutcome, reports_apply
from printing.delivery.sockets import PrinterSocket

logger = logging.getLogger("printing.delivery")


def batch_write(
    *, sent: dict[int, list[tuple[int, int]]], reports: list[Report]
) -> list[StatusOutcome | protocol.ProtocolError]:
    """Deliveries, then status reports, in one transaction (SQLite then takes its write
    lock once for all of them)."""
    with transaction.atomic(savepoint=False):
        if sent:
            jobs_mark_sent(sent=sent)
        return reports_apply(reports) if reports else []


class Recorder:
    def __init__(self, outages: Outages) -> None:
        self.outages = outages
        self.sent: dict[int, list[tuple[int, int]]] = defaultdict(list)
        self.reports: list[tuple[Report, PrinterSocket]] = []
        self.wanted = asyncio.Event()
        self.queued = 0
        self.recorded = 0
        self.batch_done = asyncio.Event()
        self.stopping = False

    def deliveries(self, sent: dict[int, list[tuple[int, int]]]) -> None:
        """Jobs the bell delivered, {connection: [(job, attempt)]}, to mark sent."""
        for connection_id, pairs in sent.items():
            self.sent[connection_id].extend(pairs)
        if sent:
            self.wanted.set()

    def status(self, sock: PrinterSocket, status: protocol.PrintStatus) -> None:
        """A client's `print_status`. The socket does not wait: a refusal (not its job, not
        its attempt) is answered once the batch is in, and counts as a bad message."""
        report = Report(
            job_id=status.job_id,
            status=status.status,
            message=status.message,
            connection_id=sock.connection_id,
            printer_id=sock.printer_id,
            offered_attempt=sock.offered.get(status.job_id),
        )
        self.reports.append((report, sock))
        self.queued += 1
        sock.last_report = self.queued
        self.wanted.set()

    async def settled(self, sock: PrinterSocket) -> None:
        """Waits until the socket's reports so far are recorded (or refused), so that a pong
        tells a client that everything it said before its ping has been handled."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(10):
                while self.recorded < sock.last_report and not self.stopping:
                    await self.batch_done.wait()

    async def run(self) -> None:
        while not self.stopping:
            await self.wanted.wait()
            self.wanted.clear()
            try:
                await self.flush()
                self.outages.ok("database")
            except asyncio.CancelledError:
                raise
            except DatabaseError as exc:
                self.outages.failed("database", exc)
                await asyncio.sleep(0.5)
            except Exception:
                logger.exception("recording deliveries and reports failed")

    async def flush(self) -> None:
        sent, self.sent = self.sent, defaultdict(list)
        batch, self.reports = self.reports, []
        upto = self.queued
        try:
            await self._write(sent, batch)
        finally:
            self.recorded = upto
            self.batch_done.set()
            self.batch_done = asyncio.Event()

    async def _write(
        self, sent: dict[int, list[tuple[int, int]]], batch: list[tuple[Report, PrinterSocket]]
    ) -> None:
        if not sent and not batch:
            return
        try:
            results = await db(batch_write)(sent=dict(sent), reports=[r for r, _ in batch])
        except DatabaseError:
            # Unrecorded deliveries are offered again by the sweep (clients dedupe); a client
            # whose report was not recorded hears so, and the job is offered again anyway.
            for report, sock in batch:
                await sock.send(protocol.dumps(protocol.server_unavailable(job_id=report.job_id)))
            raise
        for (report, sock), result in zip(batch, results, strict=True):
            if isinstance(result, protocol.ProtocolError):
                logger.info(
                    "connection=%s event=bad_report code=%s job=%s",
                    sock.connection_id,
                    result.code,
                    report.job_id,
                )
                await sock.refused(result)
