"""The tickets printed for an order, laid out for thermal paper: pure functions, no Django,
no I/O. One `Receipt` (the order's data for printing) gives three kinds of ticket, each a
`Document` (printing.paper): the customer receipt, a station's make ticket (制作单) and the
void ticket (作废) that takes a make ticket back. Each carries the pickup number (取餐号) in
the largest size that fits.
"""

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from printing.paper import (
    Document,
    Page,
    center,
    columns_for,
    display_width,
    document_text,
    money,
    printable,
    two_columns,
    wrap,
)

THANK_YOU = "谢谢惠顾，欢迎再来！"
STATUS_LABELS = {
    "pending": "待确认",
    "confirmed": "已确认",
    "completed": "已完成",
    "cancelled": "已取消",
}
ORDER_TYPE_LABELS = {"dine_in": "堂食", "takeaway": "外带", "delivery": "外卖"}
# How staff separate toppings when they type them: "珍珠, 椰果", "珍珠，椰果", "珍珠、椰果".
_TOPPING_SEPARATORS = str.maketrans({"，": ",", "、": ","})


@dataclass(frozen=True)
class ReceiptItem:
    name: str
    quantity: int
    unit_price: Decimal
    size: str = ""
    temperature: str = ""
    sugar: str = ""
    toppings: str = ""
    category: str = ""


@dataclass(frozen=True)
class Receipt:
    shop_name: str
    order_id: int
    time: datetime
    total: Decimal
    status: str = "confirmed"
    items: tuple[ReceiptItem, ...] = field(default_factory=tuple)
    note: str = ""
    pickup_number: str = ""
    order_type: str = "dine_in"
    delivery_platform: str = ""
    platform_order_no: str = ""
    address_line: str = ""
    footer_lines: tuple[str, ...] = (THANK_YOU,)


def render_receipt(receipt: Receipt, *, paper_width: int, stamp: str = "") -> str:
    """The customer receipt as plain text; ends with a newline."""
    return document_text(receipt_document(receipt, paper_width=paper_width, stamp=stamp))


def receipt_document(receipt: Receipt, *, paper_width: int, stamp: str = "") -> Document:
    """The customer receipt: shop, pickup number, order, items with prices, total, footer.

    The shop-name block (rule, name, rule) comes first: printers style it as the header.
    `stamp` (a reprint, a backup printer) is printed under it as `** stamp **`.
    """
    receipt = _printable_receipt(receipt)
    page = Page(columns_for(paper_width))
    width = page.columns
    page.rule()
    page.add(receipt.shop_name, align="center")
    page.rule()
    if receipt.address_line.strip():
        page.add(receipt.address_line.strip(), align="center")
    _stamp_and_pickup(page, receipt, stamp)
    page.add(f"订单号: #{receipt.order_id}")
    page.add(f"时间: {receipt.time:%Y-%m-%d %H:%M:%S}")
    page.add(f"状态: {STATUS_LABELS.get(receipt.status, receipt.status)}")
    page.add(f"类型: {order_type_text(receipt)}", indent="  ")
    if receipt.note.strip():
        page.add(f"备注: {receipt.note.strip()}", indent="  ")
    page.rule("-")
    for item in receipt.items:
        page.raw(_item_lines(item, width))
    page.rule("-")
    page.raw(two_columns("总计:", money(receipt.total), width))
    page.rule()
    footer = [line.strip() for line in receipt.footer_lines if line.strip()]
    for line in footer:
        page.add(line, align="center")
    if footer:
        page.rule()
    return page.document()


def kitchen_document(
    receipt: Receipt, *, paper_width: int, station: str, stamp: str = ""
) -> Document:
    """A station's make ticket (制作单): what to make, big enough to read across a counter.

    `receipt.items` are this station's items only. No prices, no total.
    """
    receipt, station = _printable_receipt(receipt), printable(station).strip()
    page = Page(columns_for(paper_width))
    page.rule()
    page.add(f"制作单 · {station}" if station else "制作单", align="center", bold=True)
    page.rule()
    _stamp_and_pickup(page, receipt, stamp)
    page.add(f"类型: {order_type_text(receipt)}", bold=True, indent="  ")
    page.add(f"订单号: #{receipt.order_id}")
    page.add(f"时间: {receipt.time:%Y-%m-%d %H:%M:%S}")
    if receipt.note.strip():
        page.add(f"备注: {receipt.note.strip()}", size=2, bold=True)
    page.rule("-")
    for item in receipt.items:
        page.add(f"{item.name} x{item.quantity}", size=2)
        options = " / ".join(part for part in (item.size, item.temperature, item.sugar) if part)
        if options:
            page.add(f"  {options}", bold=True, indent="  ")
        if toppings := toppings_text(item.toppings):
            page.add(f"  {toppings}", bold=True, indent="  ")
    page.rule()
    return page.document()


def void_document(
    receipt: Receipt, *, paper_width: int, station: str = "", time: datetime
) -> Document:
    """The void ticket (作废): takes back the ticket that held `receipt.items`, at `time`."""
    receipt, station = _printable_receipt(receipt), printable(station).strip()
    page = Page(columns_for(paper_width))
    page.rule()
    page.add_largest("作废")
    page.add_largest("VOID")
    page.rule()
    if station:
        page.add(f"制作单 · {station}", align="center", bold=True)
    _stamp_and_pickup(page, receipt, "")
    page.add(f"订单号: #{receipt.order_id}")
    page.rule("-")
    for item in receipt.items:
        page.add(f"{item.name} x{item.quantity}", indent="  ")
    page.rule("-")
    page.add(f"作废时间: {time:%Y-%m-%d %H:%M:%S}")
    page.rule()
    return page.document()


def _stamp_and_pickup(page: Page, receipt: Receipt, stamp: str) -> None:
    if stamp := printable(stamp).strip():
        page.add(f"** {stamp} **", align="center", bold=True)
    if number := receipt.pickup_number.strip():
        # The largest thing on the ticket: where label and number do not fit together at
        # triple size (58 mm), the label gets a line of its own.
        line = f"取餐号 {number}"
        if display_width(line) * 3 > page.columns:
            page.add("取餐号", align="center", bold=True)
            line = number
        page.add_largest(line)


def order_type_text(receipt: Receipt) -> str:
    """The order type as printed: "堂食", "外带", "外卖 美团 #12"."""
    label = ORDER_TYPE_LABELS.get(receipt.order_type, receipt.order_type)
    if receipt.order_type != "delivery":
        return label
    number = receipt.platform_order_no.strip()
    parts = [label, receipt.delivery_platform.strip(), f"#{number}" if number else ""]
    return " ".join(part for part in parts if part)


def toppings_text(toppings: str) -> str:
    """ "珍珠, 椰果" as "+珍珠 +椰果"."""
    names = (name.strip() for name in toppings.translate(_TOPPING_SEPARATORS).split(","))
    return " ".join(f"+{name.lstrip('+')}" for name in names if name.strip("+ "))


def _printable_receipt(receipt: Receipt) -> Receipt:
    """The receipt with every text a customer or staff typed made printable."""
    items = tuple(
        replace(
            item,
            name=printable(item.name),
            size=printable(item.size),
            temperature=printable(item.temperature),
            sugar=printable(item.sugar),
            toppings=printable(item.toppings),
            category=printable(item.category),
        )
        for item in receipt.items
    )
    return replace(
        receipt,
        shop_name=printable(receipt.shop_name),
        status=printable(receipt.status),
        note=printable(receipt.note),
        pickup_number=printable(receipt.pickup_number),
        order_type=printable(receipt.order_type),
        delivery_platform=printable(receipt.delivery_platform),
        platform_order_no=printable(receipt.platform_order_no),
        address_line=printable(receipt.address_line),
        footer_lines=tuple(printable(line) for line in receipt.footer_lines),
        items=items,
    )


def _item_lines(item: ReceiptItem, width: int) -> list[str]:
    lines = wrap(item.name, width, indent="  ")
    options = [
        f"{label}: {value}"
        for label, value in (("规格", item.size), ("温度", item.temperature), ("糖度", item.sugar))
        if value
    ]
    lines += _joined("  ", options, " | ", width)
    if toppings := toppings_text(item.toppings):
        lines += wrap(f"  加料: {toppings}", width, indent="  ")
    line_total = money(item.unit_price * item.quantity)
    left = f"  {item.quantity} x {money(item.unit_price)} ="
    lines += two_columns(left, line_total, width, indent="    ")
    return lines


def _joined(prefix: str, parts: list[str], separator: str, width: int) -> list[str]:
    """Parts joined by separator, starting a new prefixed line when the next would overflow."""
    logical: list[str] = []
    line = ""
    for part in parts:
        candidate = f"{line}{separator}{part}" if line else prefix + part
        if line and display_width(candidate) > width:
            logical.append(line)
            candidate = prefix + part
        line = candidate
    if line:
        logical.append(line)
    return [wrapped for text in logical for wrapped in wrap(text, width, indent=prefix)]


def stamp_text(content: str, stamp: str, *, paper_width: int) -> str:
    """Free text with `** stamp **` on top."""
    top = center(f"** {printable(stamp)} **", columns_for(paper_width))
    return "\n".join(top) + "\n" + printable(content)


def render_test_page(*, shop_name: str, printer_name: str, paper_width: int, time: datetime) -> str:
    """A test print: proves the printer, its width and its Chinese font in one glance."""
    shop_name, printer_name = printable(shop_name), printable(printer_name)
    width = columns_for(paper_width)
    heavy = "=" * width
    lines = [heavy, *center(shop_name, width), *center("打印测试 / TEST PRINT", width), heavy]
    lines += wrap(f"打印机: {printer_name}", width, indent="  ")
    lines.append(f"纸宽: {paper_width}mm ({width} 列)")
    lines.append(f"时间: {time:%Y-%m-%d %H:%M:%S}")
    lines.append("-" * width)
    lines.append("中文: 珍珠奶茶 ¥25.00")
    lines.append("1234567890" * (width // 10) + "1234567890"[: width % 10])
    lines += [heavy, *center("打印正常", width), heavy]
    return "\n".join(lines) + "\n"
