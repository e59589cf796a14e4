"""Order flows used by the admin, the back office and the demo data."""

from collections.abc import Iterable
from decimal import Decimal
from typing import TypedDict

from django.db import transaction
from django.utils import timezone

from orders.models import Order, OrderItem
from printing.services import print_jobs_enqueue_for_orders


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
    lines = [
        OrderItem(
            name=item["name"],
            quantity=item.get("quantity", 1),
            unit_price=Decimal(str(item.get("unit_price", "0"))),
            size=item.get("size", ""),
            temperature=item.get("temperature", ""),
            sugar=item.get("sugar", ""),
        )
        for item in items
    ]
    total = sum((line.line_total for line in lines), Decimal("0.00"))
    # No savepoints: nothing here catches an error and carries on, and each one is two more
    # round trips per order for an integration confirming hundreds a second.
    with transaction.atomic(savepoint=False):
        order = Order.objects.create(customer_phone=customer_phone, note=note, total_amount=total)
        for line in lines:
            line.order = order
        OrderItem.objects.bulk_create(lines)
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
    """Confirm a pending order and write its print jobs, in one transaction.

    Confirming twice (a double click, two staff at once) confirms once.
    """
    with transaction.atomic(savepoint=False):
        order = _locked(order_id)
        if order is not None and order.status == Order.Status.PENDING:
            order.status, order.confirmed_at = Order.Status.CONFIRMED, timezone.now()
            _confirmed([order.pk], order.confirmed_at)
    return _found(order, order_id)


def orders_confirm(*, order_ids: Iterable[int]) -> list[int]:
    """Confirm the pending ones of these orders in one transaction (staff confirming a
    selection, an integration importing a batch); returns the ids confirmed now."""
    with transaction.atomic(savepoint=False):
        ids = list(
            Order.objects.select_for_update()
            .filter(pk__in=list(order_ids), status=Order.Status.PENDING)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if ids:
            _confirmed(ids, timezone.now())
    return ids


def _confirmed(order_ids: list[int], at) -> None:
    # An UPDATE, not save(): the post_save adapter is for saves made elsewhere (a shell's
    # order.save()); here the jobs are written explicitly, once.
    Order.objects.filter(pk__in=order_ids).update(status=Order.Status.CONFIRMED, confirmed_at=at)
    print_jobs_enqueue_for_orders(order_ids=order_ids)


def order_cancel(*, order_id: int) -> Order:
    with transaction.atomic(savepoint=False):
        order = _locked(order_id)
        if order is not None and order.status in (Order.Status.PENDING, Order.Status.CONFIRMED):
            order.status = Order.Status.CANCELLED
            order.save(update_fields=["status"])
    return _found(order, order_id)


def _locked(order_id: int) -> Order | None:
    return Order.objects.select_for_update().filter(pk=order_id).first()


def _found(order: Order | None, order_id: int) -> Order:
    # Raised only after the block: inside a block without a savepoint, an exception would
    # poison the caller's transaction even when the caller catches it (a view's 404).
    if order is None:
        raise Order.DoesNotExist(f"no order {order_id}")
    return order
