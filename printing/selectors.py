"""Read-side queries for the dashboard, the API and housekeeping."""

from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from orders.models import Category
from printing.models import PrinterConfig, PrinterConnection, PrintJob, ServerProcess


def printers_online() -> QuerySet:
    """Printers with a socket heard from within PRINT_ONLINE_TIMEOUT, and network printers
    whose last probe or print found them ready."""
    now = timezone.now()
    heard = PrinterConnection.objects.filter(
        printer=OuterRef("pk"),
        closed_at__isnull=True,
        last_seen__gte=now - timedelta(seconds=settings.PRINT_ONLINE_TIMEOUT),
    )
    probed = Q(
        connection_type=PrinterConfig.ConnectionType.NETWORK,
        network_status=PrinterConfig.NetworkStatus.ONLINE,
        network_checked_at__gte=now - timedelta(seconds=3 * settings.PRINT_NETWORK_PROBE_INTERVAL),
    )
    return PrinterConfig.objects.filter(Q(Exists(heard)) | probed).values("pk")


def printers_status() -> list[dict]:
    """Every printer with its online state, sockets and queue: what the dashboard shows."""
    cutoff = timezone.now() - timedelta(seconds=settings.PRINT_ONLINE_TIMEOUT)
    waiting = dict(
        PrintJob.objects.filter(status__in=PrintJob.WAITING, printer__isnull=False)
        .values_list("printer_id")
        .annotate(count=Count("pk"))
    )
    sockets = defaultdict(list)
    for connection in PrinterConnection.objects.filter(
        closed_at__isnull=True, printer__isnull=False
    ).order_by("connected_at"):
        sockets[connection.printer_id].append(connection)
    status = []
    online = set(printers_online().values_list("pk", flat=True))
    for printer in PrinterConfig.objects.select_related("backup_printer").order_by("name"):
        live = [c for c in sockets[printer.pk] if c.last_seen >= cutoff]
        seen = max((c.last_seen for c in sockets[printer.pk]), default=printer.network_checked_at)
        latest = live[-1] if live else None
        status.append(
            {
                "id": printer.pk,
                "name": printer.name,
                "active": printer.is_active,
                "online": printer.pk in online,
                "connection_type": printer.connection_type,
                "network_status": printer.network_status or None,
                "last_seen": seen.isoformat() if seen else None,
                "pending_jobs": waiting.get(printer.pk, 0),
                "paper_width": printer.paper_width,
                "backup_printer": printer.backup_printer.name if printer.backup_printer else None,
                "printer_info": latest.printer_info if latest else None,
                "connections": [
                    {
                        "id": c.pk,
                        "address": c.client_address,
                        "reported_name": c.reported_name,
                        "model": c.reported_model,
                        "status": c.reported_status,
                        "authenticated_by": c.authenticated_by,
                        "connected_at": c.connected_at.isoformat(),
                        "last_seen": c.last_seen.isoformat(),
                    }
                    for c in live
                ],
            }
        )
    return status


def station_warnings() -> list[str]:
    """What the shop's stations leave unmade: each category no active station printer takes
    ("no station prints 小食"), when there are stations at all. A station with no categories
    takes every item; one that does not print orders automatically makes no tickets."""
    stations = list(
        PrinterConfig.objects.filter(
            is_active=True, auto_print_orders=True, role=PrinterConfig.Role.STATION
        ).prefetch_related("categories")
    )
    if not stations:
        return []
    taken: set[int] = set()
    for station in stations:
        categories = {category.pk for category in station.categories.all()}
        if not categories:
            return []
        taken |= categories
    return [
        gettext("no station prints %(category)s") % {"category": category.name}
        for category in Category.objects.exclude(pk__in=taken)
    ]


def dashboard_snapshot() -> dict:
    """Everything the print dashboard shows, in one JSON-ready dict."""
    now = timezone.now()
    local_today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    printers = printers_status()
    today = dict(
        PrintJob.objects.filter(created_at__gte=local_today)
        .values_list("status")
        .annotate(count=Count("pk"))
    )
    finished = today.get("completed", 0) + today.get("failed", 0)
    alive_after = now - timedelta(seconds=settings.PRINT_SERVER_DEAD_AFTER)
    servers = [
        {
            "id": server.pk,
            "host": server.hostname,
            "pid": server.pid,
            "version": server.version,
            "channel_layer": server.channel_layer,
            "started_at": server.started_at.isoformat(),
            "last_seen": server.last_seen.isoformat(),
        }
        for server in ServerProcess.objects.filter(stopped_at=None, last_seen__gte=alive_after)
    ]
    connections = [
        {
            "id": c.pk,
            "printer": c.printer.name if c.printer else None,
            "reported_name": c.reported_name,
            "reported_model": c.reported_model,
            "reported_status": c.reported_status,
            "address": c.client_address,
            "authenticated_by": c.authenticated_by,
            "connected_at": c.connected_at.isoformat(),
            "last_seen": c.last_seen.isoformat(),
        }
        for c in PrinterConnection.objects.filter(closed_at=None, server__stopped_at=None)
        .select_related("printer")
        .order_by("-connected_at")[:200]
    ]
    jobs = [
        {
            "id": job.pk,
            "order_id": job.order_id,
            "printer": job.printer.name if job.printer else None,
            "type": job.job_type,
            "status": job.status,
            "attempts": job.delivery_attempts,
            "retries": job.retry_count,
            "created_at": job.created_at.isoformat(),
            "completed_at": job.completed_at.isoformat() if job.completed_at else None,
            "error": job.error_message or "",
        }
        for job in PrintJob.objects.select_related("printer").order_by("-created_at", "-id")[:25]
    ]
    return {
        "generated_at": now.isoformat(),
        "stats": {
            "printers_total": len(printers),
            "printers_active": sum(p["active"] for p in printers),
            "printers_online": sum(p["online"] for p in printers),
            "jobs_today": today,
            "failure_rate": today.get("failed", 0) / finished if finished else None,
            "failed_waiting": PrintJob.objects.filter(status=PrintJob.Status.FAILED).count(),
        },
        "service": {
            "up": bool(servers),
            "since": min((s["started_at"] for s in servers), default=None),
            "servers": servers,
            "sockets": len(connections),
        },
        "printers": printers,
        "connections": connections,
        "recent_jobs": jobs,
        "warnings": station_warnings(),
    }
