"""printing's models, one module per part: printers, server processes and sockets, jobs,
alerts."""

from printing.models.alerts import Alert
from printing.models.jobs import PrintJob, PrintJobEvent
from printing.models.printers import TEST_CLIENT_PERMISSION, PrinterConfig, SocketTicket
from printing.models.servers import PrinterConnection, ServerInstance, ServerProcess

__all__ = [
    "TEST_CLIENT_PERMISSION",
    "Alert",
    "PrintJob",
    "PrintJobEvent",
    "PrinterConfig",
    "PrinterConnection",
    "ServerInstance",
    "ServerProcess",
    "SocketTicket",
]
