"""What both renderers share: the result (`Rendering`, `TextRun`), the CJK font, and drawing
characters into fixed printer cells. Pure: Pillow only, no Django.

The picture is a palette image of a few colours: thermal paper is black on white, so glyphs
are drawn without anti-aliasing (as the printer's dots are), and what the printer would not
print (markers, cut lines, the gap between labels) is drawn in colour.
"""

import io
import logging
import os
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass, field, replace
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

try:  # python-escpos brings it; without it a QR code is drawn as a box with its data.
    import qrcode
except ImportError:  # pragma: no cover - depends on the environment
    qrcode = None

log = logging.getLogger("printing.preview")

WHITE, BLACK, RED, GRAY, BLUE = range(5)
PALETTE = [255, 255, 255, 0, 0, 0, 210, 0, 0, 200, 200, 200, 30, 90, 210]

FONT_ENV = "PRINT_PREVIEW_FONT"
FONT_MISSING = "font missing: install fonts-wqy-microhei (or set PRINT_PREVIEW_FONT)"
# Where Debian/Ubuntu (fonts-wqy-microhei, fonts-noto-cjk), Fedora and macOS put a CJK font.
COMMON_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/System/Library/Fonts/PingFang.ttc",
)


@dataclass(frozen=True)
class TextRun:
    """One run of text the renderer drew: same style, one line, in dots from the top left."""

    x: int
    y: int
    width: int
    height: int
    text: str
    bold: bool = False
    scale_w: int = 1
    scale_h: int = 1


@dataclass
class Rendering:
    """The paper as the printer would make it, and what was found on the way."""

    image: Image.Image
    runs: list[TextRun]
    width_dots: int
    cuts: int
    markers: list[str]
    notes: list[str]
    labels: int = 0
    # The printed lines as a person reads them (ESC/POS: one per paper line; TSPL: one per
    # row of a label, labels separated by an empty line).
    lines: list[str] = field(default_factory=list)

    def text(self) -> str:
        return "\n".join(self.lines)

    def png(self) -> bytes:
        """The picture as PNG. Not `optimize`: on a receipt it saves 5 % of the bytes
        (about 1 KiB of 19) and takes 75 ms more, most of the preview's time."""
        out = io.BytesIO()
        self.image.save(out, format="PNG")
        return out.getvalue()


def find_cjk_font() -> str | None:
    """The path of a CJK font: $PRINT_PREVIEW_FONT (the word `none` means "no font", for
    tests and for seeing the fallback), else a common install path, else fontconfig."""
    return _find_font(os.environ.get(FONT_ENV, "").strip())


@lru_cache(maxsize=8)
def _find_font(configured: str) -> str | None:
    if configured.lower() == "none":
        return None
    if configured:
        if os.path.isfile(configured):
            return configured
        log.warning("%s=%s is not a file; looking for a CJK font elsewhere", FONT_ENV, configured)
    for path in COMMON_FONTS:
        if os.path.isfile(path):
            return path
    if fc_list := shutil.which("fc-list"):
        try:
            found = subprocess.run(
                [fc_list, ":lang=zh", "file"], capture_output=True, text=True, timeout=10
            ).stdout
        except (OSError, subprocess.SubprocessError):
            return None
        for line in sorted(found.splitlines()):
            path = line.split(":")[0].strip()
            if path.lower().endswith((".ttc", ".ttf", ".otf")) and os.path.isfile(path):
                return path
    return None


@lru_cache(maxsize=8)
def _face_index(path: str) -> int:
    """In a collection, the monospaced face (WenQuanYi Micro Hei Mono, Noto Sans Mono CJK):
    its Latin letters all have one width, as a printer's have."""
    for index in range(8):
        try:
            font = ImageFont.truetype(path, 24, index=index)
        except OSError:
            break
        if "mono" in " ".join(font.getname()).lower():
            return index
    return 0


@lru_cache(maxsize=64)
def _font(path: str | None, size: int) -> ImageFont.FreeTypeFont:
    if path is None:
        return ImageFont.load_default(size=size)
    return ImageFont.truetype(
        path, size, index=_face_index(path), layout_engine=ImageFont.Layout.BASIC
    )


def cell_width(char: str, half: int) -> int:
    """A printer cell for `char`: wide (CJK, full-width forms) or half."""
    return 2 * half if unicodedata.east_asian_width(char) in ("W", "F") else half


class Glyphs:
    """Draws characters, each in its printer cell (half-width `w` or full-width `2w` dots by
    `h`), whatever the font's own advance: the paper's columns are the printer's."""

    def __init__(self, path: str | None) -> None:
        self.path = path

    @property
    def missing(self) -> bool:
        return self.path is None

    def draw(
        self,
        draw: ImageDraw.ImageDraw,
        x: int,
        y: int,
        chars: list[tuple[str, int]],
        *,
        half: int,
        height: int,
        bold: bool,
        fill: int,
    ) -> None:
        """`chars` as (character, cell width) from (x, y), the cells' top left."""
        full_font, half_font = _fonts_for(self.path, half, height)
        baseline = y + round(height * 0.84)
        # Runs of same-width cells in one call when the font's advance is the cell's.
        start = 0
        while start < len(chars):
            width = chars[start][1]
            end = start
            while end < len(chars) and chars[end][1] == width:
                end += 1
            font = half_font if width <= half else full_font
            text = "".join(char for char, _ in chars[start:end])
            if _advance_is(font, width, wide=width > half):
                for dx in (0, 1) if bold else (0,):
                    draw.text((x + dx, baseline), text, font=font, fill=fill, anchor="ls")
            else:
                cx = x
                for char, w in chars[start:end]:
                    for dx in (0, 1) if bold else (0,):
                        draw.text((cx + dx, baseline), char, font=font, fill=fill, anchor="ls")
                    cx += w
            x += width * (end - start)
            start = end


@lru_cache(maxsize=64)
def _fonts_for(
    path: str | None, half: int, height: int
) -> tuple[ImageFont.FreeTypeFont, ImageFont.FreeTypeFont]:
    full = _font(path, height)
    # Latin letters are drawn smaller than the cell's height when the font's are wider
    # than half a CJK character (WenQuanYi Mono's are 0.6 em).
    advance = full.getlength("M") or height / 2
    size = max(6, min(height, int(height * half / advance)))
    return full, _font(path, size)


@lru_cache(maxsize=256)
def _advance_is(font: ImageFont.FreeTypeFont, width: int, *, wide: bool) -> bool:
    sample = "中国字" if wide else "Mi1"
    return all(abs(font.getlength(char) - width) < 0.05 for char in sample)


def new_image(width: int, height: int) -> Image.Image:
    image = Image.new("P", (max(1, width), max(1, height)), WHITE)
    image.putpalette(PALETTE)
    return image


def new_draw(image: Image.Image) -> ImageDraw.ImageDraw:
    draw = ImageDraw.Draw(image)
    draw.fontmode = "1"  # dots, not grey edges
    return draw


def paste_mask(image: Image.Image, mask: Image.Image, x: int, y: int, fill: int) -> None:
    image.paste(fill, (x, y, x + mask.width, y + mask.height), mask)


def small_font(size: int = 14) -> ImageFont.FreeTypeFont:
    """For markers and notes (not paper text)."""
    return _font(find_cjk_font(), size)


def tag_width(label: str, size: int = 14) -> int:
    return int(small_font(size).getlength(label)) + 8


def draw_tag(
    draw: ImageDraw.ImageDraw, x: int, y: int, label: str, *, height: int = 20, fill: int = RED
) -> None:
    """A small outlined box with `label`: what the printer does but does not print."""
    width = tag_width(label)
    draw.rectangle((x, y, x + width - 1, y + height - 1), outline=fill)
    draw.text((x + 4, y + height // 2), label, font=small_font(), fill=fill, anchor="lm")


def wrap_note(text: str, width: int, size: int = 16) -> list[str]:
    """`text` in lines of `width` dots, broken at spaces (or anywhere when a word is too long)."""
    font = small_font(size)
    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        candidate = f"{line} {word}" if line else word
        if line and font.getlength(candidate) > width:
            lines.append(line)
            candidate = word
        while font.getlength(candidate) > width and len(candidate) > 1:
            cut = len(candidate) - 1
            while cut > 1 and font.getlength(candidate[:cut]) > width:
                cut -= 1
            lines.append(candidate[:cut])
            candidate = candidate[cut:]
        line = candidate
    return [*lines, line] if line else lines


def font_missing_band(width: int) -> tuple[int, list[str]]:
    """Height and lines of the warning drawn on top of a picture made without a CJK font."""
    lines = wrap_note(FONT_MISSING, width - 8)
    return 8 + 20 * len(lines), lines


def draw_band(image: Image.Image, lines: list[str]) -> None:
    draw = new_draw(image)
    height = 8 + 20 * len(lines)
    draw.rectangle((0, 0, image.width - 1, height - 3), outline=RED)
    for number, line in enumerate(lines):
        draw.text((4, 4 + 20 * number), line, font=small_font(16), fill=RED)


def warn_font_missing(markers: list[str], notes: list[str]) -> None:
    log.warning("print preview: no CJK font; %s", FONT_MISSING)
    markers.append("font missing")
    notes.append(FONT_MISSING)


def qr_matrix(text: str, ecc: str) -> list[list[bool]] | None:
    """The QR code's modules (dark = True) at error correction `ecc` (L, M, Q, H), no quiet
    zone; None without the qrcode package."""
    if qrcode is None:
        return None
    level = getattr(qrcode.constants, f"ERROR_CORRECT_{ecc}", qrcode.constants.ERROR_CORRECT_L)
    code = qrcode.QRCode(error_correction=level, border=0)
    code.add_data(text)
    code.make(fit=True)
    return code.get_matrix()


def with_notes(rendering: Rendering, notes: list[str]) -> Rendering:
    """The rendering with `notes` written in a red band above the paper (and in its notes):
    what the caller knows and the bytes cannot say, e.g. that the job's printer is gone."""
    if not notes:
        return rendering
    lines = [line for note in notes for line in wrap_note(note, rendering.image.width - 8)]
    band = 8 + 20 * len(lines)
    image = new_image(rendering.image.width, rendering.image.height + band)
    image.paste(rendering.image, (0, band))
    draw_band(image, lines)
    return replace(rendering, image=image, notes=[*notes, *rendering.notes])
