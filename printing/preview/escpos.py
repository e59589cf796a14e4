"""ESC/POS bytes to a picture of the receipt paper, as a thermal printer would print them.

The commands `printing.escpos_encode` emits are interpreted (and a few more a receipt may
carry); every other command is drawn as a red box of its bytes and listed in `markers`.
Dots: Font A is 12 x 24 per half-width character, a CJK character 24 x 24; a line is 30 dots
high by default (ESC 2) or the tallest character plus 6; text that passes the right edge
goes on on the next line, as the printer does.
"""

import codecs
import functools
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image, ImageDraw

from printing.preview.canvas import (
    BLACK,
    BLUE,
    GRAY,
    RED,
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
    tag_width,
    warn_font_missing,
)
from printing.preview.charsets import REPLACEMENT, char_at, encoding_hint, multibyte_family

ESC, GS, FS, DLE = 0x1B, 0x1D, 0x1C, 0x10
DEFAULT_SPACING = 30
# The printable width of the paper (mm), not the roll's.
PRINTABLE_MM = {80: 72, 58: 48}
# ESC t n: the code pages printers number alike (Epson's table).
CODE_TABLES = {
    0: "cp437",
    2: "cp850",
    3: "cp860",
    4: "cp863",
    5: "cp865",
    16: "cp1252",
    17: "cp866",
    18: "cp852",
    19: "cp858",
}
QR_ECC = {48: "L", 49: "M", 50: "Q", 51: "H"}
Op = Callable[[Image.Image, ImageDraw.ImageDraw], None]


def printable_dots(paper_width: int, dpi: int = 203) -> int:
    """576 dots for 80 mm paper, 384 for 58 mm at 203 dpi (a whole number of bytes)."""
    mm = PRINTABLE_MM[min(PRINTABLE_MM, key=lambda width: abs(width - paper_width))]
    return round(mm * dpi / 25.4 / 8) * 8


@dataclass(frozen=True)
class _Style:
    bold: bool = False
    underline: bool = False
    scale_w: int = 1
    scale_h: int = 1
    font_b: bool = False


@dataclass
class _Cell:
    """One thing on the line being built: a character, or a marker box (`text` None)."""

    text: str | None
    width: int  # dots, scaled
    height: int  # dots, scaled
    half: int  # the half-width cell of its font, unscaled
    base_h: int
    style: _Style
    label: str = ""
    bad: bool = False


def render_escpos(
    data: bytes, *, paper_width: int = 80, encoding: str = "gb18030", dpi: int = 203
) -> Rendering:
    """The receipt paper that `data` prints on a printer set to `encoding`, `paper_width`
    mm wide. LookupError for an encoding Python does not know."""
    codecs.lookup(encoding)
    return _EscPos(data, printable_dots(paper_width, dpi), encoding).run()


class _EscPos:
    def __init__(self, data: bytes, width: int, encoding: str) -> None:
        self.data = data
        self.width = width
        self.encoding = encoding
        self.family = multibyte_family(encoding)
        self.glyphs = Glyphs(find_cjk_font())
        self.ops: list[Op] = []
        self.runs: list[TextRun] = []
        self.lines: list[str] = []
        self.markers: list[str] = []
        self.notes: list[str] = []
        self.cuts = 0
        self.y = 0
        self.top = 0
        self.line: list[_Cell] = []
        self.line_width = 0
        self.line_align = 0
        self.undecodable = 0
        self.multibyte: list[bytes] = []
        self.codepage_bytes = 0
        self.wrapped: list[str] = []
        self.discarded = 0
        self.qr_data = b""
        self.qr_module = 3
        self.qr_ecc = "L"
        self.reset()

    def reset(self) -> None:
        """ESC @: the printer's settings at power-on."""
        self.style = _Style()
        self.kanji_w = self.kanji_h = 1
        self.align = 0
        self.spacing = DEFAULT_SPACING
        # A printer set to a Chinese encoding starts in Chinese mode (hence FS .).
        self.chinese = bool(self.family)
        self.codepage = self.encoding if not self.family else "cp437"

    # The byte stream

    def run(self) -> Rendering:
        if self.glyphs.missing:
            warn_font_missing(self.markers, self.notes)
            self.top, band = font_missing_band(self.width)
        data, i = self.data, 0
        handlers = {ESC: self.esc, GS: self.gs, FS: self.fs, DLE: self.dle}
        while i < len(data):
            byte = data[i]
            if byte == 0x0A:
                self.print_line(feed=True)
                i += 1
            elif byte == 0x0D:
                i += 1  # CR: ignored when followed by LF (auto line feed off), as sent here
            elif byte == 0x09:
                used = self.line_width if self.line else 0
                stop = 8 * 12
                for _ in range((used // stop + 1) * stop // 12 - used // 12):
                    self.put(" ", True)
                i += 1
            elif byte in handlers:
                i = handlers[byte](i)
            elif byte < 0x20 or byte == 0x7F:
                self.unknown(data[i : i + 1])
                i += 1
            else:
                i = self.char(i)
        if any(cell.text is not None for cell in self.line):
            count = sum(1 for cell in self.line if cell.text is not None)
            self.notes.append(
                f"{count} characters at the end are not printed: no line feed after them"
            )
            self.line = [cell for cell in self.line if cell.text is None]
            self.line_width = sum(cell.width for cell in self.line)
        if self.line:
            self.print_line(feed=False)
        return self.finish(band if self.top else [])

    def char(self, i: int) -> int:
        if self.chinese and self.family:
            text, length, ok = char_at(self.data, i, self.encoding, self.family)
        else:
            text, length, ok = char_at(self.data, i, self.codepage, "")
            if self.data[i] >= 0x80 and self.family:
                self.codepage_bytes += 1
        if not ok:
            self.undecodable += 1
        if length > 1:
            self.multibyte.append(self.data[i : i + length])
        # A multi-byte character takes a CJK cell, whatever it decodes to.
        self.put(text, length == 1, bad=not ok)
        return i + length

    def put(self, text: str, half: bool, *, bad: bool = False) -> None:
        style = self.style
        base_half, base_h = (9, 17) if style.font_b and half else (12, 24)
        if half:
            sw, sh, width = style.scale_w, style.scale_h, base_half
        else:
            sw = max(style.scale_w, self.kanji_w)
            sh = max(style.scale_h, self.kanji_h)
            width = 2 * base_half
        drawn = _Style(style.bold, style.underline, sw, sh, style.font_b)
        self.add(_Cell(text, width * sw, base_h * sh, base_half, base_h, drawn, bad=bad))

    def add(self, cell: _Cell) -> None:
        if self.line and self.line_width + cell.width > self.width:
            self.wrapped.append(self.line_text())
            self.print_line(feed=True)
        if not self.line:
            self.line_align = self.align
            self.line_width = 0
        self.line.append(cell)
        self.line_width += cell.width

    def line_text(self) -> str:
        return "".join(cell.text for cell in self.line if cell.text is not None)

    def unknown(self, raw: bytes) -> None:
        label = "unknown " + raw.hex(" ")
        self.markers.append(label)
        width = tag_width(label)
        self.add(_Cell(None, width, 24, 12, 24, _Style(), label=label))

    # Commands

    def esc(self, i: int) -> int:
        data = self.data
        if i + 1 >= len(data):
            self.unknown(data[i:])
            return len(data)
        code = data[i + 1]
        arg = data[i + 2] if i + 2 < len(data) else 0
        if code == 0x40:  # ESC @
            if text := [cell for cell in self.line if cell.text is not None]:
                self.discarded += len(text)
                self.line = [cell for cell in self.line if cell.text is None]
                self.line_width = sum(cell.width for cell in self.line)
            self.line_width = sum(cell.width for cell in self.line)
            self.reset()
            return i + 2
        if code == 0x32:  # ESC 2
            self.spacing = DEFAULT_SPACING
            return i + 2
        one_arg = {
            0x45: lambda n: self.set_style(bold=bool(n & 1)),  # ESC E
            0x47: lambda n: self.set_style(bold=bool(n & 1)),  # ESC G double strike
            0x2D: lambda n: self.set_style(underline=bool(n & 3)),  # ESC -
            0x4D: lambda n: self.set_style(font_b=n in (1, 49)),  # ESC M
            0x61: self.set_align,  # ESC a
            0x21: self.esc_bang,  # ESC !
            0x74: self.code_table,  # ESC t
            0x33: lambda n: setattr(self, "spacing", n),  # ESC 3
            0x64: lambda n: self.feed(n * self.spacing),  # ESC d
            0x4A: self.feed,  # ESC J
            0x52: lambda n: None,  # ESC R international set: our text has no # $ @ [ ] ...
        }
        if code in one_arg:
            if i + 2 >= len(data):
                self.unknown(data[i:])
                return len(data)
            one_arg[code](arg)
            return i + 3
        if code == 0x70 and i + 4 < len(data):  # ESC p m t1 t2: drawer kick
            self.tag("drawer")
            return i + 5
        if code == 0x42 and i + 3 < len(data):  # ESC B n t: buzzer
            self.tag("buzzer")
            return i + 4
        if code == 0x28 and i + 4 < len(data):  # ESC ( fn pL pH ...
            end = i + 5 + data[i + 3] + 256 * data[i + 4]
            if data[i + 2] == 0x41:  # ESC ( A: beeper
                self.tag("buzzer")
            else:
                self.unknown(data[i : i + 3])
            return min(end, len(data))
        if code == 0x2A and i + 4 < len(data):  # ESC * m nL nH: a bit image, not drawn
            columns = data[i + 3] + 256 * data[i + 4]
            self.unknown(data[i : i + 3])
            return min(len(data), i + 5 + columns * (3 if data[i + 2] in (32, 33) else 1))
        self.unknown(data[i : i + 2])
        return i + 2

    def gs(self, i: int) -> int:
        data = self.data
        if i + 1 >= len(data):
            self.unknown(data[i:])
            return len(data)
        code = data[i + 1]
        if code == 0x21 and i + 2 < len(data):  # GS ! n
            n = data[i + 2]
            self.set_style(scale_w=(n >> 4 & 7) + 1, scale_h=(n & 7) + 1)
            return i + 3
        if code == 0x56 and i + 2 < len(data):  # GS V m [n]
            mode = data[i + 2]
            if mode in (0, 1, 48, 49):
                self.cut("full" if mode in (0, 48) else "partial", 0)
                return i + 3
            if mode in (65, 66) and i + 3 < len(data):
                self.cut("full" if mode == 65 else "partial", data[i + 3])
                return i + 4
            self.unknown(data[i : i + 3])
            return i + 3
        if code == 0x28 and i + 4 < len(data):  # GS ( fn pL pH ...
            end = min(len(data), i + 5 + data[i + 3] + 256 * data[i + 4])
            if data[i + 2] == 0x6B:  # GS ( k: 2D codes
                self.qr(data[i + 5 : end], data[i : i + 3])
            else:
                self.unknown(data[i : i + 3])
            return end
        if code == 0x76 and i + 7 < len(data) and data[i + 2] in (0, 48):  # GS v 0 raster
            return self.raster(i)
        if code in (0x48, 0x68, 0x77, 0x66, 0x61, 0x72, 0x49) and i + 2 < len(data):
            # Bar code settings (no ink of their own), status queries: nothing printed.
            return i + 3
        if code == 0x6B and i + 2 < len(data):  # GS k m ...: a bar code, drawn as a box
            return self.barcode(i)
        self.unknown(data[i : i + 2])
        return i + 2

    def fs(self, i: int) -> int:
        data = self.data
        code = data[i + 1] if i + 1 < len(data) else None
        if code == 0x26:  # FS &
            self.chinese = True
            return i + 2
        if code == 0x2E:  # FS .
            self.chinese = False
            return i + 2
        if code == 0x21 and i + 2 < len(data):  # FS ! n: Chinese characters' size
            n = data[i + 2]
            self.kanji_w, self.kanji_h = (2 if n & 4 else 1), (2 if n & 8 else 1)
            return i + 3
        if code == 0x57 and i + 2 < len(data):  # FS W n: quadruple
            self.kanji_w = self.kanji_h = 2 if data[i + 2] & 1 else 1
            return i + 3
        if code in (0x2D, 0x43) and i + 2 < len(data):  # FS - underline, FS C code system
            return i + 3
        self.unknown(data[i : i + 2])
        return i + 2

    def dle(self, i: int) -> int:
        data = self.data
        code = data[i + 1] if i + 1 < len(data) else None
        if code in (0x04, 0x05) and i + 2 < len(data):  # DLE EOT / DLE ENQ: status, no ink
            return i + 3
        if code == 0x14 and i + 4 < len(data):  # DLE DC4 fn ...
            if data[i + 2] == 1:
                self.tag("drawer")
            else:
                self.unknown(data[i : i + 3])
            return i + 5
        self.unknown(data[i : i + 2])
        return i + 2

    # State

    def set_style(self, **changes) -> None:
        values = {**self.style.__dict__, **changes}
        self.style = _Style(**values)

    def set_align(self, n: int) -> None:
        self.align = {0: 0, 1: 1, 2: 2, 48: 0, 49: 1, 50: 2}.get(n, self.align)
        if not self.line:
            self.line_align = self.align

    def esc_bang(self, n: int) -> None:
        self.set_style(
            font_b=bool(n & 1),
            bold=bool(n & 8),
            scale_h=2 if n & 16 else 1,
            scale_w=2 if n & 32 else 1,
            underline=bool(n & 128),
        )

    def code_table(self, n: int) -> None:
        if n in CODE_TABLES:
            self.codepage = CODE_TABLES[n]
        else:
            self.notes.append(
                f"ESC t {n}: a code table the preview does not know, kept {self.codepage}"
            )

    # Drawing

    def print_line(self, *, feed: bool) -> None:
        """Print the line buffer (LF, a wrap, a feed) and move the paper on."""
        cells, self.line = self.line, []
        texts = [cell for cell in cells if cell.text is not None]
        if not cells:
            if feed:
                self.lines.append("")
                self.y += self.spacing
            return
        tallest = max(cell.height for cell in cells)
        used = sum(cell.width for cell in cells)
        free = max(0, self.width - used)
        x = (0, free // 2, free)[self.line_align]
        top = self.top + self.y
        index = 0
        while index < len(cells):
            cell = cells[index]
            if cell.text is None:
                self.marker_box(x, top + tallest - cell.height, cell)
                x += cell.width
                index += 1
                continue
            end = index
            while (
                end < len(cells)
                and cells[end].text is not None
                and (cells[end].style, cells[end].half) == (cell.style, cell.half)
            ):
                end += 1
            group = cells[index:end]
            x = self.text_run(x, top + tallest, group)
            index = end
        if texts:
            self.lines.append("".join(cell.text for cell in texts))
        self.y += max(self.spacing, tallest + DEFAULT_SPACING - 24)

    def text_run(self, x: int, bottom: int, group: list[_Cell]) -> int:
        style = group[0].style
        width = sum(cell.width for cell in group)
        height = max(cell.height for cell in group)
        y = bottom - height
        text = "".join(cell.text or "" for cell in group)
        self.runs.append(
            TextRun(x, y, width, height, text, style.bold, style.scale_w, style.scale_h)
        )
        chars = [(cell.text or "", cell.width // style.scale_w) for cell in group]
        half, base_h = group[0].half, group[0].base_h
        draw_chars = functools.partial(self.glyphs.draw, chars=chars, half=half, height=base_h)
        bad = [(x + sum(c.width for c in group[:k]), c.width) for k, c in enumerate(group) if c.bad]

        def op(image: Image.Image, draw: ImageDraw.ImageDraw) -> None:
            if style.scale_w == style.scale_h == 1:
                draw_chars(draw, x, y, bold=style.bold, fill=BLACK)
            else:
                mask = Image.new("L", (width // style.scale_w, base_h), 0)
                draw_chars(new_draw(mask), 0, 0, bold=style.bold, fill=255)
                mask = mask.resize((width, height), Image.Resampling.NEAREST)
                paste_mask(image, mask, x, y, BLACK)
            if style.underline:
                draw.line((x, y + height - 1, x + width - 1, y + height - 1), fill=BLACK)
            for bx, bw in bad:  # undecodable bytes: the replacement character, outlined
                draw.rectangle((bx, y, bx + bw - 1, y + height - 1), outline=RED)

        self.ops.append(op)
        return x + width

    def marker_box(self, x: int, y: int, cell: _Cell) -> None:
        self.ops.append(lambda image, draw: draw_tag(draw, x, y + 2, cell.label, height=20))

    def tag(self, label: str) -> None:
        """A marker on a row of its own: the printer acts (drawer, buzzer), prints nothing."""
        self.markers.append(label)
        if self.line:
            self.print_line(feed=True)
        y = self.top + self.y + 2
        self.ops.append(lambda image, draw: draw_tag(draw, 4, y, label, fill=BLUE))
        self.y += 24

    def feed(self, dots: int) -> None:
        if self.line:
            self.print_line(feed=True)
        self.y += dots

    def cut(self, kind: str, feed: int) -> None:
        if self.line:
            self.print_line(feed=True)
        self.y += feed
        self.cuts += 1
        y = self.top + self.y + 8
        width = self.width
        label = f"{kind} cut"

        def op(image: Image.Image, draw: ImageDraw.ImageDraw) -> None:
            for x in range(0, width, 12):
                draw.line((x, y, x + 6, y), fill=BLUE, width=2)
            font = small_font(12)
            box = (width - int(font.getlength(label)) - 10, y - 8)
            draw.rectangle((box[0], y - 8, width - 1, y + 8), fill=0)
            draw.text((box[0] + 4, y), label, font=font, fill=BLUE, anchor="lm")

        self.ops.append(op)
        self.y += 18

    def qr(self, body: bytes, head: bytes) -> None:
        if len(body) < 2 or body[0] not in (0x31, 49):
            self.unknown(head + body[:2])
            return
        fn = body[1]
        if fn == 0x43 and len(body) > 2:  # module size
            self.qr_module = max(1, min(16, body[2]))
        elif fn == 0x45 and len(body) > 2:
            self.qr_ecc = QR_ECC.get(body[2], "L")
        elif fn == 0x50:  # store the data (after m = 48)
            self.qr_data = body[3:]
        elif fn == 0x51:  # print
            self.print_qr()
        elif fn not in (0x41, 0x52):  # model; size query
            self.unknown(head + body[:2])

    def print_qr(self) -> None:
        if self.line:
            self.print_line(feed=True)
        text = self.qr_data.decode("utf-8", errors="replace")
        self.markers.append(f"qr:{text}")
        matrix = qr_matrix(text, self.qr_ecc)
        size = (len(matrix) if matrix else 21) * self.qr_module
        x = (0, (self.width - size) // 2, self.width - size)[self.align]
        y = self.top + self.y

        def op(image: Image.Image, draw: ImageDraw.ImageDraw) -> None:
            if matrix is None:
                draw.rectangle((x, y, x + size - 1, y + size - 1), outline=BLACK, width=3)
                draw.text((x + 6, y + size // 2), f"QR {text}", font=small_font(), fill=BLACK,
                          anchor="lm")  # fmt: skip
                return
            cells = Image.new("L", (len(matrix), len(matrix)), 0)
            cells.putdata([255 if dark else 0 for row in matrix for dark in row])
            mask = cells.resize((size, size), Image.Resampling.NEAREST)
            paste_mask(image, mask, x, y, BLACK)

        self.ops.append(op)
        self.y += size + 6

    def raster(self, i: int) -> int:
        """GS v 0 m xL xH yL yH d...: a raster image (python-escpos's QR without native QR)."""
        data = self.data
        mode = data[i + 3]
        row_bytes = data[i + 4] + 256 * data[i + 5]
        rows = data[i + 6] + 256 * data[i + 7]
        end = i + 8 + row_bytes * rows
        bits = data[i + 8 : end]
        if len(bits) < row_bytes * rows or not row_bytes or not rows:
            self.unknown(data[i : i + 3])
            return min(end, len(data))
        if self.line:
            self.print_line(feed=True)
        picture = Image.frombytes("1", (row_bytes * 8, rows), bits)
        scale_w, scale_h = (2 if mode & 1 else 1), (2 if mode & 2 else 1)
        mask = picture.convert("L").resize(
            (row_bytes * 8 * scale_w, rows * scale_h), Image.Resampling.NEAREST
        )
        x = (0, (self.width - mask.width) // 2, self.width - mask.width)[self.align]
        y = self.top + self.y
        self.markers.append(f"image {mask.width}x{mask.height}")
        self.ops.append(lambda image, draw: paste_mask(image, mask, max(0, x), y, BLACK))
        self.y += mask.height
        return end

    def barcode(self, i: int) -> int:
        data = self.data
        kind = data[i + 2]
        if kind <= 6:
            end = data.find(b"\x00", i + 3)
            end = len(data) if end < 0 else end
            content, after = data[i + 3 : end], end + 1
        elif i + 3 < len(data):
            content = data[i + 4 : i + 4 + data[i + 3]]
            after = i + 4 + data[i + 3]
        else:
            self.unknown(data[i : i + 3])
            return len(data)
        if self.line:
            self.print_line(feed=True)
        text = content.decode("ascii", errors="replace")
        self.markers.append(f"barcode:{text}")
        y = self.top + self.y
        width = self.width

        def op(image: Image.Image, draw: ImageDraw.ImageDraw) -> None:
            for x in range(width // 4, 3 * width // 4, 6):
                draw.rectangle((x, y, x + (2 if x % 18 else 3), y + 60), fill=GRAY)
            draw.text((width // 2, y + 70), text, font=small_font(), fill=BLACK, anchor="mm")

        self.ops.append(op)
        self.y += 84
        return min(after, len(data))

    def finish(self, band: list[str]) -> Rendering:
        if self.undecodable:
            self.notes.append(
                f"{self.undecodable} undecodable characters in {self.encoding} "
                "(drawn as \N{REPLACEMENT CHARACTER} in a red box): the bytes are in another "
                "encoding than the printer's"
            )
        if hint := encoding_hint(self.multibyte, self.encoding):
            self.notes.append(hint)
        if self.codepage_bytes:
            self.notes.append(
                f"Chinese mode is off: {self.codepage_bytes} bytes >= 0x80 print as "
                f"{self.codepage} characters, not as {self.encoding} text"
            )
        if self.discarded:
            self.notes.append(
                f"{self.discarded} characters discarded by ESC @ (no line feed before it)"
            )
        if self.wrapped:
            self.notes.append(
                f"{len(self.wrapped)} lines wider than the paper went on on the next line "
                f"(first: {self.wrapped[0][:40]!r})"
            )
        height = self.top + self.y + 12
        image = new_image(self.width, height)
        draw = new_draw(image)
        for op in self.ops:
            op(image, draw)
        if band:
            draw_band(image, band)
        return Rendering(
            image=image,
            runs=self.runs,
            width_dots=self.width,
            cuts=self.cuts,
            markers=self.markers,
            notes=self.notes,
            lines=self.lines,
        )


# REPLACEMENT is what an undecodable character's text is: tests compare with it.
__all__ = ["REPLACEMENT", "printable_dots", "render_escpos"]
