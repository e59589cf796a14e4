"""Rows stored before `printer_info` was whitelisted (issue 13) keep only the same few scalar
fields, so the admin pages that show them render again."""

from django.db import migrations

# A frozen copy of printing.protocol.PRINTER_INFO_FIELDS and its caps, as of this migration.
FIELDS = (
    "name",
    "model",
    "status",
    "paper_width",
    "printer_type",
    "device",
    "agent_version",
    "firmware",
    "serial_number",
    "vendor",
)
MAX_TEXT = 100
MAX_NUMBER = 2**53


def kept(info) -> dict:
    if not isinstance(info, dict):
        return {}
    fields = {}
    for key in FIELDS:
        value = info.get(key)
        if isinstance(value, str):
            fields[key] = value[:MAX_TEXT]
        elif isinstance(value, bool):
            fields[key] = value
        elif isinstance(value, int | float) and abs(value) <= MAX_NUMBER:
            fields[key] = value
    return fields


def whitelist_printer_info(apps, schema_editor) -> None:
    connection = apps.get_model("printing", "PrinterConnection")
    for pk in list(connection.objects.values_list("pk", flat=True)):
        rows = connection.objects.filter(pk=pk)
        try:
            info = rows.values_list("printer_info", flat=True).first()
        except (RecursionError, ValueError, TypeError):
            # Nested too deep to read back (the reason this migration exists): nothing of
            # it is worth keeping.
            info = None
        fields = kept(info)
        if fields != info:
            rows.update(printer_info=fields)


class Migration(migrations.Migration):
    dependencies = [("printing", "0007_server_instance")]

    operations = [migrations.RunPython(whitelist_printer_info, migrations.RunPython.noop)]
