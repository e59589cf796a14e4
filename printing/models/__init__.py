"""printing's models, one module per part: printers, server processes and sockets, jobs."""

from printing.models.jobs import PrintJob, PrintJobEvent
from printing.models.printers import TEST_CLIENT_PERMISSION, PrinterConfig, SocketTicket
from printing.models.servers import PrinterConnection, ServerInstance, ServerProcess

__all__ = [
    "TEST_CLIENT_PERMISSION",
    "PrintJob",
    "PrintJobEvent",
    "PrinterConfig",
    "PrinterConnection",
    "ServerInstance",
    "ServerProcess",
    "SocketTicket",
]
