"""Network printers printed by the server itself (IP:9100): who may print to which printer
(a lease in the database, one process at a time), claiming their jobs, the print, and the
status probes of printers no one is printing to."""

import asyncio
import contextlib
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from printing.delivery.orm import db
from printing.delivery.reports import Report, reports_apply
from printing.delivery.transitions import Transition, jobs_transition
from printing.devices import DeviceError, NetworkDevice
from printing.models import PrinterConfig, PrintJob
from printing.printer_bytes import is_label_printer, job_bytes, printer_settings

logger = logging.getLogger("printing.delivery")
Status = PrintJob.Status

NETWORK_LEASE_SECONDS = 30


def network_printers_due() -> list[PrinterConfig]:
    """Active network printers with a job ready to print."""
    now = timezone.now()
    ready = PrintJob.objects.filter(printer=OuterRef("pk"), status=PrintJob.Status.PENDING).filter(
        Q(not_before__isnull=True) | Q(not_before__lte=now)
    )
    return list(
        PrinterConfig.objects.filter(
            is_active=True, connection_type=PrinterConfig.ConnectionType.NETWORK
        ).filter(Exists(ready))
    )


def network_printers_to_probe(*, server_id: int) -> list[PrinterConfig]:
    """Active network printers nobody else is printing to (a probe would get in the way)."""
    return list(
        PrinterConfig.objects.filter(
            is_active=True, connection_type=PrinterConfig.ConnectionType.NETWORK
        ).filter(
            Q(network_lease_until__isnull=True)
            | Q(network_lease_until__lt=timezone.now())
            | Q(network_lease_owner=server_id)
        )
    )


def network_printer_lease(*, printer_id: int, server_id: int) -> bool:
    """Take (or renew) the right to print to this network printer; one process at a time."""
    now = timezone.now()
    return bool(
        PrinterConfig.objects.filter(pk=printer_id)
        .filter(
            Q(network_lease_until__isnull=True)
            | Q(network_lease_until__lt=now)
            | Q(network_lease_owner=server_id)
        )
        .update(
            network_lease_owner=server_id,
            network_lease_until=now + timedelta(seconds=NETWORK_LEASE_SECONDS),
        )
    )


def network_printer_release(*, printer_id: int, server_id: int) -> None:
    PrinterConfig.objects.filter(pk=printer_id, network_lease_owner=server_id).update(
        network_lease_owner=None, network_lease_until=None
    )


def network_printer_record(*, printer_id: int, problem: str | None, reachable: bool) -> None:
    """Keep what a probe or a print found out about a network printer."""
    status = PrinterConfig.NetworkStatus
    if not reachable:
        found = status.OFFLINE
    elif problem is None:
        found = status.ONLINE
    elif "paper" in problem:
        found = status.PAPER_OUT
    elif "cover" in problem or "head open" in problem:
        # A label printer's print head is opened to load labels: its cover, in effect.
        found = status.COVER_OPEN
    else:
        found = status.OFFLINE
    printer = PrinterConfig.objects.filter(pk=printer_id)
    before = printer.values_list("network_status", flat=True).first()
    printer.update(network_status=found, network_checked_at=timezone.now())
    if before != found:
        logger.info(
            "printer=%s event=network_status from=%s to=%s problem=%s",
            printer_id,
            before or "unknown",
            found,
            problem or "-",
        )


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
        changes = {
            "started_at": now,
            "sent_at": now,
            "sent_connection": None,
            "delivery_attempts": F("delivery_attempts") + 1,
        }
        jobs_transition(
            PrintJob.objects.filter(pk=candidate),
            Transition(
                Status.PRINTING,
                "printing",
                changes,
                "printing on the network printer",
                new_attempt=True,
            ),
        )
        return PrintJob.objects.select_related("order", "printer").get(pk=candidate)


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
        last_probe = 0.0
        while True:
            # A job for a network printer rings NETWORK_GROUP, so polling is only the
            # fallback (a confirmation in another process on the in-memory layer).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(settings.PRINT_POLL_INTERVAL, 2.0)):
                    await self.wake.wait()
            self.wake.clear()
            try:
                for printer in await db(network_printers_due)():
                    self._spawn(printer, self._print_queue)
                if time.monotonic() - last_probe >= settings.PRINT_NETWORK_PROBE_INTERVAL:
                    last_probe = time.monotonic()
                    for printer in await db(network_printers_to_probe)(server_id=self.server_id):
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
        device = _network_device(printer)
        try:
            problem = await self._run_blocking(device.probe)
            reachable = True
        except DeviceError as exc:
            problem, reachable = str(exc), False
        await db(network_printer_record)(
            printer_id=printer.pk, problem=problem, reachable=reachable
        )

    async def _print_queue(self, printer) -> None:
        """Print this printer's due jobs one after another while this process holds it."""
        if not await db(network_printer_lease)(printer_id=printer.pk, server_id=self.server_id):
            return
        try:
            device = _network_device(printer)
            while job := await db(network_job_claim)(printer_id=printer.pk):
                started = time.monotonic()
                try:
                    await self._run_blocking(_print_job, device, printer, job)
                    problem = None
                except DeviceError as exc:
                    problem = str(exc)
                outcome = Report(
                    job_id=job.pk,
                    status="failed" if problem else "completed",
                    message=problem or "打印成功",
                    actor="server:network",
                    check_printer=False,
                )
                await db(reports_apply)([outcome])
                await db(network_printer_record)(
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
                if problem or not await db(network_printer_lease)(
                    printer_id=printer.pk, server_id=self.server_id
                ):
                    break
        finally:
            await db(network_printer_release)(printer_id=printer.pk, server_id=self.server_id)


def _network_device(printer: PrinterConfig) -> NetworkDevice:
    return NetworkDevice(
        host=printer.ip_address,
        port=printer.port,
        timeout=settings.PRINT_NETWORK_TIMEOUT,
        status=printer.status_query,
        language="tspl" if is_label_printer(printer) else "escpos",
    )


def _print_job(device: NetworkDevice, printer: PrinterConfig, job: PrintJob) -> None:
    try:
        data = job_bytes(job, printer_settings(printer))
    except ValueError as exc:
        raise DeviceError(str(exc)) from None
    device.print(data, job.print_content)
