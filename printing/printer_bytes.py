"""The bytes a printer receives for a job, and the picture of the paper they make.

Network printing sends these bytes; the previews draw them (printing.preview, pure), so what
staff see on screen is what the printer is sent. The agent builds the same bytes from the
frame with the same encoders, without Django.
"""

from dataclasses import dataclass, replace
from decimal import Decimal

from django.utils import timezone

from orders.models import ShopProfile
from printing.escpos_encode import PrinterSettings, encode_document, encode_job
from printing.labels import LabelSpec, cup_labels, labels_from_json, labels_to_json
from printing.models import PrinterConfig, PrintJob
from printing.paper import document_from_json, document_text, document_to_json
from printing.receipt import Receipt, ReceiptItem, kitchen_document, receipt_document
from printing.tspl import encode_labels

DEFAULT_NOTE = (
    "no printer: drawn with the default 80 mm settings / 无打印机：按默认 80 毫米设置绘制"
)


def is_label_printer(printer: PrinterConfig | None) -> bool:
    return printer is not None and printer.role == PrinterConfig.Role.LABEL


def printer_settings(printer: PrinterConfig | None) -> PrinterSettings | LabelSpec:
    """How the printer wants its bytes; the defaults (80 mm, GB18030) for no printer."""
    if printer is None:
        return PrinterSettings()
    return printer.label_spec() if is_label_printer(printer) else printer.escpos_settings()


def job_bytes(job: PrintJob, settings: PrinterSettings | LabelSpec) -> bytes:
    """The job as the printer receives it: TSPL for cup labels, ESC/POS for the rest.

    ValueError when the job cannot become bytes for these settings (a receipt for a label
    printer, unreadable labels).
    """
    labels = job.job_type == PrintJob.JobType.LABEL
    if isinstance(settings, LabelSpec) or labels:
        if not labels:
            raise ValueError("a label printer prints cup labels only / 标签机只打印杯贴")
        spec = settings if isinstance(settings, LabelSpec) else LabelSpec()
        cups = labels_from_json(job.layout)
        return encode_labels(labels=cups, spec=spec) * max(1, job.copies)
    if job.job_type == PrintJob.JobType.ALARM:
        # An alarm slip is heard: the buzzer whatever the printer's setting.
        settings = replace(settings, buzzer=True)
    if job.layout:
        return encode_document(
            document=document_from_json(job.layout),
            settings=settings,
            copies=job.copies,
            order_id=job.order_id,
        )
    return encode_job(
        content=job.print_content, settings=settings, copies=job.copies, order_id=job.order_id
    )


@dataclass(frozen=True)
class Preview:
    png: bytes
    notes: tuple[str, ...]


def bytes_preview(data: bytes, settings: PrinterSettings | LabelSpec, notes=()) -> Preview:
    # Imported here: Pillow is loaded by the first preview, not by every server process.
    from printing.preview import render_escpos, render_tspl, with_notes

    if isinstance(settings, LabelSpec):
        rendering = render_tspl(data, encoding=settings.encoding, dpi=settings.dpi)
    else:
        rendering = render_escpos(
            data, paper_width=settings.paper_width, encoding=settings.encoding
        )
    rendering = with_notes(rendering, list(notes))
    return Preview(png=rendering.png(), notes=tuple(rendering.notes))


def job_preview(job: PrintJob) -> Preview:
    """The picture of the paper the job's printer gets (its current settings)."""
    settings = printer_settings(job.printer)
    notes = () if job.printer is not None else (DEFAULT_NOTE,)
    return bytes_preview(job_bytes(job, settings), settings, notes)


def sample_receipt(profile: ShopProfile) -> Receipt:
    """A made-up takeaway order with the shop's ticket text: what staff preview settings on."""
    return Receipt(
        shop_name=profile.printed_shop_name,
        address_line=profile.address_line,
        footer_lines=profile.footer,
        order_id=1024,
        time=timezone.localtime(),
        total=Decimal("52.00"),
        note="少冰，不要吸管",
        pickup_number=f"{profile.pickup_prefix}001",
        order_type="takeaway",
        items=(
            ReceiptItem(
                name="珍珠奶茶",
                quantity=2,
                unit_price=Decimal("15.00"),
                size="大杯",
                temperature="少冰",
                sugar="半糖",
                toppings="珍珠, 椰果",
            ),
            ReceiptItem(name="杨枝甘露", quantity=1, unit_price=Decimal("22.00"), size="中杯"),
        ),
    )


def sample_preview(*, printer: PrinterConfig, profile: ShopProfile) -> Preview:
    """The sample order as this printer (saved or not) would print it for its role."""
    receipt = sample_receipt(profile)
    if is_label_printer(printer):
        job = PrintJob(job_type=PrintJob.JobType.LABEL, layout=labels_to_json(cup_labels(receipt)))
    else:
        station = printer.role == PrinterConfig.Role.STATION
        document = (
            kitchen_document(receipt, paper_width=printer.paper_width, station=printer.name)
            if station
            else receipt_document(receipt, paper_width=printer.paper_width)
        )
        job = PrintJob(
            job_type=PrintJob.JobType.KITCHEN if station else PrintJob.JobType.ORDER,
            print_content=document_text(document),
            layout=document_to_json(document),
        )
    settings = printer_settings(printer)
    return bytes_preview(job_bytes(job, settings), settings)
