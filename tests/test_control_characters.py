"""Text that staff or customers type never reaches a printer as a command: control
characters (ESC p kicks the cash drawer, GS V cuts, ESC @ resets) are dropped before layout
and again by the ESC/POS encoder."""

import json
import unicodedata
from datetime import datetime
from decimal import Decimal

import pytest

from orders.services import order_create
from printing.delivery.network import _network_device, _print_job
from printing.escpos_encode import PrinterSettings, encode_job
from printing.models import PrintJob
from printing.paper import printable
from printing.receipt import Receipt, ReceiptItem, render_receipt, stamp_text
from tests.fake_printer import FakePrinter

# (m = "0" and "1": PostgreSQL stores no NUL, and a note need not hold one to kick the drawer.)
DRAWER_KICK = "\x1bp0\x19\xfa"
CUT = "\x1dV1"
RESET = "\x1b@"
C1_CSI = "\x9b"
INJECTED = f"{DRAWER_KICK}{CUT}{RESET}{C1_CSI}\x07\x7f"


def controls(text: str) -> set[str]:
    return {c for c in text if unicodedata.category(c) == "Cc" and c != "\n"}


def test_printable_keeps_text_and_newlines_and_drops_every_other_control():
    assert printable(f"少冰{INJECTED}\r\n第二行\t!") == "少冰p0úV1@\n第二行 !"
    assert controls(printable("".join(map(chr, range(0x00, 0xA0))))) == set()


def test_the_encoder_drops_control_characters_from_text():
    settings = PrinterSettings(cash_drawer=False)
    assert encode_job(content=f"珍珠奶茶{INJECTED}\n", settings=settings) == encode_job(
        content=f"珍珠奶茶{printable(INJECTED)}\n", settings=settings
    )
    data = encode_job(content=f"a{DRAWER_KICK}b\n", settings=settings)
    assert b"\x1bp" not in data


def test_receipts_are_laid_out_without_control_characters():
    receipt = Receipt(
        shop_name=f"发财小狗{RESET}",
        order_id=7,
        time=datetime(2025, 7, 14, 10, 30),
        total=Decimal("25"),
        note=f"少冰{DRAWER_KICK}",
        items=(
            ReceiptItem(
                name=f"珍珠奶茶{CUT}",
                quantity=1,
                unit_price=Decimal("25"),
                size=f"大杯{C1_CSI}",
                temperature="\x07",
                sugar="\x00",
            ),
        ),
    )
    text = render_receipt(receipt, paper_width=58, stamp=f"重印{RESET}")
    assert controls(text) == set()
    assert "备注: 少冰p0ú" in text
    assert controls(stamp_text(f"text{DRAWER_KICK}\n", f"备用{CUT}", paper_width=80)) == set()


@pytest.mark.django_db
def test_a_note_with_a_drawer_kick_never_reaches_the_printer(make_printer):
    printer = make_printer("厨房打印机", connection_type="network", ip_address="127.0.0.1")
    item = {"name": f"珍珠奶茶{CUT}", "unit_price": "25.00", "size": f"大杯{RESET}"}
    order = order_create(items=[item], note=f"少冰{DRAWER_KICK}", confirm=True)
    job = PrintJob.objects.select_related("printer").get(order=order)
    assert controls(job.print_content) == set()

    fake = FakePrinter()
    try:
        printer.port = fake.port
        _print_job(_network_device(printer), printer, job)
        printed = fake.wait_for("珍珠奶茶".encode("gb18030"))
    finally:
        fake.close()
    assert b"\x1bp" not in printed  # no drawer kick (the printer's cash_drawer is off)
    assert printed.count(b"\x1dV") == 1  # the one cut the printer's settings ask for
    assert printed.count(b"\x1b@") == 1  # the one reset at the start


@pytest.mark.django_db
def test_api_text_is_stored_without_control_characters(client, make_printer, settings):
    settings.PRINT_API_KEYS = ["k" * 32]
    make_printer("厨房打印机")
    response = client.post(
        "/api/jobs",
        data=json.dumps({"printer": "厨房打印机", "content": f"取餐{DRAWER_KICK}\r\n第二行"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {'k' * 32}",
    )
    assert response.status_code == 201
    job = PrintJob.objects.get(pk=response.json()["job_id"])
    assert job.print_content == "取餐p0ú\n第二行\n"
    only_controls = client.post(
        "/api/jobs",
        data=json.dumps({"printer": "厨房打印机", "content": "\x1b\x00\x07\n"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {'k' * 32}",
    )
    assert only_controls.status_code == 400
    assert PrintJob.objects.count() == 1
