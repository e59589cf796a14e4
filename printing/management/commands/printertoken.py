import os

from django.core.management.base import BaseCommand, CommandError

from printing.models import PrinterConfig
from printing.services import printer_token_issue, printer_token_set


class Command(BaseCommand):
    help = (
        "Issue a new secret token for a printer and print it once. The printer's old token "
        "stops working at once and sockets that used it are closed."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="the printer's name, e.g. 厨房打印机")
        parser.add_argument(
            "--from-env",
            metavar="VARIABLE",
            help="use the token in this environment variable (at least 32 characters) instead "
            "of a new random one, and print nothing: for provisioning, e.g. docker compose",
        )

    def handle(self, *args, name: str, from_env: str | None, **options):
        printer = PrinterConfig.objects.filter(name=name).first()
        if printer is None:
            known = ", ".join(PrinterConfig.objects.values_list("name", flat=True)) or "none"
            raise CommandError(f"no printer named {name!r} (printers: {known})")
        if from_env is not None:
            try:
                printer_token_set(printer=printer, token=os.environ.get(from_env, ""))
            except ValueError as exc:
                raise CommandError(f"{from_env}: {exc}") from None
            self.stderr.write(f"{printer.name} now accepts the token in {from_env}.")
            return
        token = printer_token_issue(printer=printer)
        self.stdout.write(token)
        self.stderr.write(
            f"New token for {printer.name}. It is shown only this once. Give it to the agent "
            "as the environment variable PRINT_AGENT_TOKEN (not --token: a command line is "
            "visible to every user of the machine), or send it as the header "
            "'Authorization: Bearer ...'."
        )
