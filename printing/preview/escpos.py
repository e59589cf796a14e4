"""ESC/POS bytes to a picture of the receipt paper, as a thermal printer would print them.

The commands `printing.escpos_encode` emits are interpreted (and a few more a receipt may
carry); every other command is drawn as a red box of its bytes and listed in `markers`.
Dots: Font A is 12 x 24 per half-width character, a CJK character 24 x 24; a line is 30 dots
high by default (ESC 2) or the tallest character plus 6; text that passes the right edge
goes on on the next line, as the printer does.

This module reads the byte stream and keeps the line being built; `escpos_text` decodes the
characters (Chinese mode, code pages, sizes) and `escpos_paper` draws what prints.
"""

import codecs

from printing.preview.canvas import Rendering, tag_width
from printing.preview.charsets import REPLACEMENT
from printing.preview.escpos_paper import DEFAULT_SPACING, Paper
from printing.preview.escpos_text import Cell, Style, TextMode

ESC, GS, FS, DLE = 0x1B, 0x1D, 0x1C, 0x10
# The printable width of the paper (mm), not the roll's.
PRINTABLE_MM = {80: 72, 58: 48}
QR_ECC = {48: "L", 49: "M", 50: "Q", 51: "H"}


def printable_dots(paper_width: int, dpi: int = 203) -> int:
    """576 dots for 80 mm paper, 384 for 58 mm at 203 dpi (a whole number of bytes)."""
    mm = PRINTABLE_MM[min(PRINTABLE_MM, key=lambda width: abs(width - paper_width))]
    return round(mm * dpi / 25.4 / 8) * 8


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
        self.text = TextMode(encoding)
        self.paper = Paper(width)
        self.line: list[Cell] = []
        self.line_width = 0
        self.line_align = 0
        self.wrapped: list[str] = []
        self.discarded = 0
        self.qr_data = b""
        self.qr_module = 3
        self.qr_ecc = "L"
        self.reset()

    def reset(self) -> None:
        """ESC @: the printer's settings at power-on."""
        self.text.reset()
        self.align = 0
        self.spacing = DEFAULT_SPACING

    # The byte stream

    def run(self) -> Rendering:
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
                    self.add(self.text.cell(" ", True))
                i += 1
            elif byte in handlers:
                i = handlers[byte](i)
            elif byte < 0x20 or byte == 0x7F:
                self.unknown(data[i : i + 1])
                i += 1
            else:
                cell, i = self.text.char(data, i)
                self.add(cell)
        if any(cell.text is not None for cell in self.line):
            count = sum(1 for cell in self.line if cell.text is not None)
            self.paper.notes.append(
                f"{count} characters at the end are not printed: no line feed after them"
            )
            self.line = [cell for cell in self.line if cell.text is None]
            self.line_width = sum(cell.width for cell in self.line)
        if self.line:
            self.print_line(feed=False)
        return self.finish()

    # The line being built

    def add(self, cell: Cell) -> None:
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

    def print_line(self, *, feed: bool) -> None:
        cells, self.line = self.line, []
        self.paper.print_line(cells, align=self.line_align, spacing=self.spacing, feed=feed)

    def flush(self) -> None:
        """Print what the line holds before something that takes rows of its own."""
        if self.line:
            self.print_line(feed=True)

    def unknown(self, raw: bytes) -> None:
        label = "unknown " + raw.hex(" ")
        self.paper.markers.append(label)
        width = tag_width(label)
        self.add(Cell(None, width, 24, 12, 24, Style(), label=label))

    # Commands

    def esc(self, i: int) -> int:
        data, text = self.data, self.text
        if i + 1 >= len(data):
            self.unknown(data[i:])
            return len(data)
        code = data[i + 1]
        arg = data[i + 2] if i + 2 < len(data) else 0
        if code == 0x40:  # ESC @
            if printed := [cell for cell in self.line if cell.text is not None]:
                self.discarded += len(printed)
                self.line = [cell for cell in self.line if cell.text is None]
                self.line_width = sum(cell.width for cell in self.line)
            self.line_width = sum(cell.width for cell in self.line)
            self.reset()
            return i + 2
        if code == 0x32:  # ESC 2
            self.spacing = DEFAULT_SPACING
            return i + 2
        one_arg = {
            0x45: lambda n: text.set_style(bold=bool(n & 1)),  # ESC E
            0x47: lambda n: text.set_style(bold=bool(n & 1)),  # ESC G double strike
            0x2D: lambda n: text.set_style(underline=bool(n & 3)),  # ESC -
            0x4D: lambda n: text.set_style(font_b=n in (1, 49)),  # ESC M
            0x61: self.set_align,  # ESC a
            0x21: text.esc_bang,  # ESC !
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
            self.text.set_style(scale_w=(n >> 4 & 7) + 1, scale_h=(n & 7) + 1)
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
        data, text = self.data, self.text
        code = data[i + 1] if i + 1 < len(data) else None
        if code == 0x26:  # FS &
            text.chinese = True
            return i + 2
        if code == 0x2E:  # FS .
            text.chinese = False
            return i + 2
        if code == 0x21 and i + 2 < len(data):  # FS ! n: Chinese characters' size
            n = data[i + 2]
            text.kanji_w, text.kanji_h = (2 if n & 4 else 1), (2 if n & 8 else 1)
            return i + 3
        if code == 0x57 and i + 2 < len(data):  # FS W n: quadruple
            text.kanji_w = text.kanji_h = 2 if data[i + 2] & 1 else 1
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

    # Settings and things printed on rows of their own

    def set_align(self, n: int) -> None:
        self.align = {0: 0, 1: 1, 2: 2, 48: 0, 49: 1, 50: 2}.get(n, self.align)
        if not self.line:
            self.line_align = self.align

    def code_table(self, n: int) -> None:
        if note := self.text.code_table(n):
            self.paper.notes.append(note)

    def tag(self, label: str) -> None:
        self.flush()
        self.paper.tag(label)

    def feed(self, dots: int) -> None:
        self.flush()
        self.paper.y += dots

    def cut(self, kind: str, feed: int) -> None:
        self.flush()
        self.paper.cut(kind, feed)

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
            self.flush()
            text = self.qr_data.decode("utf-8", errors="replace")
            self.paper.qr(text, ecc=self.qr_ecc, module=self.qr_module, align=self.align)
        elif fn not in (0x41, 0x52):  # model; size query
            self.unknown(head + body[:2])

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
        self.flush()
        self.paper.raster(bits, row_bytes=row_bytes, rows=rows, mode=mode, align=self.align)
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
        self.flush()
        self.paper.barcode(content.decode("ascii", errors="replace"))
        return min(after, len(data))

    def finish(self) -> Rendering:
        notes = self.paper.notes
        notes.extend(self.text.notes())
        if self.discarded:
            notes.append(f"{self.discarded} characters discarded by ESC @ (no line feed before it)")
        if self.wrapped:
            notes.append(
                f"{len(self.wrapped)} lines wider than the paper went on on the next line "
                f"(first: {self.wrapped[0][:40]!r})"
            )
        return self.paper.render()


# REPLACEMENT is what an undecodable character's text is: tests compare with it.
__all__ = ["REPLACEMENT", "printable_dots", "render_escpos"]
