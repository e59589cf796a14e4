"""What is printed for an order: its receipt data, laid out for a printer's paper.

Shared by confirmation, reprints and failover, so every path prints the same receipt.
"""

from collections.abc import Iterable

from django.conf import settings
from django.utils import timezone

from orders.models import Order, OrderItem
from printing.models import PrinterConfig, PrintJob
from printing.receipt import Receipt, ReceiptItem, render_receipt, stamp_text

# Jobs for no printer in particular go to every socket: laid out for the common 80 mm.
BROADCAST_PAPER_WIDTH = PrinterConfig.PaperWidth.MM80


def receipt_for_order(*, order: Order, items: Iterable[OrderItem] | None = None) -> Receipt:
    return Receipt(
        shop_name=settings.SHOP_NAME,
        order_id=order.pk,
        time=timezone.localtime(order.created_at),
        total=order.total_amount,
        status=order.status,
        note=order.note,
        items=tuple(
            ReceiptItem(
                name=item.name,
                quantity=item.quantity,
                unit_price=item.unit_price,
                size=item.size,
                temperature=item.temperature,
                sugar=item.sugar,
            )
            for item in (order.items.all() if items is None else items)
        ),
    )


def paper_width(printer: PrinterConfig | None) -> int:
    return printer.paper_width if printer else BROADCAST_PAPER_WIDTH


def receipt_text(receipt: Receipt, *, printer: PrinterConfig | None, stamp: str = "") -> str:
    return render_receipt(receipt, paper_width=paper_width(printer), stamp=stamp)


def content_for_printer(job: PrintJob, *, printer: PrinterConfig, stamp: str) -> str:
    """A job's content laid out again for another printer, stamped (failover)."""
    if job.order is not None:
        return receipt_text(receipt_for_order(order=job.order), printer=printer, stamp=stamp)
    return stamp_text(job.print_content, stamp, paper_width=printer.paper_width)
