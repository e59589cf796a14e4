"""What is printed for an order: which printer gets which ticket, and the ticket itself.

The print plan of a confirmed order, its void and reprint tickets, and failover's re-layout
all build their tickets here, so every path prints the same paper. The layouts themselves
are pure functions (printing.receipt, printing.paper); this module feeds them the models.
"""

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime

from django.utils import timezone

from orders.models import Order, OrderItem, ShopProfile
from printing.labels import cup_labels, labels_text, labels_to_json
from printing.models import PrinterConfig, PrintJob
from printing.paper import Document, document_text, document_to_json
from printing.receipt import (
    Receipt,
    ReceiptItem,
    kitchen_document,
    receipt_document,
    stamp_text,
    void_document,
)

# Jobs for no printer in particular go to every socket: laid out for the common 80 mm.
BROADCAST_PAPER_WIDTH = PrinterConfig.PaperWidth.MM80
Role = PrinterConfig.Role
JobType = PrintJob.JobType
# The roles that print paper tickets for an order; label printers get cup labels.
TICKET_ROLES = (Role.RECEIPT, Role.STATION)
PLAN_ROLES = (*TICKET_ROLES, Role.LABEL)
REPRINT_STAMP = "重印 / REPRINT"


def receipt_for_order(
    *, order: Order, items: Iterable[OrderItem] | None = None, profile: ShopProfile | None = None
) -> Receipt:
    profile = profile or ShopProfile.current()
    return Receipt(
        shop_name=profile.printed_shop_name,
        address_line=profile.address_line,
        footer_lines=profile.footer,
        order_id=order.pk,
        time=timezone.localtime(order.created_at),
        total=order.total_amount,
        status=order.status,
        note=order.note,
        pickup_number=order.pickup_number,
        order_type=order.order_type,
        delivery_platform=order.delivery_platform,
        platform_order_no=order.platform_order_no,
        items=tuple(
            ReceiptItem(
                name=item.name,
                quantity=item.quantity,
                unit_price=item.unit_price,
                size=item.size,
                temperature=item.temperature,
                sugar=item.sugar,
                toppings=item.toppings,
                category=item.category.name if item.category_id else "",
            )
            for item in (order.items.select_related("category") if items is None else items)
        ),
    )


def paper_width(printer: PrinterConfig | None) -> int:
    return printer.paper_width if printer else BROADCAST_PAPER_WIDTH


def category_ids(printer: PrinterConfig) -> set[int]:
    """The printer's categories; prefetched by the callers that loop over printers."""
    return {category.pk for category in printer.categories.all()}


def items_for(printer: PrinterConfig | None, items: Sequence[OrderItem]) -> list[OrderItem]:
    """The items a printer's ticket lists: all of them, or those of its categories when it
    has some (an uncategorised item goes only to printers without categories)."""
    wanted = category_ids(printer) if printer is not None else set()
    if not wanted:
        return list(items)
    return [item for item in items if item.category_id in wanted]


def ticket_document(
    *,
    kind: str,
    receipt: Receipt,
    printer: PrinterConfig | None,
    stamp: str = "",
    at: datetime | None = None,
) -> Document:
    """One ticket of `kind` (a job type) for a printer; `receipt` holds that printer's items."""
    width = paper_width(printer)
    station = printer.name if printer else ""
    if kind == JobType.KITCHEN:
        return kitchen_document(receipt, paper_width=width, station=station, stamp=stamp)
    if kind == JobType.VOID:
        return void_document(
            receipt, paper_width=width, station=station, time=timezone.localtime(at)
        )
    return receipt_document(receipt, paper_width=width, stamp=stamp)


def ticket_job(
    *,
    order: Order,
    kind: str,
    receipt: Receipt,
    printer: PrinterConfig | None,
    stamp: str = "",
    copies: int = 1,
    priority: int = 5,
    is_reprint: bool = False,
) -> PrintJob:
    """An unsaved job holding one ticket, as text for seed clients and as a document."""
    document = ticket_document(kind=kind, receipt=receipt, printer=printer, stamp=stamp)
    return PrintJob(
        order=order,
        printer=printer,
        job_type=kind,
        print_content=document_text(document),
        layout=document_to_json(document),
        copies=copies,
        priority=priority,
        is_reprint=is_reprint,
    )


def order_tickets(
    *,
    order: Order,
    items: Sequence[OrderItem],
    printers: Sequence[PrinterConfig],
    profile: ShopProfile,
) -> list[PrintJob]:
    """The print plan of one confirmed order (unsaved jobs).

    Each receipt printer gets the customer receipt, each station printer a make ticket of
    its items (none when no item is its), each label printer one label per cup of its items.
    With no receipt or station printer that prints orders automatically, one receipt goes to
    every connected printer, as the seed did.
    """
    receipt = receipt_for_order(order=order, items=items, profile=profile)
    jobs = []
    if not any(printer.role in TICKET_ROLES for printer in printers):
        jobs.append(ticket_job(order=order, kind=JobType.ORDER, receipt=receipt, printer=None))
    for printer in printers:
        mine = items_for(printer, items)
        if not mine:
            continue
        theirs = _with_items(receipt, items, mine)
        if printer.role == Role.LABEL:
            job = label_job(order=order, receipt=theirs, printer=printer)
            jobs += [job] if job else []
            continue
        kind = JobType.KITCHEN if printer.role == Role.STATION else JobType.ORDER
        jobs.append(
            ticket_job(
                order=order,
                kind=kind,
                receipt=theirs,
                printer=printer,
                copies=printer.print_copies,
            )
        )
    return jobs


def label_job(
    *,
    order: Order,
    receipt: Receipt,
    printer: PrinterConfig,
    reprint: bool = False,
    only: int | None = None,
    priority: int = 5,
) -> PrintJob | None:
    """An unsaved job of one label per cup of `receipt`'s items (None when there is no
    cup): their text for seed clients, and the labels, laid out for the printer's stock
    when printed."""
    cups = cup_labels(receipt, reprint=reprint, only=only)
    if not cups:
        return None
    return PrintJob(
        order=order,
        printer=printer,
        job_type=JobType.LABEL,
        print_content=labels_text(cups),
        layout=labels_to_json(cups),
        copies=printer.print_copies,
        priority=priority,
        is_reprint=reprint,
    )


def _with_items(receipt: Receipt, items: Sequence[OrderItem], mine: list[OrderItem]) -> Receipt:
    if len(mine) == len(items):
        return receipt
    keep = {item.pk for item in mine}
    chosen = tuple(line for item, line in zip(items, receipt.items, strict=True) if item.pk in keep)
    return replace(receipt, items=chosen)


def reprint_stamp(at: datetime | None = None) -> str:
    return f"{REPRINT_STAMP} {timezone.localtime(at):%Y-%m-%d %H:%M}"


def relaid_for_printer(
    job: PrintJob, *, printer: PrinterConfig, stamp: str
) -> tuple[str, dict | None]:
    """A job's ticket laid out again for another printer, stamped (failover): its content
    and document. A station's make ticket keeps the items of the station it was meant for."""
    if job.order is None:
        return stamp_text(job.print_content, stamp, paper_width=printer.paper_width), None
    if job.job_type == JobType.LABEL:
        # Labels are laid out for the stock when printed: the backup prints them as they are.
        return job.print_content, job.layout
    items = items_for(job.printer, list(job.order.items.select_related("category")))
    receipt = receipt_for_order(order=job.order, items=items)
    if job.is_reprint:
        stamp = f"{REPRINT_STAMP} · {stamp}"
    kind = job.job_type if job.job_type in (JobType.KITCHEN, JobType.VOID) else JobType.ORDER
    document = ticket_document(
        kind=kind, receipt=receipt, printer=printer, stamp=stamp, at=job.created_at
    )
    return document_text(document), document_to_json(document)
