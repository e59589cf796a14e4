"""A confirmed order becomes print jobs: once, in the confirming transaction, pushed on commit."""

import json

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from orders.models import Order
from orders.services import order_cancel, order_confirm, orders_confirm
from printing.delivery.bell import BROADCAST_GROUP, printer_group
from printing.models import PrintJob

pytestmark = pytest.mark.django_db


def listen(group: str) -> str:
    """A channel of the in-memory layer joined to `group`, to see the bells."""
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(group, channel)
    return channel


def bells(channel: str) -> list[dict]:
    layer = get_channel_layer()
    queue = layer.channels.get(channel)
    messages = []
    while queue is not None and not queue.empty():
        messages.append(queue.get_nowait()[1])
    return messages


def test_confirming_writes_one_job_per_printing_printer(make_printer, make_order):
    kitchen = make_printer("厨房打印机", paper_width=58, print_copies=2)
    cashier = make_printer("收银台打印机", paper_width=80)
    make_printer("停用打印机", is_active=False)
    make_printer("不自动打印", auto_print_orders=False)
    order = make_order()

    order_confirm(order_id=order.pk)

    jobs = {job.printer: job for job in PrintJob.objects.filter(order=order)}
    assert set(jobs) == {kitchen, cashier}
    assert jobs[kitchen].copies == 2
    assert jobs[kitchen].print_content.splitlines()[0] == "=" * 32
    assert jobs[cashier].print_content.splitlines()[0] == "=" * 48
    assert all(job.status == "pending" and job.job_type == "order" for job in jobs.values())
    assert f"订单号: #{order.pk}" in jobs[kitchen].print_content


def test_with_no_printer_one_job_goes_to_everyone(make_order):
    order = make_order()
    order_confirm(order_id=order.pk)
    job = PrintJob.objects.get(order=order)
    assert job.printer is None
    assert "珍珠奶茶" in job.print_content


def test_a_plain_save_in_a_shell_confirms_too(make_printer, make_order):
    make_printer()
    order = make_order()
    order.status = "confirmed"
    order.save()
    assert PrintJob.objects.filter(order=order).count() == 1
    order.refresh_from_db()
    assert order.confirmed_at is not None


def test_saving_a_confirmed_order_again_writes_nothing(make_printer, make_order):
    make_printer()
    order = make_order(confirm=True)
    order.note = "加冰"
    order.save()
    order.save()
    order_confirm(order_id=order.pk)
    Order.objects.get(pk=order.pk).save()
    assert PrintJob.objects.filter(order=order).count() == 1


def test_unconfirmed_and_cancelled_orders_print_nothing(make_printer, make_order):
    make_printer()
    order = make_order()
    order.note = "changed"
    order.save()
    order_cancel(order_id=order.pk)
    assert not PrintJob.objects.exists()


def test_an_order_created_confirmed_lists_its_items(make_printer, make_order):
    make_printer()
    order = make_order(confirm=True)
    assert "珍珠奶茶" in PrintJob.objects.get(order=order).print_content


def test_the_bell_rings_on_commit_with_the_job_frame(
    make_printer, make_order, django_capture_on_commit_callbacks
):
    kitchen = make_printer()
    kitchen_bells = listen(printer_group(kitchen.pk))
    broadcast_bells = listen(BROADCAST_GROUP)
    order = make_order()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        order_confirm(order_id=order.pk)

    assert len(callbacks) == 1
    [bell] = bells(kitchen_bells)
    assert bells(broadcast_bells) == []
    [job] = bell["jobs"]
    frame = json.loads(job["frame"])
    assert frame["type"] == "new_order"
    assert frame["order"]["job_id"] == job["id"] == PrintJob.objects.get().pk
    assert frame["order"]["order_id"] == order.pk
    assert frame["order"]["order_info"]["status"] == "confirmed"
    assert frame["order"]["attempt"] == 1


def test_nothing_is_written_or_rung_when_the_confirmation_rolls_back(
    make_printer, make_order, django_capture_on_commit_callbacks
):
    kitchen = make_printer()
    kitchen_bells = listen(printer_group(kitchen.pk))
    order = make_order()

    def confirm_then_crash():
        with transaction.atomic():
            order_confirm(order_id=order.pk)
            assert PrintJob.objects.count() == 1
            raise RuntimeError("the till crashed")

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError, match="till crashed"),
    ):
        confirm_then_crash()

    assert callbacks == []
    assert bells(kitchen_bells) == []
    assert not PrintJob.objects.exists()
    assert Order.objects.get(pk=order.pk).status == "pending"


def test_a_broken_channel_layer_does_not_break_the_confirmation(
    make_printer, make_order, settings, django_capture_on_commit_callbacks
):
    make_printer()
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # Nothing listens on port 1: the bell fails, the job stays for the sweep.
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
        }
    }
    order = make_order()
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = order_confirm(order_id=order.pk)
    assert confirmed.status == "confirmed"
    assert PrintJob.objects.get(order=order).status == "pending"


def test_confirming_a_batch_prints_each_pending_order_once_and_rings_once(
    make_printer, make_order, django_capture_on_commit_callbacks
):
    kitchen = make_printer("厨房打印机", paper_width=58)
    cashier = make_printer("收银台打印机")
    kitchen_bells = listen(printer_group(kitchen.pk))
    pending = [make_order(note=f"第{i}杯") for i in range(3)]
    already = make_order(confirm=True)
    cancelled = make_order()
    order_cancel(order_id=cancelled.pk)
    ids = [order.pk for order in (*pending, already, cancelled)]

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        confirmed = orders_confirm(order_ids=ids)
    again = orders_confirm(order_ids=ids)

    assert confirmed == sorted(order.pk for order in pending)
    assert again == []
    assert len(callbacks) == 1
    [bell] = bells(kitchen_bells)
    assert len(bell["jobs"]) == 3
    for order in pending:
        jobs = {job.printer: job for job in PrintJob.objects.filter(order=order)}
        assert set(jobs) == {kitchen, cashier}
        assert jobs[kitchen].print_content.splitlines()[0] == "=" * 32
        assert "珍珠奶茶" in jobs[kitchen].print_content
        assert order.note in jobs[cashier].print_content
        order.refresh_from_db()
        assert order.status == "confirmed"
        assert order.confirmed_at is not None
    assert PrintJob.objects.filter(order=already).count() == 2
    assert not PrintJob.objects.filter(order=cancelled).exists()
    assert Order.objects.get(pk=cancelled.pk).status == "cancelled"


def test_a_batch_that_rolls_back_confirms_and_prints_nothing(make_printer, make_order):
    make_printer()
    orders = [make_order() for _ in range(2)]

    def import_then_crash():
        with transaction.atomic():
            orders_confirm(order_ids=[order.pk for order in orders])
            assert PrintJob.objects.count() == 2
            raise RuntimeError("the import failed half way")

    with pytest.raises(RuntimeError, match="half way"):
        import_then_crash()

    assert not PrintJob.objects.exists()
    assert set(Order.objects.values_list("status", flat=True)) == {"pending"}
