"""What the API answers about orders and webhook endpoints."""

import re

from integrations.models import WebhookEndpoint
from orders.models import Order

ORDER_FIELDS = ("order_type", "delivery_platform", "platform_order_no", "customer_phone", "note")


def order_answer(*, order_id: int) -> dict | None:
    """The order with its items and each ticket's job state; None if there is none."""
    order = (
        Order.objects.filter(pk=order_id)
        .prefetch_related("items__category", "print_jobs__printer")
        .first()
    )
    if order is None:
        return None
    return {
        "id": order.pk,
        "status": order.status,
        "pickup_number": order.pickup_number,
        "total_amount": str(order.total_amount),
        **{name: getattr(order, name) for name in ORDER_FIELDS},
        "created_at": order.created_at.isoformat(),
        "confirmed_at": order.confirmed_at.isoformat() if order.confirmed_at else None,
        "items": [
            {
                "name": item.name,
                "category": item.category.name if item.category else None,
                "size": item.size,
                "temperature": item.temperature,
                "sugar": item.sugar,
                "toppings": toppings_list(item.toppings),
                "quantity": item.quantity,
                "unit_price": str(item.unit_price),
                "line_total": str(item.line_total),
            }
            for item in order.items.all()
        ],
        "tickets": [
            {
                "job_id": job.pk,
                "job_type": job.job_type,
                "status": job.status,
                "printer": job.printer.name if job.printer else None,
                "copies": job.copies,
                "reprint": job.is_reprint,
                "created_at": job.created_at.isoformat(),
                "completed_at": job.completed_at.isoformat() if job.completed_at else None,
            }
            for job in sorted(order.print_jobs.all(), key=lambda job: job.pk)
        ],
    }


def toppings_list(toppings: str) -> list[str]:
    # Staff type them "珍珠, 椰果", "珍珠，椰果" or "珍珠、椰果"; the API takes and gives a list.
    return [name.strip() for name in re.split(r"[,，、]", toppings) if name.strip()]


def webhook_answer(endpoint: WebhookEndpoint) -> dict:
    return {
        "id": endpoint.pk,
        "url": endpoint.url,
        "events": endpoint.events,
        "description": endpoint.description,
        "is_active": endpoint.is_active,
        "created_at": endpoint.created_at.isoformat(),
        "failing_since": endpoint.failing_since.isoformat() if endpoint.failing_since else None,
        "disabled_at": endpoint.disabled_at.isoformat() if endpoint.disabled_at else None,
    }
