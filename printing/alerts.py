"""Alerts: which conditions staff must hear about now, opened once and resolved when they
clear.

Every server process evaluates them on its heartbeat: a few aggregate queries however many
sockets and jobs there are (a backlog is one alert per printer, listing its jobs), and the
open-alerts unique constraint makes two processes open one alert, not two.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from integrations.models import WebhookEndpoint
from integrations.outbox import alerts_record
from orders.models import Order
from printing import selectors
from printing.delivery.bell import jobs_announce, ring_on_commit
from printing.delivery.transitions import ACTOR_SERVER, jobs_insert
from printing.models import Alert, PrinterConfig, PrinterConnection, PrintJob
from printing.paper import center, columns_for

logger = logging.getLogger("printing.alerts")
Kind = Alert.Kind
Status = PrintJob.Status
# Jobs and orders older than this are history, not something to shout about.
LOOKBACK = timedelta(hours=12)
# Pickup numbers named in a message; the rest are counted.
NAMED = 5
# What a printer's own report (agent) or probe (network) says, as an alert kind.
PROBLEMS = {"paper_out": Kind.PAPER_OUT, "cover_open": Kind.COVER_OPEN}
# A station or label printer with one of these sends a slip to its alarm printer.
ALARMED = (Kind.JOB_STUCK, Kind.PAPER_OUT)


@dataclass
class Condition:
    kind: str
    subject: str
    message: str
    printer_id: int | None = None
    order_id: int | None = None
    job_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Changes:
    opened: int
    resolved: int


def alerts_evaluate(*, now: datetime | None = None) -> Changes:
    """Open the alerts whose condition holds, resolve those whose condition cleared."""
    now = now or timezone.now()
    wanted = {(c.kind, c.subject): c for c in _conditions(now)}
    open_alerts = {(a.kind, a.subject): a for a in Alert.objects.filter(resolved_at=None)}
    new = [
        Alert(
            kind=c.kind,
            subject=c.subject,
            message=c.message,
            printer_id=c.printer_id,
            order_id=c.order_id,
            job_id=c.job_ids[0] if c.job_ids else None,
            job_ids=c.job_ids,
            opened_at=now,
        )
        for key, c in wanted.items()
        if key not in open_alerts
    ]
    opened = [alert for alert in new if _opened(alert)]
    changed = []
    for key, alert in open_alerts.items():
        condition = wanted.get(key)
        if condition and (alert.message, alert.job_ids) != (condition.message, condition.job_ids):
            alert.message, alert.job_ids = condition.message, condition.job_ids
            changed.append(alert)
    if changed:
        Alert.objects.bulk_update(changed, ["message", "job_ids"])
    resolved = [
        alert for key, alert in open_alerts.items() if key not in wanted and _resolved(alert, now)
    ]
    for alert in opened:
        logger.info("alert=%s subject=%s event=opened message=%r", alert.kind, alert.subject,
                    alert.message)  # fmt: skip
    if opened:
        _alarm_slips([(alert.kind, alert.subject) for alert in opened])
    return Changes(opened=len(opened), resolved=len(resolved))


def _opened(alert: Alert) -> bool:
    """Open it, with its webhooks, unless another process opened the same one a moment ago
    (the open-once constraint keeps theirs)."""
    try:
        with transaction.atomic():
            alert.save(force_insert=True)
            alerts_record(opened=[alert], resolved=[])
    except IntegrityError:
        return False
    return True


def _resolved(alert: Alert, now: datetime) -> bool:
    """Resolve it, with its webhooks, unless another process just did."""
    with transaction.atomic():
        if not Alert.objects.filter(pk=alert.pk, resolved_at=None).update(resolved_at=now):
            return False
        alert.resolved_at = now
        alerts_record(opened=[], resolved=[alert])
    return True


def alert_acknowledge(*, alert_id: int, actor: str) -> Alert | None:
    """Silence an alert (it stays open until its condition clears); None if unknown."""
    Alert.objects.filter(pk=alert_id, acknowledged_at=None).update(
        acknowledged_at=timezone.now(), acknowledged_by=actor[:150]
    )
    return Alert.objects.filter(pk=alert_id).first()


def alerts_open() -> list[dict]:
    """The open alerts as the API and the pages show them, newest first."""
    alerts = Alert.objects.filter(resolved_at=None).select_related("printer", "order")
    return [
        {
            "id": alert.pk,
            "kind": alert.kind,
            "severity": alert.severity,
            "printer": {"id": alert.printer.pk, "name": alert.printer.name}
            if alert.printer
            else None,
            "job_id": alert.job_id,
            "order_id": alert.order_id,
            "pickup_number": alert.order.pickup_number if alert.order else "",
            "job_ids": alert.job_ids,
            "opened_at": alert.opened_at.isoformat(),
            "acknowledged": alert.acknowledged_at is not None,
            "message": alert.message,
        }
        for alert in alerts
    ]


# The conditions


def _conditions(now: datetime) -> list[Condition]:
    # Plain rows, not models: with a thousand printers, building model instances was most of
    # an evaluation's CPU.
    printers = {
        row["pk"]: row
        for row in PrinterConfig.objects.filter(is_active=True).values(
            "pk", "name", "connection_type", "network_status", "network_checked_at", "created_at"
        )
    }
    waiting = _jobs(
        status__in=(Status.PENDING, Status.SENT, Status.PRINTING), created_at__gte=now - LOOKBACK
    )
    found = _printer_conditions(now, printers, waiting)
    stuck_before = now - timedelta(seconds=settings.PRINT_ALERT_AFTER)
    stuck = [job for job in waiting if job["created_at"] <= stuck_before]
    found += _job_conditions(Kind.JOB_STUCK, "未打印", stuck, printers)
    failed = _jobs(status__in=(Status.FAILED, Status.EXPIRED), created_at__gte=now - LOOKBACK)
    found += _job_conditions(Kind.JOB_FAILED, "打印失败", failed, printers)
    found += _order_conditions(now)
    found += _webhook_conditions()
    return found


def _jobs(**filters) -> list[dict]:
    return list(
        PrintJob.objects.filter(**filters)
        .exclude(job_type=PrintJob.JobType.ALARM)
        .order_by("pk")
        .values("pk", "printer_id", "created_at", "order_id", "order__pickup_number")
    )


def _printer_conditions(now: datetime, printers: dict[int, dict], waiting: list[dict]):
    online = set(selectors.printers_online().values_list("pk", flat=True))
    offline = [pk for pk in printers if pk not in online]
    last_heard = dict(
        PrinterConnection.objects.filter(printer_id__in=offline)
        .values_list("printer_id")
        .annotate(Max("last_seen"))
    )
    # What the open sockets of each printer say about its paper (agents probe their device).
    reported: dict[int, set[str]] = defaultdict(set)
    for printer_id, status in (
        PrinterConnection.objects.filter(printer__is_active=True, closed_at=None)
        .exclude(reported_status__in=("", "ready"))
        .values_list("printer_id", "reported_status")
    ):
        reported[printer_id].add(status)
    jobs_of: dict[int, list[dict]] = defaultdict(list)
    for job in waiting:
        if job["printer_id"] is not None:
            jobs_of[job["printer_id"]].append(job)
    offline_for = timedelta(seconds=settings.PRINT_ALERT_OFFLINE_AFTER)
    found = []
    for pk in offline:
        printer, theirs = printers[pk], jobs_of.get(pk, [])
        since = last_heard.get(pk) or printer["network_checked_at"] or printer["created_at"]
        if theirs or now - since >= offline_for:
            found.append(_about(printer, Kind.PRINTER_OFFLINE, "离线", theirs))
    for printer in printers.values():
        network = printer["connection_type"] == PrinterConfig.ConnectionType.NETWORK
        problems = {printer["network_status"]} if network else reported.get(printer["pk"], set())
        for problem, kind in PROBLEMS.items():
            if problem in problems:
                label = "缺纸" if kind == Kind.PAPER_OUT else "纸仓盖打开"
                found.append(_about(printer, kind, label, jobs_of.get(printer["pk"], [])))
    return found


def _about(printer: dict, kind: str, what: str, jobs: list[dict]) -> Condition:
    numbers = _numbers(jobs)
    message = f"{printer['name']}{what}"
    return Condition(
        kind=kind,
        subject=f"printer:{printer['pk']}",
        message=f"{message}：{numbers} 未打印" if numbers else message,
        printer_id=printer["pk"],
        job_ids=[job["pk"] for job in jobs],
    )


def _job_conditions(
    kind: str, what: str, jobs: list[dict], printers: dict[int, dict]
) -> list[Condition]:
    """One alert per printer (and one for the jobs for every socket), listing its jobs."""
    by_printer: dict[int | None, list[dict]] = defaultdict(list)
    for job in jobs:
        by_printer[job["printer_id"]].append(job)
    found = []
    for printer_id, theirs in by_printer.items():
        printer = printers.get(printer_id)
        name = printer["name"] if printer else "打印机"
        numbers = _numbers(theirs) or f"{len(theirs)} 张小票"
        found.append(
            Condition(
                kind=kind,
                subject=f"printer:{printer_id if printer_id is not None else '-'}",
                message=f"{name}：{numbers} {what}",
                printer_id=printer["pk"] if printer else None,
                order_id=theirs[0]["order_id"] if len(theirs) == 1 else None,
                job_ids=[job["pk"] for job in theirs],
            )
        )
    return found


def _order_conditions(now: datetime) -> list[Condition]:
    waiting_since = now - timedelta(seconds=settings.ORDER_ALERT_AFTER)
    orders = Order.objects.filter(
        status=Order.Status.PENDING, created_at__lte=waiting_since, created_at__gte=now - LOOKBACK
    ).values("pk", "order_type", "delivery_platform", "platform_order_no")
    found = []
    for order in orders:
        platform = " ".join(
            part for part in (order["delivery_platform"], order["platform_order_no"]) if part
        )
        message = f"订单 #{order['pk']}{f'（{platform}）' if platform else ''} 等待确认"
        found.append(
            Condition(
                kind=Kind.ORDER_WAITING,
                subject=f"order:{order['pk']}",
                message=message,
                order_id=order["pk"],
            )
        )
    return found


def _webhook_conditions() -> list[Condition]:
    """Endpoints the sender disabled after failing too long; resolved when staff re-enable
    (or delete) them."""
    hours = settings.PRINT_WEBHOOK_GIVE_UP_AFTER
    disabled = WebhookEndpoint.objects.filter(is_active=False, disabled_at__isnull=False)
    return [
        Condition(
            kind=Kind.WEBHOOK_DISABLED,
            subject=f"webhook:{pk}",
            message=f"Webhook {url} 已停用：连续 {hours:g} 小时投递失败",
        )
        for pk, url in disabled.values_list("pk", "url")
    ]


def _numbers(jobs: list[dict]) -> str:
    """The pickup numbers of these jobs, the first few by name."""
    numbers = list(
        dict.fromkeys(job["order__pickup_number"] for job in jobs if job["order__pickup_number"])
    )
    if len(numbers) > NAMED:
        return f"{' '.join(numbers[:NAMED])} 等 {len(numbers)} 单"
    return " ".join(numbers)


# The alarm slip


def _alarm_slips(keys: list[tuple[str, str]]) -> None:
    """A slip with the buzzer on the alarm printer of each station or label printer whose
    new alert calls for one; at most once per alert, whichever process opened it."""
    alerts = (
        Alert.objects.filter(resolved_at=None, alarm_job=None, kind__in=ALARMED)
        .filter(subject__in=[subject for _, subject in keys])
        .select_related("printer__alarm_printer")
    )
    for alert in alerts:
        if (alert.kind, alert.subject) not in keys:
            continue
        printer = alert.printer
        alarm = printer.alarm_printer if printer else None
        roles = (PrinterConfig.Role.STATION, PrinterConfig.Role.LABEL)
        if alarm is None or not alarm.is_active or printer.role not in roles:
            continue
        _alarm_slip(alert, alarm)


def _alarm_slip(alert: Alert, alarm: PrinterConfig) -> None:
    width = columns_for(alarm.paper_width)
    lines = [
        "=" * width,
        *center("** 警报 / ALERT **", width),
        "=" * width,
        alert.message,
        f"时间: {timezone.localtime(alert.opened_at):%H:%M:%S}",
        "=" * width,
    ]
    job = PrintJob(
        printer=alarm,
        job_type=PrintJob.JobType.ALARM,
        print_content="\n".join(lines) + "\n",
        priority=1,
        order_id=alert.order_id,
    )
    with transaction.atomic():
        jobs_insert([job], actor=ACTOR_SERVER, message=f"alarm for alert {alert.pk}")
        # Claimed by the one process that sets it; another that got here too rolls its slip
        # back (SQLite cannot lock the row beforehand), leaving only a log line.
        if not Alert.objects.filter(pk=alert.pk, alarm_job=None).update(alarm_job=job):
            transaction.set_rollback(True)
            return
        ring_on_commit(jobs_announce, [job])
