"""The receipt paper an ESC/POS stream prints on: lines of text, markers, cuts, QR codes,
raster images and bar codes, drawn at the end onto one picture.

Everything is recorded as a drawing operation while the stream is read, since the paper's
height is known only at its end. A line is 30 dots high by default (ESC 2) or the tallest
character plus 6.
"""

import functools
from collections.abc import Callable

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
    warn_font_missing,
)
from printing.preview.escpos_text import Cell

DEFAULT_SPACING = 30
Op = Callable[[Image.Image, ImageDraw.ImageDraw], None]


class Paper:
    """The paper `width` dots wide, fed on as things print (`y`), and what the picture says."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.glyphs = Glyphs(find_cjk_font())
        self.ops: list[Op] = []
        self.runs: list[TextRun] = []
        self.lines: list[str] = []
        self.markers: list[str] = []
        self.notes: list[str] = []
        self.cuts = 0
        self.y = 0
        self.top = 0
        self.band: list[str] = []
        if self.glyphs.missing:
            warn_font_missing(self.markers, self.notes)
            self.top, self.band = font_missing_band(self.width)

    def print_line(self, cells: list[Cell], *, align: int, spacing: int, feed: bool) -> None:
        """Print a line's cells (LF, a wrap, a feed) and move the paper on."""
        texts = [cell for cell in cells if cell.text is not None]
        if not cells:
            if feed:
                self.lines.append("")
                self.y += spacing
            return
        tallest = max(cell.height for cell in cells)
        used = sum(cell.width for cell in cells)
        free = max(0, self.width - used)
        x = (0, free // 2, free)[align]
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
        self.y += max(spacing, tallest + DEFAULT_SPACING - 24)

    def text_run(self, x: int, bottom: int, group: list[Cell]) -> int:
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

    def marker_box(self, x: int, y: int, cell: Cell) -> None:
        self.ops.append(lambda image, draw: draw_tag(draw, x, y + 2, cell.label, height=20))

    def tag(self, label: str) -> None:
        """A marker on a row of its own: the printer acts (drawer, buzzer), prints nothing."""
        self.markers.append(label)
        y = self.top + self.y + 2
        self.ops.append(lambda image, draw: draw_tag(draw, 4, y, label, fill=BLUE))
        self.y += 24

    def cut(self, kind: str, feed: int) -> None:
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

    def qr(self, text: str, *, ecc: str, module: int, align: int) -> None:
        self.markers.append(f"qr:{text}")
        matrix = qr_matrix(text, ecc)
        size = (len(matrix) if matrix else 21) * module
        x = (0, (self.width - size) // 2, self.width - size)[align]
        y = self.top + self.y

        def op(image: Image.Image, draw: ImageDraw.ImageDraw) -> None:
            if matrix is None:  # pragma: no mutate block (runs only without the qrcode package)
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

    def raster(self, bits: bytes, *, row_bytes: int, rows: int, mode: int, align: int) -> None:
        """A GS v 0 raster image, `mode` doubling its width (bit 0) and height (bit 1)."""
        picture = Image.frombytes("1", (row_bytes * 8, rows), bits)
        scale_w, scale_h = (2 if mode & 1 else 1), (2 if mode & 2 else 1)
        mask = picture.convert("L").resize(
            (row_bytes * 8 * scale_w, rows * scale_h), Image.Resampling.NEAREST
        )
        x = (0, (self.width - mask.width) // 2, self.width - mask.width)[align]
        y = self.top + self.y
        self.markers.append(f"image {mask.width}x{mask.height}")
        self.ops.append(lambda image, draw: paste_mask(image, mask, max(0, x), y, BLACK))
        self.y += mask.height

    def barcode(self, text: str) -> None:
        """A bar code, drawn as grey bars (not one a scanner reads) above its text."""
        self.markers.append(f"barcode:{text}")
        y = self.top + self.y
        width = self.width

        def op(image: Image.Image, draw: ImageDraw.ImageDraw) -> None:
            for x in range(width // 4, 3 * width // 4, 6):
                draw.rectangle((x, y, x + (2 if x % 18 else 3), y + 60), fill=GRAY)
            draw.text((width // 2, y + 70), text, font=small_font(), fill=BLACK, anchor="mm")

        self.ops.append(op)
        self.y += 84

    def render(self) -> Rendering:
        height = self.top + self.y + 12
        image = new_image(self.width, height)
        draw = new_draw(image)
        for op in self.ops:
            op(image, draw)
        if self.band:
            draw_band(image, self.band)
        return Rendering(
            image=image,
            runs=self.runs,
            width_dots=self.width,
            cuts=self.cuts,
            markers=self.markers,
            notes=self.notes,
            lines=self.lines,
        )
