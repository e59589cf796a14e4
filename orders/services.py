"""Order flows used by the admin, the back office and the demo data."""

from collections.abc import Collection, Iterable
from datetime import datetime
from decimal import Decimal
from typing import TypedDict

from django.db import connection, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone

from integrations.outbox import order_cancelled_record
from orders.models import Category, Order, OrderItem, PickupCounter, ShopProfile
from printing.models import PrintJob
from printing.services import print_jobs_enqueue_for_orders, print_jobs_void


class ItemSpec(TypedDict, total=False):
    name: str
    quantity: int
    unit_price: Decimal | str
    size: str
    temperature: str
    sugar: str
    toppings: str
    category: Category | None


def order_create(
    *,
    items: Iterable[ItemSpec],
    customer_phone: str = "",
    note: str = "",
    order_type: str = Order.OrderType.DINE_IN,
    delivery_platform: str = "",
    platform_order_no: str = "",
    confirm: bool = False,
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
            toppings=item.get("toppings", ""),
            category=item.get("category"),
        )
        for item in items
    ]
    total = sum((line.line_total for line in lines), Decimal("0.00"))
    # No savepoints: nothing here catches an error and carries on, and each one is two more
    # round trips per order for an integration confirming hundreds a second.
    with transaction.atomic(savepoint=False):
        order = Order.objects.create(
            customer_phone=customer_phone,
            note=note,
            total_amount=total,
            order_type=order_type,
            delivery_platform=delivery_platform,
            platform_order_no=platform_order_no,
        )
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
    at = timezone.now()
    numbers = _pickup_numbers_reserved(order_ids=[order_id], at=at)
    with transaction.atomic(savepoint=False):
        order = _locked(order_id)
        if order is not None and order.status == Order.Status.PENDING:
            _confirmed([order], at, numbers)
    return _found(order, order_id)


def orders_confirm(*, order_ids: Iterable[int]) -> list[int]:
    """Confirm the pending ones of these orders in one transaction (staff confirming a
    selection, an integration importing a batch); returns the ids confirmed now."""
    order_ids = list(order_ids)
    at = timezone.now()
    numbers = _pickup_numbers_reserved(order_ids=order_ids, at=at)
    with transaction.atomic(savepoint=False):
        # Locked in id order, so two batches cannot deadlock.
        orders = list(
            Order.objects.select_for_update()
            .filter(pk__in=order_ids, status=Order.Status.PENDING)
            .order_by("pk")
        )
        if orders:
            _confirmed(orders, at, numbers)
    return [order.pk for order in orders]


def orders_print(*, order_ids: Collection[int]) -> list[PrintJob]:
    """Number and print confirmed orders that were confirmed by a plain save (a shell's
    order.save()), in the caller's transaction. An order with a pickup number has had its
    tickets: saving it again prints nothing."""
    with transaction.atomic(savepoint=False):
        orders = list(
            Order.objects.select_for_update()
            .filter(pk__in=order_ids, status=Order.Status.CONFIRMED, pickup_day__isnull=True)
            .order_by("pk")
        )
        if not orders:
            return []
        return _numbered_and_printed(orders, at=timezone.now(), fields=[])


def _confirmed(orders: list[Order], at: datetime, numbers: range | None) -> None:
    # An UPDATE, not save(): the post_save adapter is for saves made elsewhere; here the
    # jobs are written explicitly, once, and the status and number are one statement.
    for order in orders:
        order.status, order.confirmed_at = Order.Status.CONFIRMED, at
    _numbered_and_printed(orders, at=at, fields=["status", "confirmed_at"], numbers=numbers)


def _numbered_and_printed(
    orders: list[Order], *, at: datetime, fields: list[str], numbers: range | None = None
) -> list[PrintJob]:
    """Give the orders their pickup numbers, save them with `fields` in one UPDATE, and write
    their tickets."""
    profile = ShopProfile.current()
    pickup_numbers_assign(orders=orders, at=at, prefix=profile.pickup_prefix, numbers=numbers)
    _save_fields(orders, [*fields, "pickup_day", "pickup_number"])
    return print_jobs_enqueue_for_orders(orders=orders, profile=profile)


def _save_fields(orders: list[Order], fields: list[str]) -> None:
    """One UPDATE: a value the orders share is set as it is, one that differs (the pickup
    numbers) by a CASE on the id. bulk_update's CASE of When(pk=...) for every field cost as
    much Python as the rest of the confirmation."""
    first = orders[0]
    updates: dict = {}
    for name in fields:
        value = getattr(first, name)
        if all(getattr(order, name) == value for order in orders):
            updates[name] = value
        else:
            updates[name] = _by_id(orders, Order._meta.get_field(name))
    Order.objects.filter(pk__in=[order.pk for order in orders]).update(**updates)


def _by_id(orders: list[Order], field) -> RawSQL:
    prepared = (field.get_db_prep_save(getattr(o, field.attname), connection) for o in orders)
    params: list = []
    for order, value in zip(orders, prepared, strict=True):
        params += [order.pk, value]
    whens = " ".join(["WHEN %s THEN %s"] * len(orders))
    column = connection.ops.quote_name(Order._meta.pk.column)
    return RawSQL(f"CASE {column} {whens} END", params, output_field=field)


def pickup_numbers_assign(
    *, orders: list[Order], at: datetime, prefix: str = "", numbers: range | None = None
) -> None:
    """Give each order the next pickup number of `at`'s day in the shop's time zone (first
    of the day 001), taken in the caller's transaction unless `numbers` were reserved for
    that day before it; not saved."""
    day = timezone.localdate(at)
    if numbers is None or len(numbers) < len(orders):
        last = _pickup_counter_take(day=day, count=len(orders))
        numbers = range(last - len(orders) + 1, last + 1)
    for number, order in zip(numbers, orders, strict=False):
        order.pickup_day, order.pickup_number = day, f"{prefix}{number:03d}"


def _pickup_numbers_reserved(*, order_ids: list[int], at: datetime) -> range | None:
    """Outside a transaction, the numbers of the orders still pending are taken before the
    confirming transaction begins, by a statement of their own: the day's counter row is then
    locked for that statement, not until the confirmation commits, which made every
    confirmation in the shop wait for the one before (half of PostgreSQL's throughput with two
    confirming processes). Counting first means a double click takes no number; a
    confirmation that fails, or finds the order confirmed meanwhile, leaves a gap. A number is
    never given twice. Inside a caller's transaction nothing would be gained: None."""
    if connection.in_atomic_block:
        return None
    count = Order.objects.filter(pk__in=order_ids, status=Order.Status.PENDING).count()
    if not count:
        return None
    last = _pickup_counter_take(day=timezone.localdate(at), count=count)
    return range(last - count + 1, last + 1)


def _pickup_counter_take(*, day, count: int) -> int:
    """Add `count` to the day's counter and return its new value, in one statement: the
    upsert locks the day's row until its transaction ends (the statement's own when the
    numbers are reserved outside one), so concurrent confirmations (any process) queue
    behind it instead of reading the same last number."""
    table = connection.ops.quote_name(PickupCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (day, last) VALUES (%s, %s) "
            f"ON CONFLICT (day) DO UPDATE SET last = {table}.last + excluded.last "
            "RETURNING last",
            [day.isoformat(), count],
        )
        return cursor.fetchone()[0]


def order_cancel(*, order_id: int, actor: str = "server") -> Order:
    """Cancel a pending or confirmed order. A confirmed order's tickets that have not left
    the server are cancelled; every printer that printed one (or may have) gets a void."""
    with transaction.atomic(savepoint=False):
        order = _locked(order_id)
        if order is not None and order.status in (Order.Status.PENDING, Order.Status.CONFIRMED):
            was_confirmed = order.status == Order.Status.CONFIRMED
            order.status = Order.Status.CANCELLED
            Order.objects.filter(pk=order.pk).update(status=order.status)
            if was_confirmed:
                print_jobs_void(order=order, actor=actor)
            order_cancelled_record(order=order, actor=actor)
    return _found(order, order_id)


def _locked(order_id: int) -> Order | None:
    return Order.objects.select_for_update().filter(pk=order_id).first()


def _found(order: Order | None, order_id: int) -> Order:
    # Raised only after the block: inside a block without a savepoint, an exception would
    # poison the caller's transaction even when the caller catches it (a view's 404).
    if order is None:
        raise Order.DoesNotExist(f"no order {order_id}")
    return order
