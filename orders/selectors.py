"""What the order board shows."""

from datetime import timedelta

from django.db.models import Prefetch
from django.utils import timezone

from orders.models import Order, OrderItem
from printing.models import PrintJob


def board_snapshot(*, recent_hours: int = 12, limit: int = 60) -> dict:
    """Pending orders (newest first) and recently confirmed ones with their receipts."""
    since = timezone.now() - timedelta(hours=recent_hours)
    orders = (
        Order.objects.filter(created_at__gte=since)
        .exclude(status=Order.Status.CANCELLED)
        .prefetch_related(
            Prefetch("items", queryset=OrderItem.objects.order_by("id")),
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
            "items": [
                {
                    "name": item.name,
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
                    "status": job.status,
                    "error": job.error_message or "",
                }
                for job in order.print_jobs.all()
            ],
        }
        (pending if order.status == Order.Status.PENDING else confirmed).append(entry)
    return {"pending": pending, "confirmed": confirmed, "generated_at": timezone.now().isoformat()}
