from django.core.management.base import BaseCommand, CommandError

from printing.models import PrinterConfig
from printing.services import printer_token_issue


class Command(BaseCommand):
    help = (
        "Issue a new secret token for a printer and print it once. The printer's old token "
        "stops working at once and sockets that used it are closed."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="the printer's name, e.g. 厨房打印机")

    def handle(self, *args, name: str, **options):
        printer = PrinterConfig.objects.filter(name=name).first()
        if printer is None:
            known = ", ".join(PrinterConfig.objects.values_list("name", flat=True)) or "none"
            raise CommandError(f"no printer named {name!r} (printers: {known})")
        token = printer_token_issue(printer=printer)
        self.stdout.write(token)
        self.stderr.write(
            f"New token for {printer.name}. It is shown only this once; connect with "
            f"ws://SERVER:8765/?token=... or the header 'Authorization: Bearer ...'."
        )
