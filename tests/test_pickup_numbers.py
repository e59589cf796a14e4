"""Pickup numbers (取餐号): the day's sequence in the shop's time zone, given once at
confirmation, never reused that day, unique when several connections confirm at once."""

import threading
from datetime import UTC, datetime

import pytest
from django.db import (
    DatabaseError,
    IntegrityError,
    close_old_connections,
    connection,
    transaction,
)

from orders.models import Order, ShopProfile
from orders.services import order_confirm, order_create, orders_confirm, pickup_numbers_assign
from printing.models import PrintJob
from tests.conftest import MILK_TEA
from tests.helpers import failing_job_inserts
from tests.services import require_postgres


def numbered(at: datetime, count: int = 1) -> list[str]:
    orders = [order_create(items=[MILK_TEA]) for _ in range(count)]
    with transaction.atomic():
        pickup_numbers_assign(orders=orders, at=at)
        Order.objects.bulk_update(orders, ["pickup_day", "pickup_number"])
    return [order.pickup_number for order in orders]


@pytest.mark.django_db
def test_the_first_order_of_the_day_is_001_and_numbers_follow():
    first = order_confirm(order_id=order_create(items=[MILK_TEA]).pk)
    assert first.pickup_number == "001"
    batch = orders_confirm(order_ids=[order_create(items=[MILK_TEA]).pk for _ in range(3)])
    numbers = Order.objects.filter(pk__in=batch).order_by("pk").values_list("pickup_number")
    assert [number for (number,) in numbers] == ["002", "003", "004"]


@pytest.mark.django_db
def test_the_day_turns_at_midnight_in_the_shops_time_zone():
    # Asia/Shanghai is UTC+8: 15:59 UTC is 23:59 there, 16:01 UTC is the next day.
    assert numbered(datetime(2026, 12, 2, 15, 58, tzinfo=UTC), 2) == ["001", "002"]
    assert numbered(datetime(2026, 12, 2, 15, 59, tzinfo=UTC)) == ["003"]
    assert numbered(datetime(2026, 12, 2, 16, 1, tzinfo=UTC)) == ["001"]
    # Back on the first day (a late confirmation): its count goes on, nothing is reused.
    assert numbered(datetime(2026, 12, 2, 10, 0, tzinfo=UTC)) == ["004"]


@pytest.mark.django_db
def test_deleted_orders_do_not_give_their_numbers_back():
    order = order_confirm(order_id=order_create(items=[MILK_TEA]).pk)
    assert order.pickup_number == "001"
    order.delete()
    assert order_confirm(order_id=order_create(items=[MILK_TEA]).pk).pickup_number == "002"


@pytest.mark.django_db
def test_the_prefix_set_in_the_admin_is_used_at_once():
    ShopProfile.objects.create(pk=1, pickup_prefix="A")
    assert order_confirm(order_id=order_create(items=[MILK_TEA]).pk).pickup_number == "A001"
    ShopProfile.objects.filter(pk=1).update(pickup_prefix="B")
    assert order_confirm(order_id=order_create(items=[MILK_TEA]).pk).pickup_number == "B002"


@pytest.mark.django_db
def test_the_database_refuses_one_number_twice_a_day():
    first, second = (order_create(items=[MILK_TEA]) for _ in range(2))
    day = datetime(2026, 12, 2).date()
    Order.objects.filter(pk=first.pk).update(pickup_day=day, pickup_number="007")
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=second.pk).update(pickup_day=day, pickup_number="007")


@pytest.mark.django_db(transaction=True)
def test_connections_confirming_at_the_same_moment_never_share_a_number():
    """Each thread is its own database connection (on PostgreSQL, its own server process),
    all released by one barrier: real concurrent transactions, as two server processes."""
    threads, per_thread = 6, 5
    pending = [
        [order_create(items=[MILK_TEA]).pk for _ in range(per_thread)] for _ in range(threads)
    ]
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def confirm(order_ids: list[int]) -> None:
        try:
            barrier.wait(timeout=30)
            for order_id in order_ids:
                order_confirm(order_id=order_id)
        except BaseException as exc:  # reported by the test below, not lost in the thread
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    workers = [threading.Thread(target=confirm, args=(ids,)) for ids in pending]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert not errors, errors
    numbers = sorted(Order.objects.values_list("pickup_number", flat=True))
    assert numbers == [f"{n:03d}" for n in range(1, threads * per_thread + 1)]


def pause_after_writing_jobs(paused: threading.Event, release: threading.Event):
    """An execute wrapper that holds its transaction open once the jobs are inserted."""

    def wrapper(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if sql.startswith("INSERT") and PrintJob._meta.db_table in sql:
            paused.set()
            release.wait(timeout=30)
        return result

    return wrapper


@pytest.mark.django_db(transaction=True)
def test_confirming_a_confirmed_order_again_takes_no_number():
    order_id = order_create(items=[MILK_TEA]).pk
    assert order_confirm(order_id=order_id).pickup_number == "001"
    assert order_confirm(order_id=order_id).pickup_number == "001"
    assert orders_confirm(order_ids=[order_id]) == []
    assert order_confirm(order_id=order_create(items=[MILK_TEA]).pk).pickup_number == "002"


@pytest.mark.django_db(transaction=True)
def test_a_confirmation_that_fails_leaves_its_number_unused_never_given_twice(make_printer):
    make_printer("收银台打印机")
    order_id = order_create(items=[MILK_TEA]).pk

    with pytest.raises(DatabaseError), connection.execute_wrapper(failing_job_inserts):
        order_confirm(order_id=order_id)
    assert Order.objects.get(pk=order_id).status == Order.Status.PENDING
    assert not PrintJob.objects.exists()
    assert order_confirm(order_id=order_id).pickup_number == "002"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_confirmation_still_committing_does_not_hold_up_the_next_number(make_printer):
    """The day's counter is locked for the statement that takes the numbers, not until the
    confirming transaction commits: while one confirmation is held open after writing its
    jobs, another connection confirms, commits and prints."""
    require_postgres()
    make_printer("收银台打印机")
    slow, quick = (order_create(items=[MILK_TEA]).pk for _ in range(2))
    paused, release = threading.Event(), threading.Event()
    finished: dict[str, Order] = {}

    def confirm(name: str, order_id: int, wrapper=None) -> None:
        try:
            if wrapper is None:
                finished[name] = order_confirm(order_id=order_id)
            else:
                with connection.execute_wrapper(wrapper):
                    finished[name] = order_confirm(order_id=order_id)
        finally:
            connection.close()

    holder = threading.Thread(
        target=confirm, args=("slow", slow, pause_after_writing_jobs(paused, release))
    )
    holder.start()
    try:
        assert paused.wait(timeout=10), "the first confirmation never wrote its jobs"
        other = threading.Thread(target=confirm, args=("quick", quick))
        other.start()
        other.join(timeout=10)
        assert not other.is_alive(), "the second confirmation waited for the first to commit"
        assert finished["quick"].pickup_number == "002"
        assert PrintJob.objects.filter(order_id=quick).count() == 1
        assert not PrintJob.objects.filter(order_id=slow).exists()  # not committed yet
    finally:
        release.set()
        holder.join(timeout=30)
    assert finished["slow"].pickup_number == "001"
