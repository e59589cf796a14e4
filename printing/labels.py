"""Cup labels (杯贴): one sticker per cup. Pure functions, no Django, no I/O: the server and
the printer agent share it. Here are the labels' data and settings; `printing.label_layout`
places them in printer dots and `printing.tspl` turns the pages into bytes.

A `Receipt` (its items already the label printer's categories) gives one `CupLabel` per cup:
an item of quantity 3 is three labels, numbered `1/N` … `N/N` across the order. A `LabelSpec`
is the label's size and the printer's settings. Labels travel in a job's frame as JSON
(`labels_to_json`, `labels_from_json`), and as plain text for clients that print text.
"""

from dataclasses import asdict, dataclass, fields
from datetime import datetime
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
# Limits on labels read from JSON: a frame can hold a big order, never an unbounded one.
MAX_LABELS = 200
MAX_TEXT = 500


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
