"""Previews over HTTP: the picture of the paper a job's printer makes of the bytes it is
sent, samples of a printer's settings before saving, and the ticket text as typed."""

import io

import pytest
from django.test import Client
from PIL import Image

from orders.models import Category
from orders.services import order_create
from printing.models import PrinterConfig, PrintJob
from printing.services import print_job_create_test

pytestmark = pytest.mark.django_db

Role = PrinterConfig.Role


@pytest.fixture
def staff(admin_user) -> Client:
    browser = Client()
    browser.force_login(admin_user)
    return browser


def picture(response) -> Image.Image:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "no-store"
    assert len(response.content) < 100 * 1024
    return Image.open(io.BytesIO(response.content))


@pytest.fixture
def order_jobs():
    tea = Category.objects.create(name="奶茶")
    PrinterConfig.objects.create(name="收银台", paper_width=80)
    PrinterConfig.objects.create(name="奶茶站", role=Role.STATION, paper_width=58)
    labeler = PrinterConfig.objects.create(name="杯贴机", role=Role.LABEL, label_dpi=203)
    labeler.categories.set([tea])
    order = order_create(
        items=[{"name": "珍珠奶茶", "category": tea, "quantity": 2}, {"name": "鸡米花"}],
        confirm=True,
    )
    return {job.printer.name: job for job in PrintJob.objects.filter(order=order)}


def test_each_job_is_drawn_at_its_printers_width(staff, order_jobs):
    receipt = picture(staff.get(f"/admin/print/jobs/{order_jobs['收银台'].pk}/preview.png"))
    assert receipt.width == 576
    ticket = picture(staff.get(f"/admin/print/jobs/{order_jobs['奶茶站'].pk}/preview.png"))
    assert ticket.width == 384
    labels = picture(staff.get(f"/admin/print/jobs/{order_jobs['杯贴机'].pk}/preview.png"))
    assert labels.width == 320  # 40 mm at 203 dpi
    assert labels.height >= 2 * 240  # two cups, two labels stacked


def test_a_test_page_and_a_job_for_every_socket_preview_too(staff):
    printer = PrinterConfig.objects.create(name="收银台", paper_width=58)
    test_page = print_job_create_test(printer=printer)
    assert picture(staff.get(f"/admin/print/jobs/{test_page.pk}/preview.png")).width == 384
    PrintJob.objects.all().delete()
    PrinterConfig.objects.all().delete()
    order = order_create(items=[{"name": "珍珠奶茶"}], confirm=True)
    unaddressed = PrintJob.objects.get(order=order)
    assert unaddressed.printer is None
    # No printer: the default 80 mm settings.
    assert picture(staff.get(f"/admin/print/jobs/{unaddressed.pk}/preview.png")).width == 576


def test_an_unknown_job_is_404_and_strangers_get_the_login_page(staff, order_jobs):
    assert staff.get("/admin/print/jobs/999999/preview.png").status_code == 404
    stranger = Client().get(f"/admin/print/jobs/{order_jobs['收银台'].pk}/preview.png")
    assert stranger.status_code == 302
    assert "/login/" in stranger["Location"]


def test_a_printers_settings_are_previewed_before_saving(staff):
    url = "/admin/print/printers/sample-preview.png"
    base = {"name": "新打印机", "role": "receipt", "paper_width": "58", "encoding": "gb18030",
            "chinese_mode": "on", "cut_mode": "partial", "header_style": "double",
            "escpos_profile": "default", "label_width_mm": "40", "label_height_mm": "30",
            "label_gap_mm": "2", "label_dpi": "203", "label_density": "8",
            "label_direction": "1"}  # fmt: skip
    assert picture(staff.post(url, base)).width == 384
    assert picture(staff.post(url, {**base, "paper_width": "80", "role": "station"})).width == 576
    label = picture(staff.post(url, {**base, "role": "label", "label_width_mm": "50"}))
    assert label.width == 400  # 50 mm at 203 dpi
    assert not PrinterConfig.objects.exists()
    bad = staff.post(url, {**base, "role": "label", "label_width_mm": "300"})
    assert bad.status_code == 400
    assert "label_width_mm" in bad.json()["fields"]
    assert staff.post(url, {**base, "escpos_profile": "no-such"}).status_code == 400


def test_the_ticket_text_is_previewed_as_typed(staff):
    url = "/admin/print/ticket-text/preview.png"
    typed = {"shop_name": "发财小狗二店", "address_line": "人民路 1 号",
             "footer_lines": "WiFi: dog\\n谢谢", "pickup_prefix": "B"}  # fmt: skip
    assert picture(staff.post(url, typed)).width == 576
    refused = staff.post(url, {**typed, "pickup_prefix": "B-1"})
    assert refused.status_code == 400
    assert "pickup_prefix" in refused.json()["fields"]
    assert Client().post(url, typed).status_code == 403


def test_a_job_without_a_printer_says_it_is_drawn_with_the_defaults():
    from printing.printer_bytes import DEFAULT_NOTE, job_preview

    order = order_create(items=[{"name": "珍珠奶茶"}], confirm=True)
    job = PrintJob.objects.get(order=order)
    assert job.printer is None
    preview = job_preview(job)
    assert preview.notes[0] == DEFAULT_NOTE
    image = Image.open(io.BytesIO(preview.png))
    plain = Image.open(io.BytesIO(job_preview(PrintJob(**{
        "job_type": job.job_type, "layout": job.layout, "print_content": job.print_content,
        "printer": PrinterConfig(name="x"),
    })).png))  # fmt: skip
    # The note is a band of its own above the same paper.
    assert image.width == plain.width == 576
    assert image.height > plain.height
