"""TSPL bytes to pictures of the labels, as a TSC-compatible label printer would print them.

`SIZE` and `GAP` give the label and the gap in millimetres (dots at the printer's dpi);
`CLS` clears the image buffer, `TEXT`, `QRCODE`, `BAR`, `BOX` and `ERASE` draw into it and
`PRINT m[,n]` prints it m x n times. Labels are stacked top to bottom with the gap drawn
grey between them. Text past a label's edge is cut off there, as the printer does, and
noted. Other commands are listed in `markers` and drawn as red tags on the label.
"""

import codecs
import re
from dataclasses import dataclass, field

from PIL import Image, ImageDraw

from printing.labels import dots_per_mm
from printing.preview.canvas import (
    BLACK,
    GRAY,
    RED,
    WHITE,
    Glyphs,
    Rendering,
    TextRun,
    draw_band,
    draw_tag,
    find_cjk_font,
    font_missing_band,
    new_draw,
    new_image,
    paste_mask,
    qr_matrix,
    small_font,
    warn_font_missing,
)
from printing.preview.charsets import char_at, encoding_hint, multibyte_family

# Built-in bitmap fonts: (half-width cell, height) in dots; "TSS"/"TST" read GB / Big5.
FONTS = {
    "TSS24.BF2": (12, 24, "gb"),
    "TST24.BF2": (12, 24, "big5"),
    "TSS16.BF2": (8, 16, "gb"),
    "TST16.BF2": (8, 16, "big5"),
    "1": (8, 12, ""),
    "2": (12, 20, ""),
    "3": (16, 24, ""),
    "4": (24, 32, ""),
    "5": (32, 48, ""),
    "6": (14, 19, ""),
    "7": (21, 27, ""),
    "8": (14, 25, ""),
}
# Settings without ink: understood, nothing to draw.
SETTINGS = {"DIRECTION", "REFERENCE", "DENSITY", "SPEED", "SET", "CODEPAGE", "OFFSET", "SHIFT"}
_ESCAPES = {b'"': b'"', b"R": b"\r", b"L": b"\n", b"\\": b"\\"}
_NUMBER = re.compile(rb"\s*(-?\d+(?:\.\d+)?)\s*(mm|dot)?\s*", re.IGNORECASE)


@dataclass
class _Label:
    """The image buffer: what CLS clears and PRINT prints."""

    ops: list = field(default_factory=list)
    texts: list = field(default_factory=list)  # (x, y, w, h, text, bold, sw, sh)
    markers: list = field(default_factory=list)


def render_tspl(data: bytes, *, encoding: str = "gb18030", dpi: int = 203) -> Rendering:
    """The labels that `data` prints on a label printer of `dpi` dots per inch set to
    `encoding` (which a TSS font reads as GB, a TST font as Big5)."""
    codecs.lookup(encoding)
    return _Tspl(data, encoding, dpi).run()


class _Tspl:
    def __init__(self, data: bytes, encoding: str, dpi: int) -> None:
        self.data = data
        self.encoding = encoding
        self.dots_per_mm = dots_per_mm(dpi)
        self.glyphs = Glyphs(find_cjk_font())
        self.width = int(40 * self.dots_per_mm)
        self.height = int(30 * self.dots_per_mm)
        self.gap = int(2 * self.dots_per_mm)
        self.reference = (0, 0)
        self.buffer = _Label()
        self.printed: list[_Label] = []
        self.markers: list[str] = []
        self.notes: list[str] = []
        self.multibyte: list[bytes] = []
        self.undecodable = 0
        self.past_edge: list[str] = []
        self.sized = False

    def run(self) -> Rendering:
        for command in self.commands():
            self.command(command)
        return self.finish()

    def commands(self) -> list[bytes]:
        """Commands end with LF (CR LF); `<ESC>!?`-style status queries stand alone."""
        found = []
        data, i = self.data, 0
        while i < len(data):
            if data[i] == 0x1B:
                found.append(data[i : i + 3])
                i += 3
                continue
            end = data.find(b"\n", i)
            end = len(data) if end < 0 else end
            found.append(data[i:end].rstrip(b"\r"))
            i = end + 1
        return [command for command in found if command.strip()]

    def command(self, command: bytes) -> None:
        if command[:1] == b"\x1b":
            return  # a status query: the printer answers, prints nothing
        name, _, rest = command.strip().partition(b" ")
        name = name.decode("ascii", errors="replace").upper()
        args = _arguments(rest)
        handler = getattr(self, f"do_{name}", None)
        try:
            if handler is not None:
                handler(args)
                return
            if name in SETTINGS:
                if name == "REFERENCE":
                    self.reference = (self.dots(args[0]), self.dots(args[1]))
                return
        except (ValueError, IndexError, TypeError):
            pass  # arguments it cannot read: shown like an unknown command
        label = "unknown TSPL " + command[:24].decode("ascii", errors="replace")
        self.markers.append(label)
        self.buffer.markers.append(label)

    def dots(self, raw: bytes | str, *, mm: bool = False) -> int:
        match = _NUMBER.fullmatch(raw.encode() if isinstance(raw, str) else raw)
        if not match:
            raise ValueError(raw)
        value = float(match.group(1))
        unit = (match.group(2) or b"").lower()
        if unit == b"mm" or (mm and unit != b"dot"):
            return int(value * self.dots_per_mm)
        return int(value)

    # Commands

    def do_SIZE(self, args: list) -> None:
        self.width, self.height = self.dots(args[0], mm=True), self.dots(args[1], mm=True)
        self.sized = True

    def do_GAP(self, args: list) -> None:
        self.gap = self.dots(args[0], mm=True)

    def do_CLS(self, args: list) -> None:
        self.buffer = _Label()

    def do_PRINT(self, args: list) -> None:
        sets = int(args[0]) if args else 1
        copies = int(args[1]) if len(args) > 1 else 1
        self.printed += [self.buffer] * (max(0, sets) * max(1, copies))
        # The buffer stays: a second PRINT prints it again (CLS clears it).

    def do_BAR(self, args: list) -> None:
        x, y, w, h = (self.dots(a) for a in args[:4])
        x, y = x + self.reference[0], y + self.reference[1]
        self.buffer.ops.append(
            lambda draw, image: draw.rectangle((x, y, x + w - 1, y + h - 1), fill=BLACK)
        )

    def do_ERASE(self, args: list) -> None:
        x, y, w, h = (self.dots(a) for a in args[:4])
        x, y = x + self.reference[0], y + self.reference[1]
        self.buffer.ops.append(
            lambda draw, image: draw.rectangle((x, y, x + w - 1, y + h - 1), fill=WHITE)
        )

    def do_BOX(self, args: list) -> None:
        x, y, x2, y2, thick = (self.dots(a) for a in args[:5])
        rx, ry = self.reference
        box = (x + rx, y + ry, x2 + rx, y2 + ry)
        self.buffer.ops.append(lambda draw, image: draw.rectangle(box, outline=BLACK, width=thick))

    def do_TEXT(self, args: list) -> None:
        x, y = self.dots(args[0]) + self.reference[0], self.dots(args[1]) + self.reference[1]
        font = _text(args[2])
        rotation, sw, sh = int(args[3]), int(args[4]), int(args[5])
        content = args[-1]
        if not isinstance(content, _Quoted):
            raise ValueError("TEXT without a quoted text")
        half, height, charset = FONTS.get(font.upper(), FONTS["TSS24.BF2"])
        if font.upper() not in FONTS:
            self.notes.append(f"font {font!r} drawn as TSS24.BF2")
        chars = [(char, units * half) for char, units in self.decode(content.text, charset)]
        width = sum(w for _, w in chars) * sw
        tall = height * sh
        text = "".join(char for char, _ in chars)
        box_w, box_h = (tall, width) if rotation in (90, 270) else (width, tall)
        # Where the text's top left corner goes, turned with it.
        left, top = {
            0: (x, y),
            90: (x - tall, y),
            180: (x - width, y - tall),
            270: (x, y - width),
        }.get(rotation, (x, y))
        if rotation not in (0, 90, 180, 270):
            self.notes.append(f"TEXT rotation {rotation} drawn as 0")
        if left < 0 or top < 0 or left + box_w > self.width or top + box_h > self.height:
            self.past_edge.append(text)
        self.buffer.texts.append((left, top, box_w, box_h, text, sw, sh))
        glyphs = self.glyphs
        transpose = {
            90: Image.Transpose.ROTATE_270,
            180: Image.Transpose.ROTATE_180,
            270: Image.Transpose.ROTATE_90,
        }.get(rotation)

        def op(draw: ImageDraw.ImageDraw, image: Image.Image) -> None:
            base = [(char, w) for char, w in chars]
            if rotation == 0 and sw == sh == 1:
                glyphs.draw(draw, left, top, base, half=half, height=height, bold=False, fill=BLACK)
                return
            mask = Image.new("L", (max(1, width // sw), height), 0)
            glyphs.draw(new_draw(mask), 0, 0, base, half=half, height=height, bold=False, fill=255)
            mask = mask.resize((max(1, width), tall), Image.Resampling.NEAREST)
            if transpose is not None:
                mask = mask.transpose(transpose)
            paste_mask(image, mask, left, top, BLACK)

        self.buffer.ops.append(op)

    def do_QRCODE(self, args: list) -> None:
        x, y = self.dots(args[0]) + self.reference[0], self.dots(args[1]) + self.reference[1]
        ecc = args[2].decode("ascii").strip().upper() if isinstance(args[2], bytes) else "L"
        cell = int(args[3])
        content = args[-1]
        if not isinstance(content, _Quoted):
            raise ValueError("QRCODE without a quoted text")
        text = content.text.decode("utf-8", errors="replace")
        self.markers.append(f"qr:{text}")
        matrix = qr_matrix(text, ecc)
        size = (len(matrix) if matrix else 21) * cell

        def op(draw: ImageDraw.ImageDraw, image: Image.Image) -> None:
            if matrix is None:  # pragma: no mutate block (runs only without the qrcode package)
                draw.rectangle((x, y, x + size - 1, y + size - 1), outline=BLACK, width=2)
                draw.text((x + 3, y + size // 2), "QR", font=small_font(), fill=BLACK, anchor="lm")
                return
            cells = Image.new("L", (len(matrix), len(matrix)), 0)
            cells.putdata([255 if dark else 0 for row in matrix for dark in row])
            paste_mask(image, cells.resize((size, size), Image.Resampling.NEAREST), x, y, BLACK)

        self.buffer.ops.append(op)

    # Text

    def decode(self, raw: bytes, charset: str) -> list[tuple[str, int]]:
        """(character, cells) as the printer's font reads `raw`: a two-byte character takes
        two half-width cells (24 dots in the 24-dot fonts)."""
        if charset == "gb":
            encoding = self.encoding if multibyte_family(self.encoding).startswith("gb") else "gbk"
        elif charset == "big5":
            encoding = "big5"
        else:
            encoding = "cp437"
        if charset and encoding != self.encoding:
            self.notes.append(
                f"a {charset.upper()} font reads the text as {encoding}, "
                f"but the printer is set to {self.encoding}"
            )
        family = multibyte_family(encoding)
        out: list[tuple[str, int]] = []
        i = 0
        while i < len(raw):
            char, length, ok = char_at(raw, i, encoding, family)
            if not ok:
                self.undecodable += 1
            if length > 1:
                self.multibyte.append(raw[i : i + length])
            out.append((char, 2 if length > 1 else 1))
            i += length
        return out

    def finish(self) -> Rendering:
        top, band = 0, []
        if self.glyphs.missing:
            warn_font_missing(self.markers, self.notes)
            top, band = font_missing_band(self.width)
        labels = self.printed
        count = len(labels)
        if not count:
            self.notes.append("no PRINT: no label printed")
        if not self.sized:
            self.notes.append("no SIZE: drawn as a 40 x 30 mm label")
        shown = max(count, 1)
        height = top + shown * self.height + (shown - 1) * self.gap
        image = new_image(self.width, height)
        draw = new_draw(image)
        runs: list[TextRun] = []
        lines: list[str] = []
        cache: dict[int, Image.Image] = {}
        for number, label in enumerate(labels or [_Label()]):
            y0 = top + number * (self.height + self.gap)
            if id(label) not in cache:
                cache[id(label)] = self.draw_label(label)
            image.paste(cache[id(label)], (0, y0))
            if number and self.gap > 0:  # GAP 0: labels on continuous paper, no gap to draw
                draw.rectangle((0, y0 - self.gap, self.width - 1, y0 - 1), fill=GRAY)
            for left, ltop, w, h, text, sw, sh in label.texts:
                runs.append(TextRun(left, ltop + y0, w, h, text, False, sw, sh))
            if number:
                lines.append("")
            lines += _rows(label.texts)
        if band:
            draw_band(image, band)
        if self.undecodable:
            self.notes.append(
                f"{self.undecodable} undecodable characters in {self.encoding}: the text is "
                "in another encoding than the printer's font"
            )
        if hint := encoding_hint(self.multibyte, self.encoding):
            self.notes.append(hint)
        if self.past_edge:
            self.notes.append(
                f"{len(self.past_edge)} texts run past the label's edge and are cut off "
                f"(first: {self.past_edge[0][:30]!r})"
            )
        return Rendering(
            image=image,
            runs=runs,
            width_dots=self.width,
            cuts=0,
            markers=self.markers,
            notes=list(dict.fromkeys(self.notes)),
            labels=count,
            lines=lines,
        )

    def draw_label(self, label: _Label) -> Image.Image:
        """One label: drawn on its own picture, so what passes its edge is cut off."""
        picture = new_image(self.width, self.height)
        draw = new_draw(picture)
        for op in label.ops:
            op(draw, picture)
        for number, marker in enumerate(label.markers):
            draw_tag(draw, 2, 2 + 22 * number, marker, fill=RED)
        return picture


@dataclass(frozen=True)
class _Quoted:
    text: bytes


def _arguments(rest: bytes) -> list:
    """Comma-separated arguments: bytes as written, or `_Quoted` for a "..." string with
    the manual's escapes (`\\["]` is a quote) read back, byte by byte as the printer does."""
    args: list = []
    i = 0
    while i < len(rest):
        while i < len(rest) and rest[i] in b" \t":
            i += 1
        if i < len(rest) and rest[i] == 0x22:
            out = bytearray()
            i += 1
            while i < len(rest) and rest[i] != 0x22:
                if rest[i : i + 2] == b"\\[":
                    close = rest.find(b"]", i + 2)
                    name = rest[i + 2 : close] if close > 0 else b""
                    if name in _ESCAPES:
                        out += _ESCAPES[name]
                        i = close + 1
                        continue
                out.append(rest[i])
                i += 1
            args.append(_Quoted(bytes(out)))
            comma = rest.find(b",", i)
            i = len(rest) if comma < 0 else comma + 1
        else:
            comma = rest.find(b",", i)
            end = len(rest) if comma < 0 else comma
            args.append(rest[i:end].strip())
            i = end + 1
    return args


def _text(arg) -> str:
    return arg.text.decode("ascii", errors="replace") if isinstance(arg, _Quoted) else arg.decode()


def _rows(texts: list) -> list[str]:
    """A label's texts as rows a person reads: texts standing on one baseline, left to right."""
    rows: dict[int, list] = {}
    for left, top, _w, h, text, _sw, _sh in texts:
        rows.setdefault(top + h, []).append((left, text))
    return [" ".join(text for _, text in sorted(row)) for _, row in sorted(rows.items())]
