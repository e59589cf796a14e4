"""The print plan of a confirmed order: a customer receipt for receipt printers, a make ticket
with only its items for each station, nothing for label printers (yet), and the seed's one job
for every socket when no printer is configured."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from orders.models import Category, Order, ShopProfile
from orders.services import order_cancel, order_confirm, order_create
from printing.delivery.frames import job_frame
from printing.delivery.housekeeping import jobs_failover
from printing.models import PrinterConfig, PrintJob

pytestmark = pytest.mark.django_db

Role = PrinterConfig.Role


@pytest.fixture
def menu():
    return {
        name: Category.objects.create(name=name, sort_order=index)
        for index, name in enumerate(["奶茶", "果茶", "小食"])
    }


def six_items(menu) -> list[dict]:
    """The benchmark's order: two of each category."""
    return [
        {"name": "珍珠奶茶", "category": menu["奶茶"], "toppings": "珍珠, 椰果", "quantity": 2},
        {"name": "乌龙奶茶", "category": menu["奶茶"], "sugar": "半糖"},
        {"name": "杨枝甘露", "category": menu["果茶"], "size": "大杯"},
        {"name": "多肉葡萄", "category": menu["果茶"], "temperature": "少冰"},
        {"name": "鸡米花", "category": menu["小食"], "unit_price": "12.00"},
        {"name": "薯条", "category": menu["小食"], "unit_price": "9.00"},
    ]


def station(name: str, *categories: Category, **fields) -> PrinterConfig:
    printer = PrinterConfig.objects.create(name=name, role=Role.STATION, **fields)
    printer.categories.set(categories)
    return printer


def jobs_of(order: Order) -> dict[str, PrintJob]:
    return {job.printer.name: job for job in PrintJob.objects.filter(order=order)}


def test_receipt_printer_gets_the_whole_receipt_and_stations_only_their_items(menu):
    PrinterConfig.objects.create(name="收银台", role=Role.RECEIPT)
    station("奶茶站", menu["奶茶"], paper_width=58)
    station("果茶站", menu["果茶"])
    order = order_create(items=six_items(menu), confirm=True)

    jobs = jobs_of(order)
    assert set(jobs) == {"收银台", "奶茶站", "果茶站"}
    receipt = jobs["收银台"]
    assert receipt.job_type == PrintJob.JobType.ORDER
    for name in ("珍珠奶茶", "杨枝甘露", "鸡米花", "总计"):
        assert name in receipt.print_content
    tea = jobs["奶茶站"]
    assert tea.job_type == PrintJob.JobType.KITCHEN
    assert "珍珠奶茶 x2" in tea.print_content
    assert "乌龙奶茶 x1" in tea.print_content
    assert "+珍珠 +椰果" in tea.print_content
    assert "杨枝甘露" not in tea.print_content
    assert "鸡米花" not in tea.print_content
    # No prices on a make ticket.
    assert "¥" not in tea.print_content
    assert "总计" not in tea.print_content
    fruit = jobs["果茶站"]
    assert "杨枝甘露" in fruit.print_content
    assert "珍珠奶茶" not in fruit.print_content
    # The pickup number is on every ticket.
    assert all(order.pickup_number in job.print_content for job in jobs.values())


def test_overlapping_stations_both_get_a_shared_category_and_a_station_without_any_gets_none(
    menu,
):
    station("奶茶站", menu["奶茶"], menu["小食"])
    station("全能站")  # no categories: every item
    station("果茶站", menu["果茶"])
    order = order_create(
        items=[{"name": "鸡米花", "category": menu["小食"]}, {"name": "奶盖", "category": None}],
        confirm=True,
    )
    jobs = jobs_of(order)
    assert set(jobs) == {"奶茶站", "全能站"}  # 果茶站 has nothing of this order
    assert "鸡米花" in jobs["奶茶站"].print_content
    # An uncategorised item goes only to stations without a category filter.
    assert "奶盖" not in jobs["奶茶站"].print_content
    assert "奶盖" in jobs["全能站"].print_content
    assert "鸡米花" in jobs["全能站"].print_content


def test_an_item_no_station_takes_still_reaches_the_receipt_printer(menu):
    PrinterConfig.objects.create(name="收银台")
    station("奶茶站", menu["奶茶"])
    order = order_create(items=[{"name": "鸡米花", "category": menu["小食"]}], confirm=True)
    assert set(jobs_of(order)) == {"收银台"}
    assert "鸡米花" in jobs_of(order)["收银台"].print_content


def test_copies_follow_each_printer_and_label_printers_get_cup_labels(menu):
    PrinterConfig.objects.create(name="收银台", print_copies=2)
    station("奶茶站", menu["奶茶"], print_copies=3)
    PrinterConfig.objects.create(name="杯贴机", role=Role.LABEL)
    order = order_create(items=six_items(menu), confirm=True)
    jobs = jobs_of(order)
    assert set(jobs) == {"收银台", "奶茶站", "杯贴机"}
    assert (jobs["收银台"].copies, jobs["奶茶站"].copies) == (2, 3)
    # One label per cup: six items, one of them two cups.
    assert jobs["杯贴机"].job_type == PrintJob.JobType.LABEL
    assert len(jobs["杯贴机"].layout) == 7


def test_with_no_ticket_printer_one_receipt_goes_to_every_socket(menu):
    PrinterConfig.objects.create(name="不自动打印", auto_print_orders=False)
    PrinterConfig.objects.create(name="杯贴机", role=Role.LABEL)
    order = order_create(items=six_items(menu), confirm=True)
    receipt = PrintJob.objects.get(order=order, job_type=PrintJob.JobType.ORDER)
    assert receipt.printer is None
    # The label printer still gets its cup labels.
    assert (
        PrintJob.objects.get(order=order, job_type=PrintJob.JobType.LABEL).printer.name == "杯贴机"
    )


def test_existing_printers_default_to_receipts_and_the_seed_receipt_is_unchanged(menu):
    printer = PrinterConfig.objects.create(name="收银台打印机")
    assert printer.role == Role.RECEIPT
    assert not printer.categories.exists()
    order = order_create(
        items=[{"name": "珍珠奶茶", "quantity": 1, "unit_price": "25.00"}], confirm=True
    )
    content = PrintJob.objects.get(order=order).print_content
    for line in ("订单号: #", "状态: 已确认", "总计:", "谢谢惠顾"):
        assert line in content


def test_a_category_deleted_in_use_leaves_its_items_uncategorised(menu):
    station("茶饮站", menu["奶茶"], menu["果茶"])
    station("全能站")
    order = order_create(items=[{"name": "珍珠奶茶", "category": menu["奶茶"]}])
    menu["奶茶"].delete()
    order_confirm(order_id=order.pk)
    assert order.items.get().category is None
    assert set(jobs_of(order)) == {"全能站"}


def test_the_frame_says_which_ticket_and_carries_the_pickup_number_and_order_type(menu):
    PrinterConfig.objects.create(name="收银台")
    station("奶茶站", menu["奶茶"])
    order = order_create(
        items=six_items(menu),
        order_type=Order.OrderType.DELIVERY,
        delivery_platform="美团",
        platform_order_no="12",
        confirm=True,
    )
    frames = {
        name: json.loads(job_frame(job, attempt=1))["order"] for name, job in jobs_of(order).items()
    }
    assert frames["收银台"]["type"] == "order_receipt"
    assert frames["奶茶站"]["type"] == "kitchen_ticket"
    for frame in frames.values():
        info = frame["order_info"]
        assert info["pickup_number"] == order.pickup_number == "001"
        assert info["order_type"] == "delivery"
        assert (info["delivery_platform"], info["platform_order_no"]) == ("美团", "12")
        assert "美团 #12" in frame["content"]
        # The styled ticket for printers that print sizes; its text is the content.
        assert frame["layout"]["columns"] in (32, 48)
        assert frame["reprint"] is False


def test_saving_a_confirmed_order_again_prints_nothing_more(menu):
    PrinterConfig.objects.create(name="收银台")
    order = order_create(items=six_items(menu), confirm=True)
    order.refresh_from_db()
    number = order.pickup_number
    order.note = "改了备注"
    order.save()
    assert PrintJob.objects.filter(order=order).count() == 1
    order.refresh_from_db()
    assert order.pickup_number == number


def test_an_order_confirmed_by_a_plain_save_gets_a_number_and_its_tickets(menu):
    PrinterConfig.objects.create(name="收银台")
    order = order_create(items=six_items(menu))
    order.status = Order.Status.CONFIRMED
    order.save()
    order.refresh_from_db()
    assert order.pickup_number == "001"
    assert PrintJob.objects.get(order=order).job_type == PrintJob.JobType.ORDER


def test_cancelling_a_pending_order_prints_nothing(menu):
    PrinterConfig.objects.create(name="收银台")
    order = order_create(items=six_items(menu))
    order_cancel(order_id=order.pk)
    assert not PrintJob.objects.filter(order=order).exists()


def test_ticket_text_edited_in_the_admin_is_on_the_next_ticket(menu):
    PrinterConfig.objects.create(name="收银台")
    ShopProfile.objects.create(
        pk=1,
        shop_name="发财小狗二店",
        address_line="人民路 1 号 电话 0571-1234567",
        footer_lines="WiFi: dog-guest 密码 88888888\n谢谢惠顾",
        pickup_prefix="A",
    )
    order = order_create(items=six_items(menu), confirm=True)
    content = PrintJob.objects.get(order=order).print_content
    for text in ("发财小狗二店", "人民路 1 号 电话 0571-1234567", "WiFi: dog-guest 密码 88888888"):
        assert text in content
    assert "A001" in content


def test_a_make_ticket_failing_over_keeps_its_stations_items_on_the_backups_paper(menu, settings):
    backup = station("备用站", paper_width=80)
    tea = station("奶茶站", menu["奶茶"], paper_width=58, backup_printer=backup)
    PrinterConfig.objects.filter(pk=backup.pk).update(auto_print_orders=False)
    order = order_create(items=six_items(menu), confirm=True)
    PrintJob.objects.filter(order=order).update(queued_at=timezone.now() - timedelta(minutes=5))
    settings.PRINT_FAILOVER_AFTER = 20
    assert jobs_failover() == 1
    job = PrintJob.objects.get(order=order)
    assert (job.printer_id, job.failover_from_id, job.job_type) == (backup.pk, tea.pk, "kitchen")
    assert "备用打印 (原: 奶茶站)" in job.print_content
    assert "珍珠奶茶 x2" in job.print_content
    assert "杨枝甘露" not in job.print_content
    assert job.layout["columns"] == 48
