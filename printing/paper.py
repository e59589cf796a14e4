"""What fits on thermal paper: text widths, wrapping, and the styled document a ticket is laid
out as. Pure functions, no Django, no I/O: the printer agent imports this module too.

Thermal printers in Chinese mode print a CJK character two columns wide, so every width here
is a display width, not a string length.

A `Document` is a ticket as lines with a size, an alignment and a weight. `document_text` is
its plain text (what clients that know no styles print); ESC/POS printers print the styles
(`printing.escpos_encode.encode_document`), and the server sends it to agents as JSON
(`document_to_json`, `document_from_json`; described in docs/tickets.md).
"""

import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

# Font A on common 58 mm and 80 mm printers.
COLUMNS_BY_PAPER_WIDTH = {58: 32, 80: 48}

SIZES = (1, 2, 3)
ALIGNS = ("left", "center", "right")
# Limits on a document read from JSON only: laying out a huge order never fails, and a
# reader that refuses its document prints the plain text instead.
MAX_LINES = 500
MAX_TEXT = 500

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


# Cached: a ticket measures its lines again and again, over a few hundred distinct
# characters; the unicodedata lookups were a quarter of a batch confirmation's time.
@lru_cache(maxsize=8192)
def char_width(char: str) -> int:
    if unicodedata.combining(char) or char in "\u200b\u200d\ufeff":
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def display_width(text: str) -> int:
    if text.isascii():  # every ASCII character is one column wide
        return len(text)
    return sum(map(char_width, text))


def money(amount: Decimal) -> str:
    return f"¥{Decimal(amount).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}"


def wrap(text: str, width: int, *, indent: str = "") -> list[str]:
    """Break text into lines of at most `width` columns; later lines start with `indent`.

    Chinese may break between any two characters; a run of ASCII without spaces (a word, a
    time, a phone number) moves to the next line whole when it fits there.
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
    """Split off a trailing ASCII word so it can move to the next line whole."""
    if not _word_char(next_char):
        return line, ""
    cut = len(line)
    while cut > len(indent) and _word_char(line[cut - 1]):
        cut -= 1
    if cut == len(line) or cut <= len(indent) or line[cut - 1] != " ":
        return line, ""
    return line[:cut], line[cut:]


def _word_char(char: str) -> bool:
    return char.isascii() and char.isprintable() and not char.isspace()


def center(text: str, width: int) -> list[str]:
    return [" " * ((width - display_width(part)) // 2) + part for part in wrap(text, width)]


def two_columns(left: str, right: str, width: int, *, indent: str = "") -> list[str]:
    """`left` then `right` flush with the right edge; `right` gets its own line if needed."""
    gap = width - display_width(left) - display_width(right)
    if gap >= 1:
        return [left + " " * gap + right]
    lines = wrap(left, width, indent=indent)
    return [*lines, " " * (width - display_width(right)) + right]


@dataclass(frozen=True)
class Line:
    """One printed line. `text` is unpadded (alignment places it), printable and one line.

    `size` multiplies both width and height: a size-s line takes display_width(text) * s
    columns on paper. In plain text it takes its own width.
    """

    text: str
    size: int = 1
    align: str = "left"
    bold: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.text, str):
            raise ValueError("text must be a string")
        if "\n" in self.text or printable(self.text) != self.text:
            raise ValueError("text must be one line without control characters")
        if type(self.size) is not int or self.size not in SIZES:
            raise ValueError(f"size must be one of {', '.join(map(str, SIZES))}")
        if self.align not in ALIGNS:
            raise ValueError(f"align must be one of {', '.join(ALIGNS)}")
        if type(self.bold) is not bool:
            raise ValueError("bold must be true or false")

    @property
    def width(self) -> int:
        """Columns it takes on paper."""
        return display_width(self.text) * self.size


@dataclass(frozen=True)
class Document:
    """A ticket for paper `columns` wide. Every line fits: width * size <= columns."""

    columns: int
    lines: tuple[Line, ...]

    def __post_init__(self) -> None:
        if type(self.columns) is not int or self.columns not in COLUMNS_BY_PAPER_WIDTH.values():
            known = ", ".join(map(str, COLUMNS_BY_PAPER_WIDTH.values()))
            raise ValueError(f"columns must be one of {known}")
        for index, line in enumerate(self.lines):
            if not isinstance(line, Line):
                raise ValueError(f"lines[{index}] is not a Line")
            if line.width > self.columns:
                raise ValueError(
                    f"lines[{index}] takes {line.width} columns at size {line.size}, "
                    f"wider than {self.columns}"
                )


class Page:
    """Builds a Document: each call wraps its text so every line fits at its size."""

    def __init__(self, columns: int) -> None:
        self.columns = columns
        self.lines: list[Line] = []

    def add(
        self,
        text: str,
        *,
        size: int = 1,
        align: str = "left",
        bold: bool = False,
        indent: str = "",
    ) -> None:
        for part in wrap(printable(text), self.columns // size, indent=indent):
            self.lines.append(Line(part if align == "left" else part.strip(), size, align, bold))

    def add_largest(self, text: str, *, align: str = "center", bold: bool = True) -> None:
        """`text` on one line in the largest size it fits at (wrapped at size 1 if none)."""
        width = display_width(printable(text))
        size = next((s for s in (3, 2) if width * s <= self.columns), 1)
        self.add(text, size=size, align=align, bold=bold)

    def rule(self, char: str = "=") -> None:
        self.lines.append(Line(char * self.columns))

    def raw(self, lines: list[str]) -> None:
        """Lines laid out already (padded within the columns), left-aligned as they are."""
        self.lines.extend(Line(line.rstrip()) for line in lines)

    def document(self) -> Document:
        return Document(columns=self.columns, lines=tuple(self.lines))


def document_text(doc: Document) -> str:
    """The plain text of a document: each line padded for its alignment; ends with a newline."""
    out = []
    for line in doc.lines:
        free = doc.columns - display_width(line.text)
        pad = {"left": 0, "center": free // 2, "right": free}[line.align]
        out.append((" " * max(pad, 0) + line.text).rstrip())
    return "\n".join(out) + "\n"


def document_to_json(doc: Document) -> dict:
    """`{"columns": 48, "lines": [{"text": "..."}, {"text": "...", "size": 3, ...}]}`.

    Compact: a line's `size` 1, `align` "left" and `bold` false are left out.
    """
    lines = []
    for line in doc.lines:
        data: dict = {"text": line.text}
        if line.size != 1:
            data["size"] = line.size
        if line.align != "left":
            data["align"] = line.align
        if line.bold:
            data["bold"] = True
        lines.append(data)
    return {"columns": doc.columns, "lines": lines}


_LINE_KEYS = {"text", "size", "align", "bold"}


def document_from_json(data: object) -> Document:
    """The document `document_to_json` gave (defaults may be left out or given).

    Strict: ValueError saying what is wrong for anything else (unknown keys included, so a
    reader that does not know a newer style falls back to the plain text). Texts are made
    printable.
    """
    if not isinstance(data, dict):
        raise ValueError("a document must be an object")
    if set(data) != {"columns", "lines"}:
        raise ValueError("a document has exactly the keys columns and lines")
    lines = data["lines"]
    if not isinstance(lines, list):
        raise ValueError("lines must be a list")
    if len(lines) > MAX_LINES:
        raise ValueError(f"a document has at most {MAX_LINES} lines")
    parsed = []
    for index, item in enumerate(lines):
        if not isinstance(item, dict):
            raise ValueError(f"lines[{index}] must be an object")
        if unknown := set(item) - _LINE_KEYS:
            raise ValueError(f"lines[{index}] has unknown keys: {', '.join(sorted(unknown))}")
        text = item.get("text")
        if not isinstance(text, str):
            raise ValueError(f"lines[{index}].text must be a string")
        if len(text) > MAX_TEXT:
            raise ValueError(f"lines[{index}].text is longer than {MAX_TEXT} characters")
        try:
            parsed.append(
                Line(
                    text=printable(text),
                    size=item.get("size", 1),
                    align=item.get("align", "left"),
                    bold=item.get("bold", False),
                )
            )
        except ValueError as exc:
            raise ValueError(f"lines[{index}]: {exc}") from None
    return Document(columns=data["columns"], lines=tuple(parsed))
