"""Cup labels printed by the server itself on network label printers (TSPL), against a fake
label printer that parses what it receives."""

import pytest
from channels.db import database_sync_to_async

from orders.models import Category
from orders.services import order_create
from printing.models import PrinterConfig, PrintJob
from tests.fake_label_printer import FakeLabelPrinter, parse_tspl_job
from tests.helpers import eventually

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def label_printers():
    printers = [FakeLabelPrinter(), FakeLabelPrinter()]
    yield printers
    for printer in printers:
        printer.close()


@database_sync_to_async
def label_printer(fake: FakeLabelPrinter, name: str, **fields) -> PrinterConfig:
    printer = PrinterConfig.objects.create(
        name=name,
        role=PrinterConfig.Role.LABEL,
        connection_type=PrinterConfig.ConnectionType.NETWORK,
        ip_address="127.0.0.1",
        port=fake.port,
        **fields,
    )
    drinks = Category.objects.get_or_create(name="奶茶")[0]
    printer.categories.set([drinks])
    return printer


@database_sync_to_async
def three_cups_and_a_snack():
    drinks = Category.objects.get_or_create(name="奶茶")[0]
    snacks = Category.objects.get_or_create(name="小食")[0]
    return order_create(
        items=[
            {"name": "珍珠奶茶", "category": drinks, "quantity": 2, "toppings": "珍珠"},
            {"name": 'Say "cheese" 芝士奶盖', "category": drinks},
            {"name": "鸡米花", "category": snacks},
        ],
        confirm=True,
    )


def label_job(order) -> PrintJob:
    return PrintJob.objects.get(order=order, job_type=PrintJob.JobType.LABEL)


def printed(fake: FakeLabelPrinter) -> list:
    """The labels of every connection that printed (probes send only status queries)."""
    return [
        label
        for data in fake.prints
        if b"PRINT" in data
        for label in parse_tspl_job(data, "gb18030").labels
    ]


async def test_the_server_prints_one_label_per_cup_on_a_network_label_printer(
    print_server, label_printers
):
    fake = label_printers[0]
    await label_printer(fake, "杯贴机", qr_code=True)
    print_server()
    order = await three_cups_and_a_snack()

    await eventually(lambda: label_job(order).status == "completed")
    labels = printed(fake)
    assert len(labels) == 3
    texts = [" ".join(label.strings) for label in labels]
    for index, text in enumerate(texts, start=1):
        assert f"{index}/3" in text
        assert order.pickup_number in text
    assert "珍珠奶茶" in texts[0]
    assert "珍珠奶茶" in texts[1]
    assert 'Say "cheese"' in texts[2]  # the quote came through escaped, not cutting the text
    assert not any("鸡米花" in text for text in texts)
    assert all(label.qr == order.pickup_number for label in labels)
    # Asked the TSPL way before and after printing.
    assert fake.status_queries >= 2


async def test_a_label_printer_out_of_paper_hands_its_labels_to_the_backup(
    print_server, label_printers
):
    empty, spare = label_printers
    empty.mode = "paper_empty"
    backup = await label_printer(spare, "备用杯贴机", auto_print_orders=False)
    await label_printer(empty, "杯贴机", backup_printer=backup)
    print_server(
        PRINT_FAILOVER_AFTER="1", PRINT_NETWORK_PROBE_INTERVAL="0.5", PRINT_RETRY_BACKOFF="30"
    )
    order = await three_cups_and_a_snack()

    await eventually(lambda: label_job(order).status == "completed", within=20)
    job = await database_sync_to_async(label_job)(order)
    assert job.printer_id == backup.pk
    assert len(printed(spare)) == 3
    assert printed(empty) == []


async def test_probes_ask_a_label_printer_the_tspl_way(print_server, label_printers):
    fake = label_printers[0]
    printer = await label_printer(fake, "杯贴机")
    print_server(PRINT_NETWORK_PROBE_INTERVAL="0.5")

    def status() -> str:
        return PrinterConfig.objects.get(pk=printer.pk).network_status

    await eventually(lambda: status() == "online")
    fake.mode = "head_open"
    await eventually(lambda: status() == "cover_open")
    fake.mode = "paper_empty"
    await eventually(lambda: status() == "paper_out")
