"""See the paper before it prints: pictures of the exact bytes a printer is sent.

`render_escpos` reads an ESC/POS byte stream (receipts, make and void tickets, test pages)
and `render_tspl` a TSPL one (cup labels), as the printer would, and draw the paper with
Pillow. Each returns a `Rendering`: the picture, the text runs it drew (so tests can compare
them with the text we meant), the cuts, and markers and notes for what the printer does
without ink (drawer, buzzer), what the preview did not understand (drawn as a red box of
its bytes) and what looks wrong (bytes in another encoding, text past the edge).

Pure: Pillow only, no Django. The CJK font is `find_cjk_font()`'s: $PRINT_PREVIEW_FONT (a
path, or `none` for no font), else fonts-wqy-microhei or Noto CJK where Debian puts them,
else fontconfig. Without one, the picture and the log say so.
"""

from printing.preview.canvas import Rendering, TextRun, find_cjk_font, with_notes
from printing.preview.escpos import printable_dots, render_escpos
from printing.preview.tspl import render_tspl

__all__ = [
    "Rendering",
    "TextRun",
    "find_cjk_font",
    "printable_dots",
    "render_escpos",
    "render_tspl",
    "with_notes",
]
