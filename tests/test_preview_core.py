"""What both preview renderers share: how printer bytes are split into characters (GB18030's
four-byte characters, Shift-JIS, a lead byte without its trail), when text in one Chinese
encoding sent to a printer of the other is noticed, the CJK font, characters drawn in their
printer cells, and the notes drawn above the paper. Fast and without a database, for make
mutate (docs/testing.md)."""

import io
import logging
import os

import pytest
from PIL import Image

from printing.preview import (
    Rendering,
    TextRun,
    find_cjk_font,
    render_escpos,
    render_tspl,
    with_notes,
)
from printing.preview.canvas import (
    BLACK,
    BLUE,
    FONT_MISSING,
    RED,
    WHITE,
    cell_width,
    draw_tag,
    new_draw,
    new_image,
    qr_matrix,
    tag_width,
    wrap_note,
)
from printing.preview.charsets import REPLACEMENT, char_at, encoding_hint, multibyte_family
from tests.services import unavailable

WQY = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"


def black(image: Image.Image, box: tuple[int, int, int, int] | None = None):
    part = image.crop(box) if box else image
    return part.point(lambda index: 255 if index == BLACK else 0, "L").getbbox()


def red(image: Image.Image, box: tuple[int, int, int, int]):
    part = image.crop(box)
    return part.point(lambda index: 255 if index == RED else 0, "L").getbbox()


def colours(image: Image.Image, box: tuple[int, int, int, int]) -> set[int]:
    return {index for _, index in image.crop(box).getcolors()}


# Splitting bytes into characters


@pytest.mark.parametrize(
    ("encoding", "family"),
    [
        ("gb18030", "gb18030"),
        ("GB2312", "gb"),
        ("gbk", "gb"),
        ("big5", "big5"),
        ("big5hkscs", "big5"),
        ("cp950", "big5"),
        ("shift_jis", "sjis"),
        ("cp932", "sjis"),
        ("shift_jis_2004", "sjis"),
        ("shift_jisx0213", "sjis"),
        ("euc_kr", "gb"),
        ("cp949", "gb"),
        ("cp437", ""),
        ("utf-8", ""),
    ],
)
def test_each_encoding_splits_bytes_as_its_family_does(encoding, family):
    assert multibyte_family(encoding) == family


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"A", ("A", 1, True)),
        (b"\xd6\xd0", ("中", 2, True)),
        (b"\x81\x40", ("丂", 2, True)),
        (b"\xfe\x40", ("\ufa0c", 2, True)),
        (b"\x81\x30\x81\x30", ("\x80", 4, True)),
        (b"\x81\x39\xfe\x39", ("\u34a2", 4, True)),
        (b"\x81\x2f\x81\x30", (REPLACEMENT, 1, False)),
        (b"\x81\x3a\x81\x30", (REPLACEMENT, 1, False)),
        # Not four-byte, so two bytes; a trail byte below 0x40 is no trail byte.
        (b"\x81\x30\x80\x30", (REPLACEMENT, 1, False)),
        (b"\x81\x30\xff\x30", (REPLACEMENT, 1, False)),
        (b"\x81\x30\x81\x2f", (REPLACEMENT, 1, False)),
        (b"\x81\x30\x81\x3a", (REPLACEMENT, 1, False)),
        (b"\x81\x30\x81", (REPLACEMENT, 1, False)),
        (b"\xd6", (REPLACEMENT, 1, False)),
        (b"\xd6\x3f", (REPLACEMENT, 1, False)),
        (b"\xff\xa1", (REPLACEMENT, 1, False)),
        (b"\x80\xa1", (REPLACEMENT, 1, False)),
    ],
)
def test_gb18030_characters_take_one_two_or_four_bytes(data, expected):
    assert char_at(data, 0, "gb18030", "gb18030") == expected


def test_a_character_is_read_where_it_starts():
    data = b"A\xd6\xd0\x81\x30\x81\x30B"

    assert char_at(data, 1, "gb18030", "gb18030") == ("中", 2, True)
    assert char_at(data, 3, "gb18030", "gb18030") == ("\x80", 4, True)
    assert char_at(data, 7, "gb18030", "gb18030") == ("B", 1, True)


def test_gbk_has_no_four_byte_characters():
    assert char_at(b"\x81\x30\x81\x30", 0, "gbk", "gb") == (REPLACEMENT, 1, False)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\x81\x40", ("\u3000", 2, True)),
        (b"\x9f\x40", ("\u6a97", 2, True)),
        (b"\xe0\x40", ("\u6f3e", 2, True)),
        (b"\xfc\x40", (REPLACEMENT, 2, False)),
        (b"\xa0\x40", (REPLACEMENT, 1, False)),
        (b"\xb1\x40", ("\uff71", 1, True)),
        (b"\xdf\x40", ("\uff9f", 1, True)),
        (b"\x80\x40", (REPLACEMENT, 1, False)),
        (b"\xfd\x40", (REPLACEMENT, 1, False)),
    ],
)
def test_shift_jis_lead_bytes_and_half_width_katakana(data, expected):
    assert char_at(data, 0, "shift_jis", "sjis") == expected


def test_a_single_byte_code_page_reads_one_byte_a_character():
    assert char_at(b"\xd6\xd0", 0, "cp437", "") == ("╓", 1, True)


# Text in the other Chinese encoding

GB_ONLY = b"\xd0\xa1"  # GB2312's level-1 hanzi (小), rare in Big5
BOTH = b"\xb0\xa1"  # frequent in both
BIG5_ONLY = b"\xa4\xa1"  # Big5's frequent hanzi, GB2312's rare kana rows


def hint(chunks: list[bytes], encoding: str = "big5") -> str | None:
    return encoding_hint(chunks, encoding)


def test_gb_text_on_a_big5_printer_is_named_with_how_many_characters_are_rare():
    assert hint([GB_ONLY] * 3 + [BOTH]) == (
        "the text reads as gb18030, not big5: 3 of 4 two-byte characters are rare or "
        "undefined in big5 (encoded for another printer?)"
    )


def test_big5_text_on_a_gb_printer_is_named_too():
    assert hint([BIG5_ONLY] * 4, "gbk") == (
        "the text reads as big5, not gbk: 4 of 4 two-byte characters are rare or undefined "
        "in gbk (encoded for another printer?)"
    )
    assert hint([BIG5_ONLY] * 4, "gb18030") is not None


def test_fewer_than_four_characters_say_nothing():
    assert hint([GB_ONLY] * 3) is None


def test_no_hint_for_a_printer_without_a_chinese_encoding():
    assert hint([GB_ONLY] * 4, "shift_jis") is None
    assert hint([GB_ONLY] * 4, "cp437") is None


def test_no_hint_when_the_text_is_not_valid_in_the_other_encoding():
    assert hint([GB_ONLY] * 4 + [b"\xa0\xa1"], "gb18030") is None


def test_no_hint_when_three_quarters_are_frequent_in_the_printers_encoding():
    assert hint([BOTH] * 3 + [GB_ONLY]) is None


def test_a_hint_when_nine_tenths_are_frequent_in_the_other_encoding():
    assert hint([GB_ONLY] * 9 + [BIG5_ONLY]) is not None
    assert hint([GB_ONLY] * 8 + [BIG5_ONLY] * 2) is None


@pytest.mark.parametrize(
    ("chunk", "frequent"),
    [
        (b"\xa1\xa1", True),
        (b"\xa3\xa1", True),
        (b"\xa4\xa1", False),
        (b"\xaf\xa1", False),
        (b"\xb0\xa1", True),
        (b"\xd7\xa1", True),
        (b"\xd8\xa1", False),
        (b"\x81\x30\x81\x30", False),
    ],
)
def test_gb2312s_symbols_and_level_1_hanzi_are_its_frequent_characters(chunk, frequent):
    # Eight GB-only characters and two of `chunk`: nine tenths frequent only if it is.
    assert (hint([GB_ONLY] * 8 + [chunk] * 2) is not None) is frequent


@pytest.mark.parametrize(
    ("chunk", "frequent"),
    [(b"\xa1\xa1", True), (b"\xc6\xa1", True), (b"\xc7\xa1", False), (b"\xd0\xa1", False)],
)
def test_big5s_symbols_and_frequent_hanzi_are_its_frequent_characters(chunk, frequent):
    assert (hint([BIG5_ONLY] * 8 + [chunk] * 2, "gbk") is not None) is frequent


# The font and the cells


def test_the_font_is_the_one_configured_or_none_when_configured_so(monkeypatch, tmp_path):
    font = tmp_path / "font.ttc"
    font.write_bytes(b"")
    monkeypatch.setenv("PRINT_PREVIEW_FONT", f" {font} ")
    assert find_cjk_font() == str(font)
    monkeypatch.setenv("PRINT_PREVIEW_FONT", " None ")
    assert find_cjk_font() is None


def test_without_the_setting_the_installed_cjk_font_is_found_quietly(monkeypatch, caplog):
    monkeypatch.delenv("PRINT_PREVIEW_FONT", raising=False)
    if not os.path.isfile(WQY):
        unavailable("fonts-wqy-microhei is not installed (make mutate and make test install it)")

    with caplog.at_level(logging.WARNING, logger="printing.preview"):
        assert find_cjk_font() == WQY

    assert caplog.messages == []


@pytest.mark.parametrize(
    ("char", "cells"), [("A", 12), ("中", 24), ("Ａ", 24), ("ｱ", 12), ("é", 12)]
)
def test_wide_and_full_width_characters_take_two_cells(char, cells):
    assert cell_width(char, 12) == cells


def test_each_character_is_drawn_in_its_own_cell_whatever_the_fonts_advance():
    rendering = render_escpos(b"iiii\xd6\xd0\xd6\xd0i\n")
    image = rendering.image

    first = black(image, (0, 0, 12, 24))
    assert first is not None
    for column in range(1, 4):
        assert black(image, (12 * column, 0, 12 * column + 12, 24)) == first
    chinese = black(image, (48, 0, 72, 24))
    assert chinese is not None
    assert black(image, (72, 0, 96, 24)) == chinese
    assert black(image, (96, 0, 108, 24)) == first
    assert black(image, (108, 0, 576, 30)) is None


def test_glyphs_stand_on_a_baseline_at_five_sixths_of_the_cell():
    image = render_escpos(b"HH\n" + b"\x1b!\x01HH\n").image

    # 24-dot cells: the baseline is row 20; Font B's 17-dot cells, 14 (+ the line's 30).
    assert black(image, (0, 0, 24, 30))[3] == 20
    assert black(image, (0, 30, 24, 60))[3] == 14


def test_bold_chinese_is_drawn_one_dot_wider():
    plain = black(render_escpos(b"\xd6\xd0\n").image)
    bold = black(render_escpos(b"\x1bE\x01\xd6\xd0\n").image)

    assert bold == (plain[0], plain[1], plain[2] + 1, plain[3])


def test_thermal_text_has_no_grey_edges():
    image = render_escpos(b"Abc \xd6\xd0\n").image

    assert {index for _, index in image.getcolors()} == {WHITE, BLACK}


# The picture and its notes


def test_a_rendering_is_its_lines_and_its_picture_as_png():
    rendering = render_escpos(b"AB\nCD\n")

    assert rendering.text() == "AB\nCD"
    png = Image.open(io.BytesIO(rendering.png()))
    assert png.format == "PNG"
    assert png.size == rendering.image.size
    assert png.tobytes() == rendering.image.tobytes()


def test_notes_are_written_in_a_red_band_above_the_paper():
    rendering = render_escpos(b"AB\n", paper_width=58)

    noted = with_notes(rendering, ["the printer is gone", "x" * 60])

    # One line for the first note, two for the second (at most 37 characters of 10 dots).
    band = 8 + 20 * 3
    assert noted.image.size == (384, rendering.image.height + band)
    assert noted.image.crop((0, band, 384, noted.image.height)).tobytes() == (
        rendering.image.tobytes()
    )
    assert noted.notes == ["the printer is gone", "x" * 60]
    assert noted.lines == rendering.lines
    assert noted.runs == rendering.runs
    assert colours(noted.image, (0, 0, 384, 1)) == {RED}
    assert colours(noted.image, (0, band - 3, 384, band - 2)) == {RED}
    assert colours(noted.image, (0, band - 2, 384, band)) == {WHITE}
    assert colours(noted.image, (383, 0, 384, band - 2)) == {RED}
    assert RED in colours(noted.image, (4, 4, 200, 24))
    # The notes' lines, 20 dots apart from 4 dots in, in 16-pixel WenQuanYi Mono: the x's of
    # the second and third lines.
    assert red(noted.image, (1, 26, 383, 46)) == (4, 4, 372, 13)
    assert red(noted.image, (1, 46, 383, 65)) == (4, 4, 232, 13)


def test_a_note_as_wide_as_the_band_less_8_dots_fits_on_one_line():
    # A label 248 dots wide: 24 characters of 10 dots fit in 240.
    label = render_tspl(b"SIZE 248 dot,10 mm\r\nPRINT 1\r\n")

    assert with_notes(label, ["x" * 24]).image.height == 80 + 28
    assert with_notes(label, ["x" * 25]).image.height == 80 + 48
    assert with_notes(label, ["打印机离线"]).image.height == 80 + 28


def test_no_notes_leave_the_rendering_as_it_was():
    rendering = render_escpos(b"AB\n")

    assert with_notes(rendering, []) is rendering


def test_notes_are_broken_at_spaces_or_inside_a_word_too_long_for_a_line():
    # WenQuanYi Micro Hei Mono at 16 px: 10 dots a Latin character.
    assert wrap_note("aaaa bbbb cccc", 90) == ["aaaa bbbb", "cccc"]
    assert wrap_note("aaaa bbbb cccc", 89) == ["aaaa", "bbbb", "cccc"]
    assert wrap_note("abcdefghijklmnopqrstu", 80) == ["abcdefgh", "ijklmnop", "qrstu"]
    assert wrap_note("ab abcdefghij", 80) == ["ab", "abcdefgh", "ij"]
    assert wrap_note("a  b", 80) == ["a  b"]
    assert wrap_note("", 80) == []
    assert wrap_note("ab", 5) == ["a", "b"]
    assert wrap_note("abc", 15) == ["a", "b", "c"]
    # 16 dots a Chinese character.
    assert wrap_note("打印机离线", 80) == ["打印机离线"]
    assert wrap_note("打印机离线", 79) == ["打印机离", "线"]


def test_without_a_cjk_font_a_red_band_says_so_above_the_paper(monkeypatch, caplog):
    monkeypatch.setenv("PRINT_PREVIEW_FONT", "none")

    with caplog.at_level(logging.WARNING, logger="printing.preview"):
        rendering = render_escpos(b"AB\n")

    assert rendering.markers == ["font missing"]
    assert rendering.notes == [FONT_MISSING]
    assert caplog.messages == [f"print preview: no CJK font; {FONT_MISSING}"]
    # Pillow's own font fits the warning on one line of a receipt: a band of 28 dots.
    assert rendering.image.height == 28 + 30 + 12
    assert rendering.runs[0].y == 28
    assert colours(rendering.image, (0, 0, 576, 1)) == {RED}
    assert colours(rendering.image, (0, 25, 576, 26)) == {RED}
    assert colours(rendering.image, (0, 26, 576, 28)) == {WHITE}
    assert black(rendering.image) is not None


@pytest.mark.parametrize(("width", "band"), [(533, 28), (532, 48)])
def test_the_missing_font_warning_takes_one_line_where_it_fits(monkeypatch, width, band):
    # Pillow's own font draws the warning 525 dots long; the band leaves 4 dots each side.
    monkeypatch.setenv("PRINT_PREVIEW_FONT", "none")

    rendering = render_tspl(f"SIZE {width} dot,10 mm\r\nPRINT 1\r\n".encode())

    assert rendering.image.height == band + 80
    assert colours(rendering.image, (0, band, width, band + 80)) == {WHITE}


def test_a_tag_is_a_box_20_dots_high_as_wide_as_its_label_and_8_more():
    image = new_image(100, 40)
    draw = new_draw(image)

    draw_tag(draw, 10, 5, "drawer", fill=BLUE)

    width = tag_width("drawer")
    assert width == 6 * 8 + 8
    assert colours(image, (10, 5, 10 + width, 6)) == {BLUE}
    assert colours(image, (10, 24, 10 + width, 25)) == {BLUE}
    assert colours(image, (10, 5, 11, 25)) == {BLUE}
    assert colours(image, (9 + width, 5, 10 + width, 25)) == {BLUE}
    assert colours(image, (11, 6, 14, 24)) == {WHITE}
    # The label 4 dots in, centred on the box's middle row, in 14-pixel WenQuanYi Mono.
    label = image.crop((11, 6, 65, 24)).point(lambda index: 255 if index == BLUE else 0, "L")
    assert label.getbbox() == (4, 3, 50, 14)
    assert colours(image, (0, 0, 100, 5)) == {WHITE}
    assert colours(image, (10 + width, 0, 100, 40)) == {WHITE}


def test_a_new_picture_is_white_and_at_least_one_dot():
    image = new_image(0, 0)

    assert image.size == (1, 1)
    assert image.getpixel((0, 0)) == WHITE
    assert image.getpalette()[:15] == [
        255,
        255,
        255,
        0,
        0,
        0,
        210,
        0,
        0,
        200,
        200,
        200,
        30,
        90,
        210,
    ]


def test_a_qr_code_has_no_quiet_zone_and_its_level_defaults_to_l():
    matrix = qr_matrix("A001", "Q")

    assert len(matrix) == 21
    assert matrix[0][:7] == [True] * 7
    assert qr_matrix("PICKUP-A001-PICKUP", "X") == qr_matrix("PICKUP-A001-PICKUP", "L")
    assert len(qr_matrix("PICKUP-A001-PICKUP", "H")) == 25


def test_text_runs_and_renderings_hold_what_they_are_given():
    run = TextRun(1, 2, 3, 4, "A")
    rendering = Rendering(Image.new("1", (1, 1)), [run], 1, 0, [], [])

    assert (run.bold, run.scale_w, run.scale_h) == (False, 1, 1)
    assert (rendering.labels, rendering.lines, rendering.text()) == (0, [], "")


def test_font_b_characters_are_each_drawn_in_their_9_dot_cell_and_bold_one_dot_wider():
    plain = render_escpos(b"\x1bM\x01iiii\n").image
    bold = render_escpos(b"\x1bM\x01\x1bE\x01iiii\n").image

    first = black(plain, (0, 0, 9, 17))
    assert first is not None
    for column in range(1, 4):
        assert black(plain, (9 * column, 0, 9 * column + 9, 17)) == first
    assert black(bold, (0, 0, 9, 17)) == (first[0], first[1], first[2] + 1, first[3])
    assert black(plain, (36, 0, 576, 30)) is None


def test_a_chinese_character_fills_most_of_its_24_dot_cell():
    box = black(render_escpos(b"\xd6\xd0\n").image)

    assert box[2] - box[0] >= 16
    assert box[3] - box[1] >= 20
