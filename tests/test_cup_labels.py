"""Cup labels in the print plan: one label job per label printer, one label per cup of the
drinks its categories take, numbered across the order; reprints of the set or of one cup."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from orders.models import Category, Order
from orders.services import order_cancel, order_create
from printing.delivery.frames import job_frame
from printing.models import PrinterConfig, PrintJob
from printing.services import print_jobs_reprint

pytestmark = pytest.mark.django_db

Role = PrinterConfig.Role
JobType = PrintJob.JobType


@pytest.fixture
def shop():
    tea, fruit, snack = (Category.objects.create(name=name) for name in ("奶茶", "果茶", "小食"))
    PrinterConfig.objects.create(name="收银台", role=Role.RECEIPT)
    bar = PrinterConfig.objects.create(name="吧台", role=Role.STATION)
    bar.categories.set([tea, fruit])
    labeler = PrinterConfig.objects.create(
        name="杯贴机", role=Role.LABEL, label_width_mm=40, label_height_mm=30
    )
    labeler.categories.set([tea, fruit])
    return {"tea": tea, "fruit": fruit, "snack": snack, "labeler": labeler, "bar": bar}


def three_drinks_and_a_snack(shop, **fields) -> Order:
    return order_create(
        items=[
            {"name": "珍珠奶茶", "category": shop["tea"], "quantity": 2, "sugar": "半糖",
             "toppings": "珍珠, 椰果"},
            {"name": "杨枝甘露", "category": shop["fruit"], "size": "大杯"},
            {"name": "鸡米花", "category": shop["snack"]},
        ],
        confirm=True,
        **fields,
    )  # fmt: skip


def test_one_receipt_one_make_ticket_and_one_label_job_of_three_labels(shop):
    order = three_drinks_and_a_snack(shop, order_type=Order.OrderType.TAKEAWAY)
    jobs = list(PrintJob.objects.filter(order=order).order_by("job_type"))
    assert sorted(job.job_type for job in jobs) == ["kitchen", "label", "order"]
    label = next(job for job in jobs if job.job_type == JobType.LABEL)
    assert label.printer == shop["labeler"]
    frame = json.loads(job_frame(label, attempt=1))["order"]
    assert frame["type"] == "cup_label"
    cups = frame["labels"]
    assert [(cup["index"], cup["total"]) for cup in cups] == [(1, 3), (2, 3), (3, 3)]
    assert [cup["name"] for cup in cups] == ["珍珠奶茶", "珍珠奶茶", "杨枝甘露"]
    assert all(cup["pickup_number"] == order.pickup_number for cup in cups)
    assert frame["printer_config"]["label"]["width_mm"] == 40
    # Seed clients print the labels as text, one block per cup.
    content = frame["content"]
    assert "1/3" in content
    assert "3/3" in content
    assert "+珍珠 +椰果" in content
    assert "鸡米花" not in content


def test_no_drink_for_the_label_printer_makes_no_label_job(shop):
    order = order_create(items=[{"name": "鸡米花", "category": shop["snack"]}], confirm=True)
    assert not PrintJob.objects.filter(order=order, job_type=JobType.LABEL).exists()


def test_a_cup_count_of_zero_never_reaches_a_label(shop):
    order = order_create(
        items=[
            {"name": "珍珠奶茶", "category": shop["tea"], "quantity": 0},
            {"name": "杨枝甘露", "category": shop["fruit"], "quantity": 1},
        ],
        confirm=True,
    )
    job = PrintJob.objects.get(order=order, job_type=JobType.LABEL)
    assert [(cup["name"], cup["total"]) for cup in job.layout] == [("杨枝甘露", 1)]


def test_reprinting_one_cups_label_prints_only_it_marked_as_a_reprint(shop):
    order = three_drinks_and_a_snack(shop)
    jobs = print_jobs_reprint(
        order=order, actor="staff:amy", printer_ids=[shop["labeler"].pk], label=2
    )
    assert len(jobs) == 1
    job = jobs[0]
    assert (job.job_type, job.is_reprint) == (JobType.LABEL, True)
    assert [(cup["index"], cup["total"], cup["reprint"]) for cup in job.layout] == [(2, 3, True)]
    assert "重印" in job.print_content
    # The whole set again when no cup is named.
    again = print_jobs_reprint(order=order, actor="staff:amy", printer_ids=[shop["labeler"].pk])
    assert len(again[0].layout) == 3


def test_the_board_reprints_one_label_and_refuses_a_bad_cup_number(shop, admin_user):
    order = three_drinks_and_a_snack(shop)
    browser = Client()
    browser.force_login(admin_user)
    url = f"/backoffice/orders/{order.pk}/reprint"
    before = PrintJob.objects.count()
    for bad in ("0", "-1", "abc", "1e3", "1000"):
        response = browser.post(url, {"printer_ids": shop["labeler"].pk, "label": bad})
        assert response.status_code == 400, bad
        assert response.json()["error"] == "invalid_field"
    assert PrintJob.objects.count() == before
    response = browser.post(url, {"printer_ids": shop["labeler"].pk, "label": "3"})
    assert response.status_code == 201
    [job_id] = response.json()["jobs"]
    assert [cup["index"] for cup in PrintJob.objects.get(pk=job_id).layout] == [3]


def test_cancelling_cancels_waiting_labels_and_voids_no_label(shop):
    order = three_drinks_and_a_snack(shop)
    PrintJob.objects.filter(order=order, job_type=JobType.ORDER).update(status="completed")
    order_cancel(order_id=order.pk)
    label = PrintJob.objects.get(order=order, job_type=JobType.LABEL)
    assert label.status == "cancelled"
    voids = PrintJob.objects.filter(order=order, job_type=JobType.VOID)
    assert [job.printer.name for job in voids] == ["收银台"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("label_width_mm", 19, "标签宽度须为 20 至 110 毫米"),
        ("label_width_mm", 111, "标签宽度须为 20 至 110 毫米"),
        ("label_height_mm", 14, "标签高度须为 15 至 200 毫米"),
        ("label_height_mm", 201, "标签高度须为 15 至 200 毫米"),
        ("encoding", "cp437", "GB18030、GBK 或 Big5"),
    ],
)
def test_label_sizes_and_encodings_outside_the_range_are_refused(field, value, message):
    printer = PrinterConfig(name="杯贴机", role=Role.LABEL, **{field: value})
    with pytest.raises(ValidationError) as refused:
        printer.full_clean()
    assert message in " ".join(refused.value.message_dict[field])


def test_a_cup_number_past_the_last_cup_is_refused_and_writes_nothing(shop, admin_user):
    order = three_drinks_and_a_snack(shop)
    browser = Client()
    browser.force_login(admin_user)
    before = PrintJob.objects.count()
    response = browser.post(
        f"/backoffice/orders/{order.pk}/reprint",
        {"printer_ids": shop["labeler"].pk, "label": "4"},
    )
    assert response.status_code == 400
    assert "no label 4 of 3" in response.json()["message"]
    assert PrintJob.objects.count() == before


def test_the_admin_reprints_one_cups_label_from_an_intermediate_page(shop, admin_user):
    order = three_drinks_and_a_snack(shop)
    browser = Client()
    browser.force_login(admin_user)
    url = "/admin/orders/order/"
    chosen = {"action": "reprint_labels", "_selected_action": [order.pk]}
    page = browser.post(url, chosen)
    assert page.status_code == 200
    assert "杯贴机" in page.content.decode()
    done = browser.post(
        url, {**chosen, "apply": "1", "printer": shop["labeler"].pk, "label": "2"}, follow=True
    )
    assert done.status_code == 200
    job = PrintJob.objects.filter(order=order, is_reprint=True).get()
    assert [(cup["index"], cup["total"]) for cup in job.layout] == [(2, 3)]
    # A cup the order does not have: an error message, nothing written.
    browser.post(url, {**chosen, "apply": "1", "printer": shop["labeler"].pk, "label": "7"})
    assert PrintJob.objects.filter(order=order, is_reprint=True).count() == 1
