"""Void tickets when a confirmed order is cancelled, and reprints marked as such."""

import json
import threading

import pytest
from django.db import close_old_connections, connection

from orders.models import Category, Order
from orders.services import order_cancel, order_create
from printing.delivery.frames import job_frame
from printing.models import PrinterConfig, PrintJob
from printing.services import print_jobs_reprint

Role = PrinterConfig.Role
Status = PrintJob.Status
JobType = PrintJob.JobType


@pytest.fixture
def shop(db):
    tea, snack = Category.objects.create(name="奶茶"), Category.objects.create(name="小食")
    counter = PrinterConfig.objects.create(name="收银台")
    tea_station = PrinterConfig.objects.create(name="奶茶站", role=Role.STATION)
    tea_station.categories.set([tea])
    snack_station = PrinterConfig.objects.create(name="小食站", role=Role.STATION)
    snack_station.categories.set([snack])
    return {"tea": tea, "snack": snack, "counter": counter, "tea_station": tea_station}


def confirmed(shop) -> Order:
    return order_create(
        items=[
            {"name": "珍珠奶茶", "category": shop["tea"], "quantity": 2},
            {"name": "鸡米花", "category": shop["snack"]},
        ],
        confirm=True,
    )


def ticket(order: Order, printer: str) -> PrintJob:
    return PrintJob.objects.get(
        order=order, printer__name=printer, job_type__in=["order", "kitchen"]
    )


def set_status(job: PrintJob, status: str) -> None:
    PrintJob.objects.filter(pk=job.pk).update(status=status)


def voids(order: Order) -> dict[str, PrintJob]:
    return {
        job.printer.name: job for job in PrintJob.objects.filter(order=order, job_type=JobType.VOID)
    }


def test_only_printers_that_printed_or_may_have_get_a_void_and_waiting_tickets_are_cancelled(shop):
    order = confirmed(shop)
    set_status(ticket(order, "收银台"), Status.COMPLETED)
    set_status(ticket(order, "奶茶站"), Status.SENT)
    # 小食站's ticket never left the server.
    order_cancel(order_id=order.pk, actor="staff:amy")

    assert set(voids(order)) == {"收银台", "奶茶站"}
    assert ticket(order, "小食站").status == Status.CANCELLED
    # Sent but not reported: cancelled (the socket is told), and voided in case it printed.
    assert ticket(order, "奶茶站").status == Status.CANCELLED
    assert ticket(order, "收银台").status == Status.COMPLETED
    void = voids(order)["奶茶站"]
    assert "作废" in void.print_content
    assert "VOID" in void.print_content
    assert order.pickup_number in void.print_content
    # The items that station had, not the others.
    assert "珍珠奶茶" in void.print_content
    assert "鸡米花" not in void.print_content
    assert "鸡米花" in voids(order)["收银台"].print_content
    frame = json.loads(job_frame(void, attempt=1))["order"]
    assert frame["type"] == "void_ticket"
    assert frame["order_info"]["status"] == "cancelled"


def test_a_ticket_that_was_printing_gets_a_void(shop):
    order = confirmed(shop)
    set_status(ticket(order, "奶茶站"), Status.PRINTING)
    order_cancel(order_id=order.pk)
    assert set(voids(order)) == {"奶茶站"}
    assert ticket(order, "奶茶站").status == Status.PRINTING


def test_no_void_when_every_ticket_failed_or_none_had_left(shop):
    order = confirmed(shop)
    PrintJob.objects.filter(order=order).update(status=Status.FAILED)
    order_cancel(order_id=order.pk)
    assert voids(order) == {}

    untouched = confirmed(shop)
    order_cancel(order_id=untouched.pk)
    assert voids(untouched) == {}
    assert set(PrintJob.objects.filter(order=untouched).values_list("status", flat=True)) == {
        Status.CANCELLED
    }


def test_cancelling_twice_prints_one_void(shop):
    order = confirmed(shop)
    set_status(ticket(order, "收银台"), Status.COMPLETED)
    order_cancel(order_id=order.pk)
    order_cancel(order_id=order.pk)
    assert PrintJob.objects.filter(order=order, job_type=JobType.VOID).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_staff_cancelling_at_the_same_moment_print_one_void_per_printer():
    tea = Category.objects.create(name="奶茶")
    PrinterConfig.objects.create(name="收银台")
    PrinterConfig.objects.create(name="奶茶站", role=Role.STATION).categories.set([tea])
    order = order_create(items=[{"name": "珍珠奶茶", "category": tea}], confirm=True)
    PrintJob.objects.filter(order=order).update(status=Status.COMPLETED)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def cancel(actor: str) -> None:
        try:
            barrier.wait(timeout=30)
            order_cancel(order_id=order.pk, actor=actor)
        except BaseException as exc:
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    staff = [threading.Thread(target=cancel, args=(f"staff:{n}",)) for n in ("amy", "bob")]
    for member in staff:
        member.start()
    for member in staff:
        member.join(timeout=60)
    assert not errors, errors
    assert sorted(
        PrintJob.objects.filter(order=order, job_type=JobType.VOID).values_list(
            "printer__name", flat=True
        )
    ) == ["奶茶站", "收银台"]


def test_a_reprint_is_marked_goes_to_the_receipt_printers_and_keeps_the_original(shop):
    order = confirmed(shop)
    original = ticket(order, "收银台")
    jobs = print_jobs_reprint(order=order, actor="staff:amy")
    assert [job.printer.name for job in jobs] == ["收银台"]
    reprint = jobs[0]
    assert reprint.is_reprint
    assert reprint.job_type == JobType.REPRINT
    assert "重印 / REPRINT" in reprint.print_content
    assert PrintJob.objects.filter(pk=original.pk).exists()
    frame = json.loads(job_frame(reprint, attempt=1))["order"]
    assert frame["reprint"] is True
    assert frame["type"] == "reprint"


def test_a_reprint_for_a_chosen_station_is_its_make_ticket_marked(shop):
    order = confirmed(shop)
    jobs = print_jobs_reprint(order=order, actor="staff:amy", printer_ids=[shop["tea_station"].pk])
    assert len(jobs) == 1
    job = jobs[0]
    assert (job.printer.name, job.job_type, job.is_reprint) == ("奶茶站", JobType.KITCHEN, True)
    assert "重印 / REPRINT" in job.print_content
    assert "珍珠奶茶 x2" in job.print_content
    assert "鸡米花" not in job.print_content
    frame = json.loads(job_frame(job, attempt=1))["order"]
    assert frame["type"] == "kitchen_ticket"
    assert frame["reprint"] is True
