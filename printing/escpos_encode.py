"""Receipt text to the exact ESC/POS bytes a thermal printer needs. Pure, no Django: the
server (for network printers) and the printer agent share it.

python-escpos builds the commands (initialise, styles, cut, drawer, buzzer, QR code) into a
Dummy printer; the text itself is encoded here, per printer. python-escpos' automatic text
encoder is not used: it switches code pages mid-receipt, which breaks printers in Chinese
mode, sends a whole string as GB18030 only when it holds a CJK ideograph, and sends `¥` as a
four-byte GB18030 sequence most printers lack.
"""

import codecs
from dataclasses import dataclass, fields
from typing import Any

from escpos.capabilities import get_profile
from escpos.printer import Dummy

from printing.paper import printable

FS = b"\x1c"
CHINESE_ON = FS + b"&"
CHINESE_OFF = FS + b"."
HEAVY_RULE = "=" * 16

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
    printer = Dummy(profile=settings.profile)
    if settings.buzzer:
        printer.buzzer(times=2, duration=3)
    for copy in range(max(1, copies)):
        _one_copy(printer, content, settings, order_id, banner)
        if copy == 0 and settings.cash_drawer:
            printer.cashdraw(2)
    return printer.output


def _one_copy(
    printer: Dummy, content: str, settings: PrinterSettings, order_id: int | None, banner: str
) -> None:
    printer.hw("INIT")
    if settings.chinese_mode == "on":
        printer._raw(CHINESE_ON)
    elif settings.chinese_mode == "off":
        printer._raw(CHINESE_OFF)
    lines = content.rstrip("\n").split("\n")
    if banner:
        printer.set(align="center", bold=True)
        printer._raw(encode_text(f"** {banner} **\n", settings.encoding))
        printer.set(align="left", bold=False)
    header = _header_block(lines) if settings.header != "none" else 0
    if header:
        printer._raw(encode_text(lines[0] + "\n", settings.encoding))
        printer.set(align="center", bold=True, double_height=settings.header == "double")
        for line in lines[1 : header - 1]:
            printer._raw(encode_text(line.strip() + "\n", settings.encoding))
        printer.set(align="left", bold=False, normal_textsize=True)
        lines = lines[header - 1 :]
    printer._raw(encode_text("\n".join(lines) + "\n", settings.encoding))
    if settings.qr_code and order_id is not None:
        printer.set(align="center")
        printer.qr(str(order_id), native=printer.profile.supports("qrCode"), size=6)
        printer.set(align="left")
    if settings.cut == "none":
        printer.print_and_feed(6)
    else:
        printer.cut(mode="PART" if settings.cut == "partial" else "FULL")


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
