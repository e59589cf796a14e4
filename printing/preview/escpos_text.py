"""ESC/POS text: which character the bytes are, and the cell it takes on the line.

In Chinese mode (FS &) bytes >= 0x80 are read as the printer's multi-byte encoding, out of
it (FS .) as the ESC t code page. Font A is 12 x 24 per half-width character, Font B 9 x 17,
a CJK character 24 x 24; ESC !, GS ! and FS ! scale them.
"""

from dataclasses import dataclass

from printing.preview.charsets import char_at, encoding_hint, multibyte_family

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


@dataclass(frozen=True)
class Style:
    bold: bool = False
    underline: bool = False
    scale_w: int = 1
    scale_h: int = 1
    font_b: bool = False


@dataclass
class Cell:
    """One thing on the line being built: a character, or a marker box (`text` None)."""

    text: str | None
    width: int  # dots, scaled
    height: int  # dots, scaled
    half: int  # the half-width cell of its font, unscaled
    base_h: int
    style: Style
    label: str = ""
    bad: bool = False


class TextMode:
    """The printer's text settings, and what the decoding found wrong along the way."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self.family = multibyte_family(encoding)
        self.undecodable = 0
        self.multibyte: list[bytes] = []
        self.codepage_bytes = 0
        self.reset()

    def reset(self) -> None:
        """ESC @: the text settings at power-on."""
        self.style = Style()
        self.kanji_w = self.kanji_h = 1
        # A printer set to a Chinese encoding starts in Chinese mode (hence FS .).
        self.chinese = bool(self.family)
        self.codepage = self.encoding if not self.family else "cp437"

    def char(self, data: bytes, i: int) -> tuple[Cell, int]:
        """The cell of the character at `data[i]`, and the index after it."""
        if self.chinese and self.family:
            text, length, ok = char_at(data, i, self.encoding, self.family)
        else:
            text, length, ok = char_at(data, i, self.codepage, "")
            if data[i] >= 0x80 and self.family:
                self.codepage_bytes += 1
        if not ok:
            self.undecodable += 1
        if length > 1:
            self.multibyte.append(data[i : i + length])
        # A multi-byte character takes a CJK cell, whatever it decodes to.
        return self.cell(text, length == 1, bad=not ok), i + length

    def cell(self, text: str, half: bool, *, bad: bool = False) -> Cell:
        style = self.style
        base_half, base_h = (9, 17) if style.font_b and half else (12, 24)
        if half:
            sw, sh, width = style.scale_w, style.scale_h, base_half
        else:
            sw = max(style.scale_w, self.kanji_w)
            sh = max(style.scale_h, self.kanji_h)
            width = 2 * base_half
        drawn = Style(style.bold, style.underline, sw, sh, style.font_b)
        return Cell(text, width * sw, base_h * sh, base_half, base_h, drawn, bad=bad)

    def set_style(self, **changes) -> None:
        values = {**self.style.__dict__, **changes}
        self.style = Style(**values)

    def esc_bang(self, n: int) -> None:
        self.set_style(
            font_b=bool(n & 1),
            bold=bool(n & 8),
            scale_h=2 if n & 16 else 1,
            scale_w=2 if n & 32 else 1,
            underline=bool(n & 128),
        )

    def code_table(self, n: int) -> str | None:
        """ESC t n; a note when the preview does not know the table."""
        if n in CODE_TABLES:
            self.codepage = CODE_TABLES[n]
            return None
        return f"ESC t {n}: a code table the preview does not know, kept {self.codepage}"

    def notes(self) -> list[str]:
        """What the decoding found wrong, for the end of the picture's notes."""
        notes = []
        if self.undecodable:
            notes.append(
                f"{self.undecodable} undecodable characters in {self.encoding} "
                "(drawn as \N{REPLACEMENT CHARACTER} in a red box): the bytes are in another "
                "encoding than the printer's"
            )
        if hint := encoding_hint(self.multibyte, self.encoding):
            notes.append(hint)
        if self.codepage_bytes:
            notes.append(
                f"Chinese mode is off: {self.codepage_bytes} bytes >= 0x80 print as "
                f"{self.codepage} characters, not as {self.encoding} text"
            )
        return notes
