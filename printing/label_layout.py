"""Cup labels laid out in printer dots: where each text (and the QR code) of a `CupLabel`
goes on a label of `LabelSpec` size. Pure functions, no Django, no I/O; `printing.tspl` turns
the pages into bytes, the previews draw them.

Texts are measured the way the printer's built-in 24-dot Chinese font (`TSS24.BF2`,
`TST24.BF2` for Big5) draws them: a character the encoding sends as one byte is 12 dots wide,
a two-byte one 24, and scale 2 doubles both. Nothing is clipped: what does not fit is wrapped,
shortened with "…", or, when the label is too short, left out, lowest priority first. The
layout is in docs/printers.md ("Cup labels (TSPL)").
"""

from dataclasses import dataclass
from functools import lru_cache

from printing.labels import REPRINT_MARK, CupLabel, LabelSpec

ELLIPSIS = "…"
# The built-in bitmap font: 24 dots high; 12 dots per byte of the character's encoding.
FONT_HEIGHT = 24
DOTS_PER_BYTE = 12


# Cached: a label measures each of its characters many times while it is laid out.
@lru_cache(maxsize=8192)
def printer_char(char: str, encoding: str) -> tuple[str, bool]:
    """The character the printer gets for `char`, and whether it is a replacement.

    The built-in fonts hold one- and two-byte characters: one the encoding lacks, or sends
    as GB18030's four bytes (emoji, rare ideographs), prints as `?`.
    """
    try:
        encoded = char.encode(encoding)
    except UnicodeEncodeError:
        return "?", True
    return (char, False) if 1 <= len(encoded) <= 2 else ("?", True)


@lru_cache(maxsize=8192)
def char_dots(char: str, encoding: str) -> int:
    """Dots wide at scale 1: 12 per byte of the character as the printer gets it."""
    shown, _ = printer_char(char, encoding)
    return DOTS_PER_BYTE * len(shown.encode(encoding))


def text_dots(text: str, encoding: str, scale: int = 1) -> int:
    return sum(char_dots(char, encoding) for char in text) * scale


def shorten(text: str, width: int, encoding: str, scale: int = 1) -> str:
    """`text` if it fits in `width` dots, else its longest start that fits with "…" after it
    ("" when not even that fits)."""
    if text_dots(text, encoding, scale) <= width:
        return text
    room = width - text_dots(ELLIPSIS, encoding, scale)
    used, cut = 0, 0
    for char in text:
        used += char_dots(char, encoding) * scale
        if used > room:
            break
        cut += 1
    return text[:cut].rstrip() + ELLIPSIS if room >= 0 and cut else ""


def wrap_dots(text: str, width: int, encoding: str, *, max_lines: int, scale: int = 1) -> list[str]:
    """`text` broken into at most `max_lines` lines of `width` dots; the last line is
    shortened with "…" when text remains. Chinese breaks anywhere, as on a receipt."""
    lines: list[str] = []
    rest = text
    while rest and len(lines) < max_lines:
        if len(lines) == max_lines - 1 or text_dots(rest, encoding, scale) <= width:
            lines.append(shorten(rest, width, encoding, scale))
            break
        used, cut = 0, 0
        for char in rest:
            used += char_dots(char, encoding) * scale
            if used > width:
                break
            cut += 1
        # A Latin word (a size like "500ml") moves to the next line whole when it can.
        space = rest.rfind(" ", 0, cut)
        if rest[cut] != " " and space > 0 and rest[space : cut + 1].isascii():
            cut = space
        if cut == 0:
            break
        lines.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return [line for line in lines if line]


@dataclass(frozen=True)
class LabelText:
    """One text at (x, y) dots from the label's top left; `scale` multiplies width and height."""

    x: int
    y: int
    text: str
    scale: int = 1


@dataclass(frozen=True)
class LabelQr:
    x: int
    y: int
    text: str
    cell: int

    @property
    def size(self) -> int:
        return qr_modules(self.text) * self.cell


@dataclass(frozen=True)
class LabelPage:
    texts: tuple[LabelText, ...]
    qr: LabelQr | None = None


# QR byte capacity at error correction level L, versions 1–4: a pickup number needs version 1.
_QR_BYTES_L = (17, 32, 53, 78)


def qr_modules(text: str) -> int:
    """Modules per side of the QR code of `text` (level L); 0 if longer than version 4."""
    length = len(text.encode("utf-8"))
    for version, capacity in enumerate(_QR_BYTES_L, start=1):
        if length <= capacity:
            return 17 + 4 * version
    return 0


@dataclass
class _Row:
    """Texts on one band of the label; the lowest `keep` goes first when the label is short."""

    height: int
    keep: int
    texts: list[tuple[int, str, int]]  # (x from the left margin, text, scale)
    bottom: bool = False


# Which rows a short label keeps longest. The header (pickup number, order type, i/N) and the
# drink's name stay; the note goes first, then the time and shop name (kept longer on a
# reprint, which carries 重印), toppings, options.
_KEEP_NOTE, _KEEP_FOOTER, _KEEP_TOPPINGS, _KEEP_OPTIONS = 10, 20, 30, 40
_KEEP_ORDER_TYPE, _KEEP_NAME_MORE, _KEEP_REPRINT, _KEEP_ALWAYS = 50, 60, 70, 100


def label_page(label: CupLabel, spec: LabelSpec) -> LabelPage:
    """The label's texts placed on `spec`'s label: every text inside it, none overlapping.

    Top: `#pickup order-type` at double size when it fits, else normal, and `i/N` on the
    right; then the drink's name (double when it fits, else up to two lines), the options,
    the toppings, the note (one line, shortened with …); at the bottom the time, 重印 on a
    reprint, and the shop name on the right. With `qr_code`, a QR code of the pickup number
    sits on the right under the header when the label has room for it.
    """
    encoding = spec.encoding
    margin = round(spec.dots_per_mm * 1.5)
    gap = max(2, round(spec.dots_per_mm * 0.5))
    width = spec.width_dots - 2 * margin
    height = spec.height_dots - 2 * margin

    header, order_type_apart = _header(label, width, encoding)
    rows = [header]
    body_top = header.height + gap

    qr = None
    if spec.qr_code and label.pickup_number and qr_modules(label.pickup_number):
        cell = 3 if spec.dpi == 203 else 4
        size = qr_modules(label.pickup_number) * cell
        # Only with room beside it for the name in normal size (four Chinese characters).
        room = height - body_top - FONT_HEIGHT - gap  # above the footer
        if size <= room and width - size - gap >= 4 * 2 * DOTS_PER_BYTE:
            x = margin + width - size
            qr = LabelQr(x=x, y=margin + body_top, text=label.pickup_number, cell=cell)
            width -= size + gap
    if order_type_apart:
        text = shorten(label.order_type, width, encoding)
        if text:
            rows.append(_Row(FONT_HEIGHT, _KEEP_ORDER_TYPE, [(0, text, 1)]))

    if label.name:
        double_fits = (
            text_dots(label.name, encoding, 2) <= width
            and header.height + gap + 2 * FONT_HEIGHT <= height
        )
        if double_fits:
            rows.append(_Row(2 * FONT_HEIGHT, _KEEP_ALWAYS - 1, [(0, label.name, 2)]))
        else:
            for number, line in enumerate(wrap_dots(label.name, width, encoding, max_lines=2)):
                keep = _KEEP_ALWAYS - 1 if number == 0 else _KEEP_NAME_MORE
                rows.append(_Row(FONT_HEIGHT, keep, [(0, line, 1)]))
    for text, keep in (
        (label.options, _KEEP_OPTIONS),
        (label.toppings, _KEEP_TOPPINGS),
        (f"备注: {label.note}" if label.note else "", _KEEP_NOTE),
    ):
        if text and (short := shorten(text, width, encoding)):
            rows.append(_Row(FONT_HEIGHT, keep, [(0, short, 1)]))
    footer = _footer(label, spec.width_dots - 2 * margin, width, encoding, qr is not None)
    if footer is not None:
        rows.append(footer)

    # A short label: leave rows out, lowest keep first, until the rest fits.
    while sum(row.height for row in rows) + gap * (len(rows) - 1) > height:
        rows.remove(min(rows, key=lambda row: row.keep))

    texts: list[LabelText] = []
    y = margin
    for row in rows:
        top = margin + height - row.height if row.bottom else y
        for x, text, scale in row.texts:
            # Shorter texts on a row stand on its baseline.
            texts.append(LabelText(margin + x, top + row.height - FONT_HEIGHT * scale, text, scale))
        y += row.height + gap
    # The footer spans the label's width; the QR code must end above it.
    footer_top = margin + height - (footer.height + gap if footer in rows else 0)
    if qr is not None and qr.y + qr.size > footer_top:
        qr = None
    return LabelPage(texts=tuple(texts), qr=qr)


def _header(label: CupLabel, width: int, encoding: str) -> tuple[_Row, bool]:
    """The top row, and whether the order type needs a row of its own."""
    counter = label.counter
    number = f"#{label.pickup_number}" if label.pickup_number else ""
    title = " ".join(part for part in (number, label.order_type) if part)
    space = DOTS_PER_BYTE
    attempts = [(title, 2, 2), (title, 2, 1), (title, 1, 1)]
    if number and label.order_type:
        # Narrow labels: the pickup number alone, the order type on the next row.
        attempts += [(number, 2, 1), (number, 1, 1)]
    for text, scale, counter_scale in attempts:
        counter_width = text_dots(counter, encoding, counter_scale)
        if text_dots(text, encoding, scale) + space + counter_width <= width:
            row = _counter_row(text, scale, counter, counter_scale, width, encoding)
            return row, text != title
    # Not even that: the counter always prints; the number is shortened beside it.
    counter_width = text_dots(counter, encoding)
    text = shorten(number or title, width - space - counter_width, encoding)
    return _counter_row(text, 1, counter, 1, width, encoding), bool(number and label.order_type)


def _counter_row(
    text: str, scale: int, counter: str, counter_scale: int, width: int, encoding: str
) -> _Row:
    x = width - text_dots(counter, encoding, counter_scale)
    texts = [(0, text, scale)] if text else []
    return _Row(FONT_HEIGHT * scale, _KEEP_ALWAYS, [*texts, (x, counter, counter_scale)])


def _footer(
    label: CupLabel, full_width: int, width: int, encoding: str, beside_qr: bool
) -> _Row | None:
    """Time (and 重印) on the left, the shop name on the right, at the label's bottom."""
    left = " ".join(
        part for part in (f"{label.time:%H:%M}", REPRINT_MARK if label.reprint else "") if part
    )
    left = shorten(left, full_width, encoding)
    texts = [(0, left, 1)] if left else []
    room = full_width - text_dots(left, encoding) - DOTS_PER_BYTE
    if label.shop_name and room > 0 and (shop := shorten(label.shop_name, room, encoding)):
        texts.append((full_width - text_dots(shop, encoding), shop, 1))
    if not texts:
        return None
    keep = _KEEP_REPRINT if label.reprint else _KEEP_FOOTER
    return _Row(FONT_HEIGHT, keep, texts, bottom=True)
