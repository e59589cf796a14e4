"""Cup labels to the exact TSPL bytes a label printer needs (TSC, Gprinter, Xprinter, HPRT and
most Chinese label printers speak it). Pure, no Django: the server (for network printers) and
the printer agent share it.

Per job: `SIZE`, `GAP`, `DIRECTION`, `REFERENCE`, `DENSITY`; per label `CLS`, one `TEXT` per
text of its page (`printing.label_layout.label_page`), an optional `QRCODE`, `PRINT 1,1`.
Every line ends with CR LF. No `CODEPAGE`: it selects the single-byte fonts' code page, and the
24-dot Chinese fonts used here read GB (`TSS24.BF2`) or Big5 (`TST24.BF2`) by themselves.

Text inside a command's double quotes is escaped as the TSPL/TSPL2 programming manual (TSC)
says: a double quote is written `\\["]` (the manual's `\\[R]` and `\\[L]` for CR and LF are not
needed: labels are one line per text, control characters dropped). The public TSPL encoders
found with the code search escape it the same way, e.g. `replace(/"/g, '\\\\["]')`, one citing
the manual's rule that a bare CR or LF would end the command early.
"""

from printing.label_layout import label_page, printer_char
from printing.labels import CupLabel, LabelSpec
from printing.paper import printable

CRLF = b"\r\n"
QUOTE = b'\\["]'


def _line(text: str) -> bytes:
    return text.encode("ascii") + CRLF


def quoted(text: str, encoding: str) -> tuple[bytes, list[str]]:
    """`"text"` for a TSPL command, and the characters printed as `?` instead.

    Control characters are dropped (in the byte stream a CR or LF ends the command). A
    character the encoding or the printer's 24-dot font lacks becomes `?`. A `[` after a byte
    0x5C (a backslash, or the second byte of some GBK/Big5 characters) becomes `(`: the
    printer would read `\\[` as the start of an escape.
    """
    out = bytearray(b'"')
    replaced: list[str] = []
    for char in printable(text).replace("\n", " "):
        if char == '"':
            out += QUOTE
            continue
        shown, bad = printer_char(char, encoding)
        if bad:
            replaced.append(char)
        if shown == "[" and out.endswith(b"\\"):
            shown = "("
        out += shown.encode(encoding)
    out += b'"'
    return bytes(out), replaced


def unencodable(text: str, encoding: str) -> list[str]:
    """The characters of `text` the printer gets as `?` (for the caller to log)."""
    return quoted(text, encoding)[1]


def encode_labels(*, labels: list[CupLabel], spec: LabelSpec) -> bytes:
    """The TSPL bytes of `labels`, in order, one printed label each."""
    return encode_labels_reporting(labels=labels, spec=spec)[0]


def encode_labels_reporting(*, labels: list[CupLabel], spec: LabelSpec) -> tuple[bytes, list[str]]:
    """`encode_labels`, and every character printed as `?` (repeats included)."""
    out = bytearray()
    out += _line(f"SIZE {spec.width_mm} mm,{spec.height_mm} mm")
    out += _line(f"GAP {spec.gap_mm} mm,0 mm")
    out += _line(f"DIRECTION {spec.direction}")
    out += _line("REFERENCE 0,0")
    out += _line(f"DENSITY {spec.density}")
    replaced: list[str] = []
    font = spec.font
    for label in labels:
        page = label_page(label, spec)
        out += _line("CLS")
        for text in page.texts:
            content, bad = quoted(text.text, spec.encoding)
            replaced += bad
            s = text.scale
            out += f'TEXT {text.x},{text.y},"{font}",0,{s},{s},'.encode("ascii") + content + CRLF
        if page.qr is not None:
            qr = page.qr
            content, bad = quoted(qr.text, spec.encoding)
            replaced += bad
            out += f"QRCODE {qr.x},{qr.y},L,{qr.cell},A,0,".encode("ascii") + content + CRLF
        out += _line("PRINT 1,1")
    return bytes(out), replaced


# <ESC>!? : the printer answers one status byte at once, even when it is in error. Bits as in
# the TSPL/TSPL2 manual (also in the public fintrace/tspl2-driver, TSPLStatusPollCommands):
# 0x01 head opened, 0x02 paper jam, 0x04 out of paper, 0x08 out of ribbon, 0x10 pause,
# 0x20 printing, 0x80 other error; 0x40 is "cover opened" on printers that have a cover sensor.
TSPL_STATUS = b"\x1b!?"
HEAD_OPEN, PAPER_JAM, PAPER_EMPTY, RIBBON_EMPTY = 0x01, 0x02, 0x04, 0x08
PAUSED, PRINTING, COVER_OPEN, OTHER_ERROR = 0x10, 0x20, 0x40, 0x80

# Worst first: the message says the one thing to fix before anything prints.
_PROBLEMS = (
    (PAPER_EMPTY, "paper out / 缺纸"),
    (HEAD_OPEN, "head open / 打印头打开"),
    (COVER_OPEN, "cover open / 纸仓盖打开"),
    (PAPER_JAM, "paper jam / 卡纸"),
    (RIBBON_EMPTY, "ribbon out / 碳带用完"),
    (PAUSED, "printer paused / 打印机暂停"),
    (OTHER_ERROR, "printer error / 打印机故障"),
)


def tspl_status_problem(byte: int | None) -> str | None:
    """What stops the label printer, from its `<ESC>!?` answer (None when it gave none).
    Printing (0x20) is no problem: the printer is busy with labels sent before."""
    if byte is None:
        return None
    for bit, message in _PROBLEMS:
        if byte & bit:
            return message
    return None
