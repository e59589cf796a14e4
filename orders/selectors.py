"""What the order board shows."""

from datetime import timedelta

from django.db.models import Prefetch
from django.utils import timezone

from orders.models import Order, OrderItem
from printing.models import PrinterConfig, PrintJob

# The printers a reprint can go to: those with a paper ticket for an order.
REPRINT_ROLES = (PrinterConfig.Role.RECEIPT, PrinterConfig.Role.STATION, PrinterConfig.Role.LABEL)


def reprint_printers() -> list[dict]:
    """The reprint chooser's printers; `default` marks those a reprint goes to unchosen."""
    return [
        {
            "id": printer.pk,
            "name": printer.name,
            "role": printer.role,
            "role_label": printer.get_role_display(),
            "default": printer.role == PrinterConfig.Role.RECEIPT and printer.auto_print_orders,
        }
        for printer in PrinterConfig.objects.filter(
            is_active=True, role__in=REPRINT_ROLES
        ).order_by("role", "name")
    ]


def board_snapshot(*, recent_hours: int = 12, limit: int = 60) -> dict:
    """Pending orders (newest first), recently confirmed ones with their receipts, and the
    printers a reprint may go to."""
    since = timezone.now() - timedelta(hours=recent_hours)
    orders = (
        Order.objects.filter(created_at__gte=since)
        .exclude(status=Order.Status.CANCELLED)
        .prefetch_related(
            Prefetch("items", queryset=OrderItem.objects.select_related("category").order_by("id")),
            Prefetch(
                "print_jobs",
                queryset=PrintJob.objects.select_related("printer").order_by("id"),
            ),
        )
        .order_by("-created_at", "-id")[:limit]
    )
    pending, confirmed = [], []
    for order in orders:
        entry = {
            "id": order.pk,
            "status": order.status,
            "total": f"{order.total_amount:.2f}",
            "phone": order.customer_phone,
            "note": order.note,
            "created_at": timezone.localtime(order.created_at).strftime("%H:%M:%S"),
            "pickup_number": order.pickup_number,
            "order_type": order.order_type,
            "order_type_label": order.get_order_type_display(),
            "delivery_platform": order.delivery_platform,
            "platform_order_no": order.platform_order_no,
            "items": [
                {
                    "name": item.name,
                    "category": item.category.name if item.category else "",
                    "toppings": item.toppings,
                    "options": " | ".join(
                        part for part in (item.size, item.temperature, item.sugar) if part
                    ),
                    "quantity": item.quantity,
                    "line_total": f"{item.line_total:.2f}",
                }
                for item in order.items.all()
            ],
            "receipts": [
                {
                    "job_id": job.pk,
                    "printer": job.printer.name if job.printer else None,
                    "type": job.job_type,
                    "reprint": job.is_reprint,
                    "status": job.status,
                    "error": job.error_message or "",
                }
                for job in order.print_jobs.all()
            ],
        }
        (pending if order.status == Order.Status.PENDING else confirmed).append(entry)
    return {
        "pending": pending,
        "confirmed": confirmed,
        "printers": reprint_printers(),
        "generated_at": timezone.now().isoformat(),
    }
