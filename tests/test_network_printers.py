"""Network printers printed by the server itself, against a fake ESC/POS printer."""

import json
import urllib.request

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.urls import reverse

from printing import protocol
from printing.models import PrinterConfig, PrintJob, PrintJobEvent
from tests.fake_printer import FakePrinter
from tests.helpers import confirmed_order, create_printer, eventually, job_status, next_message
from tests.test_printers import welcomed

pytestmark = pytest.mark.django_db(transaction=True)

MILK_TEA = "珍珠奶茶".encode("gb18030")
KEY = "network-test-key-0123456789"


@pytest.fixture
def fake_printer():
    printer = FakePrinter()
    yield printer
    printer.close()


async def network_printer(fake: FakePrinter, name: str = "厨房打印机", **fields) -> PrinterConfig:
    return await create_printer(
        name, connection_type="network", ip_address="127.0.0.1", port=fake.port, **fields
    )


def events(order) -> list[tuple[str, str, str]]:
    return list(
        PrintJobEvent.objects.filter(job__order=order).values_list("event", "to_status", "actor")
    )


def printer_status(server, name: str) -> dict:
    request = urllib.request.Request(
        f"{server.http_url}/api/printers/status", headers={"Authorization": f"Bearer {KEY}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return next(p for p in json.loads(response.read())["printers"] if p["name"] == name)


async def test_the_server_prints_a_confirmed_order_on_a_network_printer(print_server, fake_printer):
    await network_printer(fake_printer, paper_width=58, qr_code=True)
    print_server()
    order = await confirmed_order()

    printed = await database_sync_to_async(fake_printer.wait_for)(MILK_TEA)
    assert printed.startswith(b"\x1b@\x1c&")
    assert f"1P0{order.pk}".encode() in printed  # the order number as a QR code
    await eventually(lambda: job_status(order) == "completed")
    assert await database_sync_to_async(events)(order) == [
        ("created", "pending", "server"),
        ("printing", "printing", "server"),
        ("completed", "completed", "server:network"),
    ]
    assert fake_printer.status_queries >= 2  # before and after the receipt


@pytest.mark.parametrize(
    ("mode", "reason"),
    [("paper_out", "paper out"), ("hang", "does not answer"), ("refuse", "connection refused")],
)
async def test_a_network_printer_problem_fails_the_job_with_the_reason_and_retries(
    print_server, fake_printer, mode, reason
):
    await network_printer(fake_printer)
    print_server(PRINT_RETRY_BACKOFF="1", PRINT_NETWORK_TIMEOUT="1")
    if mode == "refuse":
        fake_printer.refuse()
    else:
        fake_printer.mode = mode
    order = await confirmed_order()
    failure = await eventually(
        lambda: PrintJobEvent.objects.filter(job__order=order, event="failed").first(), within=15
    )
    assert reason in failure.message
    assert MILK_TEA not in fake_printer.received()

    if mode == "refuse":
        fake_printer.switch_on()
    else:
        fake_printer.mode = "ok"
    await eventually(lambda: job_status(order) == "completed", within=20)
    assert fake_printer.received().count(MILK_TEA) == 1


async def test_probes_show_the_printers_state(print_server, fake_printer):
    await network_printer(fake_printer)
    server = print_server(PRINT_API_KEYS=KEY, PRINT_NETWORK_PROBE_INTERVAL="0.5")
    status = await eventually(lambda: printer_status(server, "厨房打印机")["network_status"])
    assert status == "online"
    assert printer_status(server, "厨房打印机")["online"]
    fake_printer.mode = "paper_out"
    await eventually(lambda: printer_status(server, "厨房打印机")["network_status"] == "paper_out")
    assert not printer_status(server, "厨房打印机")["online"]
    fake_printer.refuse()
    await eventually(lambda: printer_status(server, "厨房打印机")["network_status"] == "offline")


async def test_a_network_printer_out_of_paper_hands_its_jobs_to_the_backup(
    print_server, fake_printer
):
    cashier = await create_printer("收银台打印机", auto_print_orders=False)
    await network_printer(fake_printer, backup_printer=cashier)
    fake_printer.mode = "paper_out"
    server = print_server(
        PRINT_FAILOVER_AFTER="1", PRINT_NETWORK_PROBE_INTERVAL="0.5", PRINT_RETRY_BACKOFF="30"
    )
    backup = await welcomed(server.ws_url)
    await backup.send(json.dumps(protocol.printer_info(name="收银台打印机")))
    order = await confirmed_order()

    message = await next_message(backup, "new_order", within=15)
    assert "备用打印 (原: 厨房打印机)" in message["order"]["content"]
    job = await database_sync_to_async(PrintJob.objects.get)(order=order)
    assert job.printer_id == cashier.pk
    assert MILK_TEA not in fake_printer.received()
    await backup.close()


async def test_the_admin_test_print_reaches_a_network_printer(
    print_server, fake_printer, admin_user
):
    printer = await network_printer(fake_printer)
    print_server()

    def click_test_print():
        browser = Client()
        browser.force_login(admin_user)
        return browser.post(
            reverse("admin:printing_printerconfig_changelist"),
            {"action": "test_print", "_selected_action": [printer.pk]},
        )

    response = await database_sync_to_async(click_test_print)()
    assert response.status_code == 302
    printed = await database_sync_to_async(fake_printer.wait_for)("打印测试".encode("gb18030"))
    assert "打印机: 厨房打印机".encode("gb18030") in printed
    job = await database_sync_to_async(PrintJob.objects.get)(job_type="test")
    await eventually(lambda: PrintJob.objects.get(pk=job.pk).status == "completed")
