"""printer_info rows stored raw before the whitelist (64 KB, nesting 950 deep) are cut down
to the same few fields by a data migration, and the admin pages showing them render."""

import importlib
import json

import pytest
from django.apps import apps
from django.db import connection
from django.urls import reverse

from printing.models import PrinterConfig, PrinterConnection, ServerProcess

pytestmark = pytest.mark.django_db(transaction=True)
migration = importlib.import_module("printing.migrations.0008_printer_info_whitelisted")


def stored_raw(row: PrinterConnection, text: str) -> None:
    """As the server kept a client's printer_info before it was whitelisted."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE printer_connection SET printer_info = %s WHERE id = %s", [text, row.pk]
        )


def pages_render(admin_client, row: PrinterConnection) -> bool:
    pages = [
        reverse("admin:printing_printerconfig_change", args=[row.printer_id]),
        reverse("admin:printing_printerconnection_change", args=[row.pk]),
    ]
    return all(admin_client.get(page).status_code == 200 for page in pages)


def test_old_oversized_and_deep_printer_info_rows_are_cut_down_and_their_pages_render(
    admin_client,
):
    printer = PrinterConfig.objects.create(name="厨房打印机")
    server = ServerProcess.objects.create(hostname="h", pid=1, version="1", channel_layer="x")
    deep, big, fine = (
        PrinterConnection.objects.create(server=server, printer=printer) for _ in range(3)
    )
    stored_raw(deep, '{"name": "厨房打印机", "nested": ' + "[" * 950 + "]" * 950 + "}")
    padding = {"name": "厨房打印机", "model": "TM-T88V", "padding": "珍" * 30_000, "x": {"a": [1]}}
    stored_raw(big, json.dumps(padding, ensure_ascii=False))
    stored_raw(fine, json.dumps({"name": "厨房打印机", "paper_width": 58}))
    # What staff saw: a server error on the printer's page, for good.
    admin_client.raise_request_exception = False
    assert not pages_render(admin_client, deep)

    migration.whitelist_printer_info(apps, None)

    big.refresh_from_db()
    fine.refresh_from_db()
    assert big.printer_info == {"name": "厨房打印机", "model": "TM-T88V"}
    assert fine.printer_info == {"name": "厨房打印机", "paper_width": 58}
    deep_info = PrinterConnection.objects.values_list("printer_info", flat=True).get(pk=deep.pk)
    assert set(deep_info) <= {"name"}
    assert all(pages_render(admin_client, row) for row in (deep, big, fine))
