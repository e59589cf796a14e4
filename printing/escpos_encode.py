"""Receipt text or a styled document to the exact ESC/POS bytes a thermal printer needs. Pure,
no Django: the server (for network printers) and the printer agent share it.

python-escpos builds the commands (initialise, styles, cut, drawer, buzzer, QR code) into a
Dummy printer; the text itself is encoded here, per printer. python-escpos' automatic text
encoder is not used: it switches code pages mid-receipt, which breaks printers in Chinese
mode, sends a whole string as GB18030 only when it holds a CJK ideograph, and sends `¥` as a
four-byte GB18030 sequence most printers lack.
"""

import codecs
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from escpos.capabilities import get_profile
from escpos.printer import Dummy

from printing.paper import Document, printable

FS = b"\x1c"
CHINESE_ON = FS + b"&"
CHINESE_OFF = FS + b"."
HEAVY_RULE = "=" * 16
ESC_ALIGN = {"left": b"\x1ba\x00", "center": b"\x1ba\x01", "right": b"\x1ba\x02"}
BOLD_ON, BOLD_OFF = b"\x1bE\x01", b"\x1bE\x00"
# GS ! n: high nibble is the width multiplier minus one, low nibble the height's.
CHAR_SIZE = {1: b"\x1d!\x00", 2: b"\x1d!\x11", 3: b"\x1d!\x22"}
DOUBLE_HEIGHT = b"\x1d!\x01"

ENCODINGS = ("gb18030", "gbk", "big5", "cp437", "cp850", "cp858", "cp866", "shift_jis")
CJK_ENCODINGS = ("gb18030", "gbk", "big5", "shift_jis")
CHINESE_MODES = ("on", "off", "none")
CUTS = ("partial", "full", "none")
HEADERS = ("none", "bold", "double")


@dataclass(frozen=True)
class PrinterSettings:
    """How one printer wants its bytes. Every field has a safe default for a Chinese
    80 mm thermal printer."""

    encoding: str = "gb18030"
    # "on": FS & before the text (Chinese double-byte mode); "off": FS . (single-byte code
    # page, for printers that start in Chinese mode); "none": send neither.
    chinese_mode: str = "on"
    cut: str = "partial"
    # The shop name block: "double" = bold and double height, "bold", or "none".
    header: str = "double"
    cash_drawer: bool = False
    buzzer: bool = False
    qr_code: bool = False
    # A python-escpos capability profile (e.g. "TM-T88V"); "default" suits most printers.
    profile: str = "default"
    paper_width: int = 80

    def __post_init__(self) -> None:
        codecs.lookup(self.encoding)  # LookupError for a name Python does not know
        for name, allowed in (
            ("chinese_mode", CHINESE_MODES),
            ("cut", CUTS),
            ("header", HEADERS),
        ):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}")
        try:
            get_profile(self.profile)
        except Exception:
            raise ValueError(f"unknown ESC/POS profile {self.profile!r}") from None

    @classmethod
    def from_mapping(cls, values: dict[str, Any] | None, **overrides: Any) -> "PrinterSettings":
        """Settings from a message's `printer_config` (unknown keys ignored), then overrides."""
        known = {field.name for field in fields(cls)}
        chosen = {k: v for k, v in (values or {}).items() if k in known and v is not None}
        chosen |= {k: v for k, v in overrides.items() if v is not None}
        if overrides.get("encoding") and not (values or {}).get("chinese_mode"):
            chosen["chinese_mode"] = default_chinese_mode(chosen["encoding"])
        return cls(**chosen)

    def as_mapping(self) -> dict[str, Any]:
        """For the `printer_config` of a job message: what an agent needs to print it."""
        return {field.name: getattr(self, field.name) for field in fields(self)}


def default_chinese_mode(encoding: str) -> str:
    return "on" if codecs.lookup(encoding).name in CJK_ENCODINGS else "none"


def yen_replacement(encoding: str) -> tuple[str, bool]:
    """A yen sign the printer has, and whether it prints two columns wide: the full-width
    ￥ (GB2312 A3A4, Shift_JIS 818F) or Big5's A244 in Chinese encodings, the single-byte
    ¥ where the code page has one, else Y."""
    cjk = codecs.lookup(encoding).name in CJK_ENCODINGS
    for candidate in ("￥", "¥") if cjk else ("¥",):
        try:
            encoded = candidate.encode(encoding)
        except UnicodeEncodeError:
            continue
        return candidate, cjk and len(encoded) == 2
    return "Y", False


def encode_text(text: str, encoding: str) -> bytes:
    """Text in the printer's encoding. A character it lacks becomes `?`, never an error.

    Control characters but newline are dropped: in the byte stream they would be printer
    commands (the layout drops them too; this is for text that reached here another way).
    A two-column yen sign takes the place of the space in front of it (the receipt counted
    one column for ¥), so right-aligned amounts stay aligned.
    """
    text = printable(text)
    yen, wide = yen_replacement(encoding)
    if wide:
        text = text.replace(" ¥", yen).replace("¥", yen)
    elif yen != "¥":
        text = text.replace("¥", yen)
    return text.encode(encoding, errors="replace")


def _header_block(lines: list[str]) -> int:
    """How many leading lines form the shop-name block: `====`, name, `====`."""
    if len(lines) >= 3 and lines[0].startswith(HEAVY_RULE):
        for index in range(1, min(len(lines), 5)):
            if lines[index].startswith(HEAVY_RULE):
                return index + 1
    return 0


def encode_job(
    *,
    content: str,
    settings: PrinterSettings,
    copies: int = 1,
    order_id: int | None = None,
    banner: str = "",
) -> bytes:
    """The bytes for `copies` copies of a receipt: per copy initialise, Chinese mode,
    header, content, optional QR code of the order number, feed and cut."""
    return _copies(
        lambda printer: _plain_body(printer, content, settings), settings, copies, order_id, banner
    )


def encode_document(
    *,
    document: Document,
    settings: PrinterSettings,
    copies: int = 1,
    order_id: int | None = None,
    banner: str = "",
) -> bytes:
    """Like `encode_job`, for a styled document: each line in its alignment (ESC a), weight
    (ESC E) and size (GS !), back to normal after it; the printer aligns, so no padding.

    `settings.header` applies as in `encode_job`, to the normal-size lines of the block a
    document starts with (rule, shop name or ticket title, rule): "bold" makes them bold,
    "double" bold and double height, "none" leaves them as the document says.
    """
    return _copies(
        lambda printer: _document_body(printer, document, settings),
        settings,
        copies,
        order_id,
        banner,
    )


def _copies(
    body: Callable[[Dummy], None],
    settings: PrinterSettings,
    copies: int,
    order_id: int | None,
    banner: str,
) -> bytes:
    printer = Dummy(profile=settings.profile)
    if settings.buzzer:
        printer.buzzer(times=2, duration=3)
    for copy in range(max(1, copies)):
        _one_copy(printer, body, settings, order_id, banner)
        if copy == 0 and settings.cash_drawer:
            printer.cashdraw(2)
    return printer.output


def _one_copy(
    printer: Dummy,
    body: Callable[[Dummy], None],
    settings: PrinterSettings,
    order_id: int | None,
    banner: str,
) -> None:
    printer.hw("INIT")
    if settings.chinese_mode == "on":
        printer._raw(CHINESE_ON)
    elif settings.chinese_mode == "off":
        printer._raw(CHINESE_OFF)
    if banner:
        printer.set(align="center", bold=True)
        printer._raw(encode_text(f"** {banner} **\n", settings.encoding))
        printer.set(align="left", bold=False)
    body(printer)
    if settings.qr_code and order_id is not None:
        printer.set(align="center")
        printer.qr(str(order_id), native=printer.profile.supports("qrCode"), size=6)
        printer.set(align="left")
    if settings.cut == "none":
        printer.print_and_feed(6)
    else:
        printer.cut(mode="PART" if settings.cut == "partial" else "FULL")


def _plain_body(printer: Dummy, content: str, settings: PrinterSettings) -> None:
    lines = content.rstrip("\n").split("\n")
    header = _header_block(lines) if settings.header != "none" else 0
    if header:
        printer._raw(encode_text(lines[0] + "\n", settings.encoding))
        printer.set(align="center", bold=True, double_height=settings.header == "double")
        for line in lines[1 : header - 1]:
            printer._raw(encode_text(line.strip() + "\n", settings.encoding))
        printer.set(align="left", bold=False, normal_textsize=True)
        lines = lines[header - 1 :]
    printer._raw(encode_text("\n".join(lines) + "\n", settings.encoding))


def _document_body(printer: Dummy, document: Document, settings: PrinterSettings) -> None:
    header = (
        _header_block([line.text for line in document.lines]) if settings.header != "none" else 0
    )
    for index, line in enumerate(document.lines):
        styled_header = 0 < index < header - 1 and line.size == 1
        bold = line.bold or styled_header
        if styled_header and settings.header == "double":
            size = DOUBLE_HEIGHT
        else:
            size = CHAR_SIZE[line.size]
        text = encode_text(line.text + "\n", settings.encoding)
        if line.align == "left" and not bold and size == CHAR_SIZE[1]:
            printer._raw(text)
            continue
        printer._raw(ESC_ALIGN[line.align] + (BOLD_ON if bold else b"") + size + text)
        printer._raw(ESC_ALIGN["left"] + (BOLD_OFF if bold else b"") + CHAR_SIZE[1])


# Real-time status (DLE EOT n): the printer answers one byte at once, even when offline.
STATUS_PRINTER = b"\x10\x04\x01"
STATUS_OFFLINE_CAUSE = b"\x10\x04\x02"
STATUS_PAPER = b"\x10\x04\x04"


def status_problem(printer: int | None, cause: int | None, paper: int | None) -> str | None:
    """What stops the printer, from its DLE EOT 1/2/4 answers (None where it gave none)."""
    if paper is not None and paper & 0x60 == 0x60:
        return "paper out / 缺纸"
    if cause is not None and cause & 0x04:
        return "cover open / 纸仓盖打开"
    if cause is not None and cause & 0x20:
        return "paper out / 缺纸"
    if printer is not None and printer & 0x08:
        return "printer offline / 打印机离线"
    return None
