"""Order flows used by the admin, the back office and the demo data."""

from collections.abc import Iterable
from decimal import Decimal
from typing import TypedDict

from django.db import transaction

from orders.models import Order, OrderItem


class ItemSpec(TypedDict, total=False):
    name: str
    quantity: int
    unit_price: Decimal | str
    size: str
    temperature: str
    sugar: str


def order_create(
    *, items: Iterable[ItemSpec], customer_phone: str = "", note: str = "", confirm: bool = False
) -> Order:
    """A new order with its items; confirmed only after the items exist, so its receipts
    list them."""
    with transaction.atomic():
        order = Order.objects.create(customer_phone=customer_phone, note=note)
        OrderItem.objects.bulk_create(
            OrderItem(
                order=order,
                name=item["name"],
                quantity=item.get("quantity", 1),
                unit_price=Decimal(str(item.get("unit_price", "0"))),
                size=item.get("size", ""),
                temperature=item.get("temperature", ""),
                sugar=item.get("sugar", ""),
            )
            for item in items
        )
        order_total_refresh(order=order)
        if confirm:
            order = order_confirm(order_id=order.pk)
    return order


def order_total_refresh(*, order: Order) -> Decimal:
    """Set the total to the sum of the items, when the order has items."""
    items = list(order.items.all())
    if items:
        order.total_amount = sum((item.line_total for item in items), Decimal("0.00"))
        Order.objects.filter(pk=order.pk).update(total_amount=order.total_amount)
    return order.total_amount


def order_confirm(*, order_id: int) -> Order:
    """Confirm a pending order; its receipts are written by the post_save receiver.

    Confirming twice (a double click, two staff at once) confirms once.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status == Order.Status.PENDING:
            order.status = Order.Status.CONFIRMED
            order.save(update_fields=["status", "confirmed_at"])
    return order


def order_cancel(*, order_id: int) -> Order:
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status in (Order.Status.PENDING, Order.Status.CONFIRMED):
            order.status = Order.Status.CANCELLED
            order.save(update_fields=["status"])
    return order
