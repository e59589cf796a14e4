"""Receipt text for thermal paper: pure functions, no Django, no I/O.

Thermal printers in Chinese mode print a CJK character two columns wide, so every width here
is a display width, not a string length.
"""

import unicodedata
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

# Font A on common 58 mm and 80 mm printers.
COLUMNS_BY_PAPER_WIDTH = {58: 32, 80: 48}

THANK_YOU = "谢谢惠顾，欢迎再来！"
STATUS_LABELS = {
    "pending": "待确认",
    "confirmed": "已确认",
    "completed": "已完成",
    "cancelled": "已取消",
}


@dataclass(frozen=True)
class ReceiptItem:
    name: str
    quantity: int
    unit_price: Decimal
    size: str = ""
    temperature: str = ""
    sugar: str = ""


@dataclass(frozen=True)
class Receipt:
    shop_name: str
    order_id: int
    time: datetime
    total: Decimal
    status: str = "confirmed"
    items: tuple[ReceiptItem, ...] = field(default_factory=tuple)
    note: str = ""


# C0 and C1 control characters and DEL, newline excepted: sent to a printer they are
# commands, not text (ESC p kicks the cash drawer, GS V cuts, ESC @ resets). A tab is a space.
_CONTROLS = {
    code: None for code in (*range(0x20), 0x7F, *range(0x80, 0xA0)) if code != ord("\n")
} | {ord("\t"): " "}


def printable(text: str) -> str:
    """`text` without control characters but newlines: safe to lay out and print."""
    return text.translate(_CONTROLS)


def columns_for(paper_width: int) -> int:
    """Characters per line for a paper width in millimetres (nearest known paper)."""
    nearest = min(COLUMNS_BY_PAPER_WIDTH, key=lambda mm: abs(mm - paper_width))
    return COLUMNS_BY_PAPER_WIDTH[nearest]


def char_width(char: str) -> int:
    if unicodedata.combining(char) or char in "\u200b\u200d\ufeff":
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def display_width(text: str) -> int:
    return sum(char_width(char) for char in text)


def money(amount: Decimal) -> str:
    return f"¥{Decimal(amount).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}"


def wrap(text: str, width: int, *, indent: str = "") -> list[str]:
    """Break text into lines of at most `width` columns; later lines start with `indent`.

    Chinese may break between any two characters; a run of Latin letters or digits moves to
    the next line whole when it fits there.
    """
    lines: list[str] = []
    line, used = "", 0
    for char in text.replace("\t", " "):
        if char == "\n":
            lines.append(line.rstrip())
            line, used = indent, display_width(indent)
            continue
        w = char_width(char)
        if used + w > width:
            head, tail = _split_word(line, indent, char)
            lines.append(head.rstrip())
            line = indent + tail.lstrip() if tail else indent
            used = display_width(line)
            if char == " " and not tail:
                continue
        line += char
        used += w
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return lines


def _split_word(line: str, indent: str, next_char: str) -> tuple[str, str]:
    """Split off a trailing Latin word so it can move to the next line whole."""
    if not (next_char.isascii() and next_char.isalnum()):
        return line, ""
    cut = len(line)
    while cut > len(indent) and line[cut - 1].isascii() and line[cut - 1].isalnum():
        cut -= 1
    if cut == len(line) or cut <= len(indent) or line[cut - 1] != " ":
        return line, ""
    return line[:cut], line[cut:]


def center(text: str, width: int) -> list[str]:
    return [" " * ((width - display_width(part)) // 2) + part for part in wrap(text, width)]


def two_columns(left: str, right: str, width: int, *, indent: str = "") -> list[str]:
    """`left` then `right` flush with the right edge; `right` gets its own line if needed."""
    gap = width - display_width(left) - display_width(right)
    if gap >= 1:
        return [left + " " * gap + right]
    lines = wrap(left, width, indent=indent)
    return [*lines, " " * (width - display_width(right)) + right]


def render_receipt(receipt: Receipt, *, paper_width: int, stamp: str = "") -> str:
    """The seed's order receipt, laid out for the paper; ends with a newline.

    `stamp` (a reprint, a backup printer) is printed under the shop name as `** stamp **`.
    """
    receipt, stamp = _printable_receipt(receipt), printable(stamp)
    width = columns_for(paper_width)
    heavy, light = "=" * width, "-" * width
    lines = [heavy, *center(receipt.shop_name, width), heavy]
    if stamp:
        lines += center(f"** {stamp} **", width)
    lines += wrap(f"订单号: #{receipt.order_id}", width)
    lines.append(f"时间: {receipt.time:%Y-%m-%d %H:%M:%S}")
    lines.append(f"状态: {STATUS_LABELS.get(receipt.status, receipt.status)}")
    if receipt.note.strip():
        lines += wrap(f"备注: {receipt.note.strip()}", width, indent="  ")
    lines.append(light)
    for item in receipt.items:
        lines += _item_lines(item, width)
    lines.append(light)
    lines += two_columns("总计:", money(receipt.total), width)
    lines += [heavy, *center(THANK_YOU, width), heavy]
    return "\n".join(lines) + "\n"


def _printable_receipt(receipt: Receipt) -> Receipt:
    """The receipt with every text a customer or staff typed made printable."""
    items = tuple(
        replace(
            item,
            name=printable(item.name),
            size=printable(item.size),
            temperature=printable(item.temperature),
            sugar=printable(item.sugar),
        )
        for item in receipt.items
    )
    return replace(
        receipt,
        shop_name=printable(receipt.shop_name),
        status=printable(receipt.status),
        note=printable(receipt.note),
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
