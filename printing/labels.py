"""Cup labels (杯贴): one sticker per cup, laid out in printer dots. Pure functions, no Django,
no I/O: the server and the printer agent share it; `printing.tspl` turns the pages into bytes.

A `Receipt` (its items already the label printer's categories) gives one `CupLabel` per cup:
an item of quantity 3 is three labels, numbered `1/N` … `N/N` across the order. `label_page`
places a label's texts on a label of `LabelSpec` size, measured the way the printer's built-in
24-dot Chinese font (`TSS24.BF2`, `TST24.BF2` for Big5) draws them: a character the encoding
sends as one byte is 12 dots wide, a two-byte one 24, and scale 2 doubles both. Nothing is
clipped: what does not fit is wrapped, shortened with "…", or, when the label is too short,
left out, lowest priority first. The layout is in docs/printers.md ("Cup labels (TSPL)").
"""

from dataclasses import asdict, dataclass, fields
from datetime import datetime
from functools import lru_cache
from typing import Any

from printing.paper import printable
from printing.receipt import Receipt, order_type_text, toppings_text

ENCODINGS = ("gb18030", "gbk", "big5")
DPIS = (203, 300)
WIDTH_MM = (20, 110)
HEIGHT_MM = (15, 200)
GAP_MM = (0, 20)
DENSITY = (0, 15)
REPRINT_MARK = "重印"
ELLIPSIS = "…"
# Limits on labels read from JSON: a frame can hold a big order, never an unbounded one.
MAX_LABELS = 200
MAX_TEXT = 500

# The built-in bitmap font: 24 dots high; 12 dots per byte of the character's encoding.
FONT_HEIGHT = 24
DOTS_PER_BYTE = 12


# TSPL printers count whole dots per millimetre: a "203 dpi" head has 8, a "300 dpi" one 12
# (TSC's manuals: 40 mm is 320 dots at 203 dpi), not dpi / 25.4.
DOTS_PER_MM = {203: 8, 300: 12}


def dots_per_mm(dpi: int) -> float:
    return DOTS_PER_MM.get(dpi, dpi / 25.4)


@dataclass(frozen=True)
class LabelSpec:
    """A label printer's paper and settings. Every field has a default for the common
    40 × 30 mm thermal label at 203 dpi."""

    width_mm: int = 40
    height_mm: int = 30
    gap_mm: int = 2
    dpi: int = 203
    density: int = 8
    direction: int = 1
    encoding: str = "gb18030"
    # A QR code of the pickup number, when the label has room for it.
    qr_code: bool = False

    def __post_init__(self) -> None:
        for name, (low, high), unit in (
            ("width_mm", WIDTH_MM, " mm"),
            ("height_mm", HEIGHT_MM, " mm"),
            ("gap_mm", GAP_MM, " mm"),
            ("density", DENSITY, ""),
        ):
            value = getattr(self, name)
            if type(value) is not int or not low <= value <= high:
                what = name.removesuffix("_mm").replace("_", " ")
                raise ValueError(f"label {what} must be {low}–{high}{unit}, not {value!r}")
        if type(self.dpi) is not int or self.dpi not in DPIS:
            raise ValueError(f"label dpi must be 203 or 300, not {self.dpi!r}")
        if type(self.direction) is not int or self.direction not in (0, 1):
            raise ValueError(f"label direction must be 0 or 1, not {self.direction!r}")
        if self.encoding not in ENCODINGS:
            raise ValueError(f"label encoding must be one of {', '.join(ENCODINGS)}")
        if type(self.qr_code) is not bool:
            raise ValueError("label qr_code must be true or false")

    @classmethod
    def from_mapping(cls, values: dict[str, Any] | None, **overrides: Any) -> "LabelSpec":
        """A spec from a frame's `printer_config["label"]` (unknown keys ignored), then
        overrides; ValueError for a value out of range."""
        if values is not None and not isinstance(values, dict):
            raise ValueError("the label settings must be an object")
        known = {field.name for field in fields(cls)}
        chosen = {k: v for k, v in (values or {}).items() if k in known and v is not None}
        chosen |= {k: v for k, v in overrides.items() if v is not None}
        return cls(**chosen)

    def as_mapping(self) -> dict[str, Any]:
        """For `printer_config["label"]` of a label job's frame."""
        return asdict(self)

    @property
    def dots_per_mm(self) -> float:
        return dots_per_mm(self.dpi)

    @property
    def width_dots(self) -> int:
        # Rounded down: a label counted a dot too wide would clip its right edge.
        return int(self.width_mm * self.dots_per_mm)

    @property
    def height_dots(self) -> int:
        return int(self.height_mm * self.dots_per_mm)

    @property
    def font(self) -> str:
        """The printer's 24-dot Chinese font for this encoding (Big5 is the traditional one)."""
        return "TST24.BF2" if self.encoding == "big5" else "TSS24.BF2"


@dataclass(frozen=True)
class CupLabel:
    """One cup's label. Texts are printable and one line each."""

    index: int
    total: int
    pickup_number: str
    order_type: str
    name: str
    options: str
    toppings: str
    note: str
    time: datetime
    shop_name: str
    reprint: bool = False

    @property
    def counter(self) -> str:
        return f"{self.index}/{self.total}"


def _one_line(text: str) -> str:
    """Printable, on one line: a label has no room for the line breaks staff type."""
    return " ".join(printable(text).split())


def cup_labels(
    receipt: Receipt, *, reprint: bool = False, only: int | None = None
) -> list[CupLabel]:
    """One label per cup of `receipt.items`, numbered across the order.

    An item's quantity is its number of cups; zero or less makes none. `only=k` keeps label
    k alone (the reprint of one smudged cup), still numbered `k/N`; ValueError if there is
    no label k.
    """
    cups = [item for item in receipt.items for _ in range(max(item.quantity, 0))]
    total = len(cups)
    if only is not None and not (type(only) is int and 1 <= only <= total):
        raise ValueError(f"there is no label {only!r} of {total}")
    common = {
        "total": total,
        "pickup_number": _one_line(receipt.pickup_number),
        "order_type": _one_line(order_type_text(receipt)),
        "note": _one_line(receipt.note),
        "time": receipt.time,
        "shop_name": _one_line(receipt.shop_name),
        "reprint": reprint,
    }
    labels = []
    for index, item in enumerate(cups, start=1):
        if only is not None and index != only:
            continue
        options = " / ".join(
            part for part in map(_one_line, (item.size, item.temperature, item.sugar)) if part
        )
        labels.append(
            CupLabel(
                index=index,
                name=_one_line(item.name),
                options=options,
                toppings=_one_line(toppings_text(item.toppings)),
                **common,
            )
        )
    return labels


# What the printer draws, in dots


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


# The plain text and the JSON a frame carries


def labels_text(labels: list[CupLabel]) -> str:
    """The labels as plain text, one block per cup, for clients that print text."""
    blocks = []
    for label in labels:
        number = f"#{label.pickup_number}" if label.pickup_number else ""
        title = " ".join(part for part in (number, label.order_type) if part)
        lines = [f"{title}  {label.counter}" if title else label.counter]
        lines += [text for text in (label.name, label.options, label.toppings) if text]
        if label.note:
            lines.append(f"备注: {label.note}")
        bottom = [f"{label.time:%H:%M}", REPRINT_MARK if label.reprint else "", label.shop_name]
        lines.append(" ".join(part for part in bottom if part))
        blocks.append("\n".join(lines) + "\n")
    return ("-" * 32 + "\n").join(blocks)


_TEXT_FIELDS = ("pickup_number", "order_type", "name", "options", "toppings", "note", "shop_name")
_KEYS = {"index", "total", "time", "reprint", *_TEXT_FIELDS}


def labels_to_json(labels: list[CupLabel]) -> list[dict]:
    """`[{"index": 1, "total": 3, "pickup_number": "A001", ..., "time": "2025-…T10:30:00+08:00",
    "reprint": false}, ...]`: every key always present."""
    return [asdict(label) | {"time": label.time.isoformat()} for label in labels]


def labels_from_json(data: object) -> list[CupLabel]:
    """The labels `labels_to_json` gave. Strict: ValueError saying what is wrong (and which
    label) for anything else. Texts are made printable and one line."""
    if not isinstance(data, list):
        raise ValueError("labels must be a list")
    if not data:
        raise ValueError("labels must not be empty")
    if len(data) > MAX_LABELS:
        raise ValueError(f"at most {MAX_LABELS} labels")
    return [_label_from_json(index, item) for index, item in enumerate(data)]


def _label_from_json(position: int, item: object) -> CupLabel:
    where = f"labels[{position}]"
    if not isinstance(item, dict):
        raise ValueError(f"{where} must be an object")
    if missing := _KEYS - set(item):
        raise ValueError(f"{where} lacks {', '.join(sorted(missing))}")
    if unknown := set(item) - _KEYS:
        raise ValueError(f"{where} has unknown keys: {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for name in ("index", "total"):
        value = item[name]
        if type(value) is not int or not 1 <= value <= 10_000:
            raise ValueError(f"{where}.{name} must be a positive integer")
        values[name] = value
    if values["index"] > values["total"]:
        raise ValueError(f"{where}: label {values['index']} of {values['total']}")
    for name in _TEXT_FIELDS:
        value = item[name]
        if not isinstance(value, str):
            raise ValueError(f"{where}.{name} must be a string")
        if len(value) > MAX_TEXT:
            raise ValueError(f"{where}.{name} is longer than {MAX_TEXT} characters")
        values[name] = _one_line(value)
    if type(item["reprint"]) is not bool:
        raise ValueError(f"{where}.reprint must be true or false")
    if not isinstance(item["time"], str):
        raise ValueError(f"{where}.time must be an ISO 8601 string")
    try:
        values["time"] = datetime.fromisoformat(item["time"])
    except ValueError:
        raise ValueError(f"{where}.time is not an ISO 8601 time: {item['time']!r:.40}") from None
    return CupLabel(reprint=item["reprint"], **values)
