"""The receipt preview read from ESC/POS bytes written by hand: where each character lands, its
size and weight, alignment, line spacing and feeds, cut lines, drawer and buzzer markers, QR
codes, raster images, bar codes, Chinese mode and code pages, and what it says about bytes it
cannot read. Fast and without a database, for make mutate (docs/testing.md)."""

import pytest
from PIL import Image

from printing.preview import printable_dots, render_escpos
from printing.preview.canvas import BLACK, BLUE, GRAY, RED, WHITE, qr_matrix, tag_width

ESC, GS, FS, DLE = b"\x1b", b"\x1d", b"\x1c", b"\x10"


def place(rendering) -> list[tuple]:
    """Each text run as (x, y, width, height, text)."""
    return [(run.x, run.y, run.width, run.height, run.text) for run in rendering.runs]


def black(image: Image.Image, box: tuple[int, int, int, int] | None = None):
    """The bounding box of the black dots (in `box`, relative to it), None when there are none."""
    part = image.crop(box) if box else image
    return part.point(lambda index: 255 if index == BLACK else 0, "L").getbbox()


def colours(image: Image.Image, box: tuple[int, int, int, int]) -> set[int]:
    return {index for _, index in image.crop(box).getcolors()}


def rows_of(image: Image.Image, colour: int) -> list[int]:
    """The rows of the picture with a dot of `colour`."""
    return [y for y in range(image.height) if colour in colours(image, (0, y, image.width, y + 1))]


@pytest.mark.parametrize(("paper", "dots"), [(80, 576), (58, 384), (76, 576), (60, 384)])
def test_the_printable_width_is_that_of_the_nearest_paper(paper, dots):
    assert printable_dots(paper) == dots
    rendering = render_escpos(b"", paper_width=paper)
    assert rendering.image.width == rendering.width_dots == dots


def test_a_300_dpi_printer_prints_72_mm_in_848_dots():
    assert printable_dots(80, dpi=300) == 848


def test_an_encoding_python_does_not_know_is_refused():
    with pytest.raises(LookupError):
        render_escpos(b"A\n", encoding="no-such-encoding")


def test_each_line_is_30_dots_below_the_last_and_text_sits_in_12_by_24_cells():
    rendering = render_escpos(b"AB\nCDE\n")

    assert place(rendering) == [(0, 0, 24, 24, "AB"), (0, 30, 36, 24, "CDE")]
    assert rendering.lines == ["AB", "CDE"]
    assert rendering.image.size == (576, 30 + 30 + 12)
    box = black(rendering.image)
    assert box is not None
    assert box[0] < 4
    assert box[2] <= 36
    assert box[3] <= 54


def test_an_empty_line_feeds_the_paper_by_one_line():
    rendering = render_escpos(b"A\n\n\nB\n")

    assert rendering.lines == ["A", "", "", "B"]
    assert place(rendering)[1] == (0, 90, 12, 24, "B")


def test_cr_before_lf_is_ignored():
    rendering = render_escpos(b"A\r\nB\r\n")

    assert rendering.lines == ["A", "B"]
    assert rendering.markers == []


def test_a_tab_moves_to_the_next_stop_every_eight_columns():
    rendering = render_escpos(b"A\tB\n\tC\nABCDEFGH\tI\n")

    assert rendering.lines == ["A       B", "        C", "ABCDEFGH        I"]
    assert rendering.runs[0].width == 9 * 12
    assert RED not in colours(rendering.image, (0, 0, 576, rendering.image.height))


def test_font_b_bold_double_height_double_width_and_underline_from_esc_bang():
    rendering = render_escpos(
        ESC + b"!\x01AB\n" + ESC + b"!\x08C" + ESC + b"!\x10D" + ESC + b"!\x20E" + ESC + b"!\x80F\n"
    )

    assert place(rendering) == [
        (0, 0, 18, 17, "AB"),  # Font B: 9 x 17
        (0, 54, 12, 24, "C"),  # on the same baseline as the double-height D
        (12, 30, 12, 48, "D"),
        (24, 54, 24, 24, "E"),
        (48, 54, 12, 24, "F"),
    ]
    assert [(run.bold, run.scale_w, run.scale_h) for run in rendering.runs] == [
        (False, 1, 1),
        (True, 1, 1),
        (False, 1, 2),
        (False, 2, 1),
        (False, 1, 1),
    ]
    # Font B's line: max(30, 17 + 6); the double-height line: 48 + 6.
    assert rendering.image.height == 30 + 54 + 12
    # Font B is not underlined; the underlined F has a line along its cell's bottom row.
    assert BLACK not in colours(rendering.image, (0, 16, 18, 17))
    assert colours(rendering.image, (48, 77, 60, 78)) == {BLACK}
    assert BLACK not in colours(rendering.image, (0, 77, 48, 78))


def test_esc_bang_0_clears_every_style():
    rendering = render_escpos(ESC + b"!\xb9A" + ESC + b"!\x00B\n")

    assert [(run.text, run.bold, run.scale_w, run.scale_h) for run in rendering.runs] == [
        ("A", True, 2, 2),
        ("B", False, 1, 1),
    ]


@pytest.mark.parametrize("command", [ESC + b"E\x01", ESC + b"G\x01", ESC + b"E\x03"])
def test_bold_is_drawn_one_dot_wider(command):
    plain = render_escpos(b"I\n")
    bold = render_escpos(command + b"I\n" + ESC + b"E\x00" + ESC + b"G\x00I\n")

    assert [run.bold for run in bold.runs] == [True, False]
    plain_box, bold_box = black(plain.image), black(bold.image, (0, 0, 12, 24))
    assert bold_box == (plain_box[0], plain_box[1], plain_box[2] + 1, plain_box[3])
    assert black(bold.image, (0, 30, 12, 54)) == plain_box


def test_esc_e_with_an_even_number_is_not_bold():
    rendering = render_escpos(ESC + b"E\x02A\n")

    assert rendering.runs[0].bold is False


@pytest.mark.parametrize(("n", "underlined"), [(1, True), (2, True), (0, False), (4, False)])
def test_esc_minus_underlines_the_text(n, underlined):
    rendering = render_escpos(ESC + b"-" + bytes([n]) + b"AB\n")

    assert (colours(rendering.image, (0, 23, 24, 24)) == {BLACK}) is underlined


@pytest.mark.parametrize(("n", "font_b"), [(1, True), (49, True), (0, False), (48, False)])
def test_esc_m_chooses_font_b(n, font_b):
    rendering = render_escpos(ESC + b"M" + bytes([n]) + b"A\n")

    assert rendering.runs[0].width == (9 if font_b else 12)


def test_gs_bang_scales_width_and_height_up_to_eight_times():
    rendering = render_escpos(GS + b"!\x11AB\n" + GS + b"!\x70C\n" + GS + b"!\x07D\n")

    assert place(rendering) == [
        (0, 0, 48, 48, "AB"),
        (0, 54, 96, 24, "C"),
        (0, 84, 12, 192, "D"),
    ]
    assert [(run.scale_w, run.scale_h) for run in rendering.runs] == [(2, 2), (8, 1), (1, 8)]


def test_double_size_text_is_the_normal_glyph_with_each_dot_doubled():
    normal = render_escpos(b"H\n").image.crop((0, 0, 12, 24))
    double = render_escpos(GS + b"!\x11H\n").image.crop((0, 0, 24, 48))

    assert double.tobytes() == normal.resize((24, 48), Image.Resampling.NEAREST).tobytes()


def test_alignment_centres_or_right_aligns_each_line():
    rendering = render_escpos(
        ESC + b"a\x01AB\n" + ESC + b"a\x32CD\n" + ESC + b"a\x05EF\n" + ESC + b"a\x30GH\n"
        + ESC + b"a\x31IJ\n" + ESC + b"a\x00KL\n" + ESC + b"a\x02MN\n"
    )  # fmt: skip

    centre = (576 - 24) // 2
    assert [run.x for run in rendering.runs] == [centre, 552, 552, 0, centre, 0, 552]


def test_a_line_as_wide_as_the_paper_starts_at_its_left_edge_whatever_the_alignment():
    rendering = render_escpos(
        ESC + b"a\x02" + b"x" * 48 + b"\n" + ESC + b"a\x01" + b"y" * 48 + b"\n"
    )

    assert [run.x for run in rendering.runs] == [0, 0]


def test_centred_text_of_an_odd_width_is_half_a_dot_left_of_centre():
    rendering = render_escpos(ESC + b"a\x01" + ESC + b"M\x01A\n")

    assert rendering.runs[0].x == (576 - 9) // 2


def test_alignment_set_in_the_middle_of_a_line_applies_to_the_next_line():
    rendering = render_escpos(b"AB" + ESC + b"a\x02CD\nEF\n")

    assert [run.x for run in rendering.runs] == [0, 552]


def test_esc_3_sets_the_line_spacing_esc_2_resets_it_and_esc_d_and_j_feed():
    rendering = render_escpos(
        ESC + b"3\x50A\nB\n" + ESC + b"2C\n" + ESC + b"d\x02D\n" + ESC + b"J\x05E\n"
    )

    assert [run.y for run in rendering.runs] == [0, 80, 160, 160 + 30 + 60, 250 + 30 + 5]


def test_esc_at_resets_the_style_alignment_and_spacing():
    rendering = render_escpos(
        ESC + b"3\x50" + ESC + b"a\x02" + ESC + b"!\x38A\n" + ESC + b"@B\nC\n"
    )

    assert place(rendering)[1:] == [(0, 80, 12, 24, "B"), (0, 110, 12, 24, "C")]
    assert rendering.runs[1].bold is False


def test_esc_at_discards_the_text_on_the_line_and_says_how_much():
    rendering = render_escpos(b"lost" + ESC + b"@kept\n")

    assert rendering.lines == ["kept"]
    assert rendering.notes == ["4 characters discarded by ESC @ (no line feed before it)"]


def test_esc_at_keeps_a_marker_on_the_line():
    rendering = render_escpos(b"\x01ab" + ESC + b"@cd\n")

    assert rendering.lines == ["cd"]
    assert rendering.markers == ["unknown 01"]
    marker_width = rendering.runs[0].x
    assert marker_width > 24
    assert rendering.notes == ["2 characters discarded by ESC @ (no line feed before it)"]


def test_a_line_wider_than_the_paper_wraps_and_says_so():
    rendering = render_escpos(b"x" * 33 + b"\n" + b"y" * 32 + b"\n", paper_width=58)

    assert rendering.lines == ["x" * 32, "x", "y" * 32]
    assert [run.y for run in rendering.runs] == [0, 30, 60]
    assert rendering.notes == [
        f"1 lines wider than the paper went on on the next line (first: {'x' * 32!r})"
    ]


def test_text_after_the_last_line_feed_is_not_printed_and_is_counted():
    rendering = render_escpos(b"shown\nlost" + GS + b"!\x11" + b"\xd6\xd0")

    assert rendering.lines == ["shown"]
    assert rendering.notes == ["5 characters at the end are not printed: no line feed after them"]


def test_a_marker_after_the_last_line_feed_is_still_drawn():
    rendering = render_escpos(b"A\n\x01")

    assert rendering.lines == ["A"]
    assert rendering.markers == ["unknown 01"]
    assert RED in colours(rendering.image, (0, 30, 576, 54))
    assert rendering.image.height == 30 + 30 + 12


def test_unknown_control_bytes_and_commands_are_red_boxes_of_their_bytes():
    data = b"a\x01b\x7fc" + ESC + b"zd\n" + GS + b"\xffe" + FS + b"\xfff" + DLE + b"\xffg\n"

    rendering = render_escpos(data)

    assert rendering.lines == ["abcd", "efg"]
    assert rendering.markers == [
        "unknown 01",
        "unknown 7f",
        "unknown 1b 7a",
        "unknown 1d ff",
        "unknown 1c ff",
        "unknown 10 ff",
    ]
    b = rendering.runs[1]
    assert b.text == "b"
    assert b.x == 12 + tag_width("unknown 01")
    # The box's outline, 20 dots high from the line's top + 2, its inside white.
    assert colours(rendering.image, (12, 2, 13, 22)) == {RED}
    assert colours(rendering.image, (12, 2, b.x, 3)) == {RED}
    assert colours(rendering.image, (13, 3, 15, 21)) == {WHITE}
    assert colours(rendering.image, (12, 0, b.x, 2)) == {WHITE}
    assert colours(rendering.image, (12, 22, b.x, 24)) == {WHITE}


@pytest.mark.parametrize(
    ("data", "marker"),
    [
        (ESC, "unknown 1b"),
        (GS, "unknown 1d"),
        (FS, "unknown 1c"),
        (DLE, "unknown 10"),
        (DLE + b"\x04", "unknown 10 04"),
        (GS + b"!", "unknown 1d 21"),
        (FS + b"!", "unknown 1c 21"),
        (FS + b"W", "unknown 1c 57"),
        (GS + b"V", "unknown 1d 56"),
        (FS + b"-", "unknown 1c 2d"),
        (GS + b"H", "unknown 1d 48"),
        (GS + b"k", "unknown 1d 6b"),
        (ESC + b"!", "unknown 1b 21"),
        (ESC + b"a", "unknown 1b 61"),
    ],
)
def test_a_command_cut_short_at_the_end_is_a_marker(data, marker):
    rendering = render_escpos(b"A\n" + data)

    assert rendering.markers == [marker]
    assert rendering.lines == ["A"]


def test_a_drawer_or_buzzer_command_cut_short_shows_each_of_its_bytes():
    assert render_escpos(DLE + b"\x14\x01\x00").markers == ["unknown 10 14", "unknown 01",
                                                             "unknown 00"]  # fmt: skip
    assert render_escpos(ESC + b"p\x00\x19").markers == ["unknown 1b 70", "unknown 00",
                                                         "unknown 19"]  # fmt: skip
    assert render_escpos(ESC + b"B\x02").markers == ["unknown 1b 42", "unknown 02"]


@pytest.mark.parametrize(
    ("command", "markers"),
    [
        (FS + b"&", []),
        (FS + b".", []),
        (FS + b"!\x00", []),
        (FS + b"W\x00", []),
        (FS + b"-\x01", []),
        (FS + b"C\x01", []),
        (DLE + b"\x04\x01", []),
        (DLE + b"\x05\x01", []),
        (DLE + b"\x14\x01\x00\x01", ["drawer"]),
        (ESC + b"p\x00\x19\xfa", ["drawer"]),
        (ESC + b"B\x02\x03", ["buzzer"]),
        (ESC + b"E\x01", []),
        (ESC + b"@", []),
        (ESC + b"2", []),
        (ESC + b"(A\x00\x00", ["buzzer"]),
        (ESC + b"*\x00\x00\x00", ["unknown 1b 2a 00"]),
        (GS + b"!\x00", []),
        (GS + b"V\x00", []),
        (GS + b"VA\x00", []),
        (GS + b"H\x02", []),
        (GS + b"(k\x00\x00", ["unknown 1d 28 6b"]),
        (GS + b"v0\x00\x01\x00\x01\x00\xff", ["image 8x1"]),
        (GS + b"kE\x00", ["barcode:"]),
    ],
)
def test_a_command_that_ends_the_stream_is_complete(command, markers):
    rendering = render_escpos(b"A\n" + command)

    assert rendering.markers == markers
    assert rendering.lines == ["A"]


def test_esc_parenthesis_and_esc_star_cut_short_show_each_of_their_bytes():
    assert render_escpos(ESC + b"(A\x00").markers == ["unknown 1b 28", "unknown 00"]
    assert render_escpos(ESC + b"*\x00\x00").markers == ["unknown 1b 2a", "unknown 00",
                                                          "unknown 00"]  # fmt: skip


def test_esc_parenthesis_and_esc_star_skip_their_data_counted_in_256s():
    beep = ESC + b"(A\x00\x01" + b"x" * 256
    image = ESC + b"*\x00\x00\x01" + b"x" * 256
    # m = 32 and 33 are 24-dot images: three bytes a column.
    tall = ESC + b"*\x20\x01\x00xyz" + ESC + b"*\x21\x01\x00xyz"

    rendering = render_escpos(beep + image + tall + b"B\n")

    assert rendering.lines == ["B"]
    assert rendering.markers == ["buzzer", "unknown 1b 2a 00", "unknown 1b 2a 20",
                                 "unknown 1b 2a 21"]  # fmt: skip


def test_gs_parenthesis_and_a_raster_image_cut_short_show_each_of_their_bytes():
    assert render_escpos(GS + b"(k\x00").markers == ["unknown 1d 28", "unknown 00"]
    assert render_escpos(GS + b"v0\x00\x01\x00\x01").markers == [
        "unknown 1d 76", "unknown 00", "unknown 01", "unknown 00", "unknown 01"
    ]  # fmt: skip


def test_gs_parenthesis_skips_its_data_counted_in_256s():
    rendering = render_escpos(GS + b"(L\x00\x01" + b"x" * 256 + b"B\n")

    assert rendering.lines == ["B"]
    assert rendering.markers == ["unknown 1d 28 4c"]


def test_a_raster_image_with_mode_byte_0_or_ascii_0():
    rendering = render_escpos(GS + b"v\x00\x00\x01\x00\x01\x00\xff")

    assert rendering.markers == ["image 8x1"]
    assert black(rendering.image) == (0, 0, 8, 1)


def test_double_width_text_is_the_normal_glyph_with_each_dot_doubled_across():
    normal = render_escpos(b"H\n").image.crop((0, 0, 12, 24))
    wide = render_escpos(GS + b"!\x10H\n").image.crop((0, 0, 24, 24))

    assert wide.tobytes() == normal.resize((24, 24), Image.Resampling.NEAREST).tobytes()


def test_esc_j_at_the_end_still_feeds_the_paper():
    assert render_escpos(b"A\n" + ESC + b"J\x30").image.height == 30 + 48 + 12


def test_text_discarded_by_several_esc_at_is_counted_together():
    rendering = render_escpos(b"ab" + ESC + b"@cde" + ESC + b"@f\n")

    assert rendering.lines == ["f"]
    assert rendering.notes == ["5 characters discarded by ESC @ (no line feed before it)"]


def test_esc_r_and_status_queries_and_bar_code_settings_print_nothing():
    data = (
        ESC + b"R\x0f" + DLE + b"\x04\x01" + DLE + b"\x05\x02" + GS + b"H\x02" + GS + b"h\x50"
        b"" + GS + b"w\x02" + GS + b"f\x00" + GS + b"a\x00" + GS + b"r\x01" + GS + b"I\x01"
        b"" + FS + b"-\x01" + FS + b"C\x01AB\n"
    )

    rendering = render_escpos(data)

    assert place(rendering) == [(0, 0, 24, 24, "AB")]
    assert rendering.markers == []


def test_cuts_full_and_partial_with_and_without_a_feed_are_drawn_as_blue_dashes():
    rendering = render_escpos(b"A\n" + GS + b"V\x00" + GS + b"VA\x10" + GS + b"V\x31")

    assert rendering.cuts == 3
    # Each cut is 8 dots below the paper's place, and takes 18 dots of paper.
    first, second, third = 30 + 8, 30 + 18 + 16 + 8, 30 + 18 + 16 + 18 + 8
    assert rendering.image.height == 30 + 18 + 16 + 18 + 18 + 12
    dashes = rows_of(rendering.image.crop((0, 0, 300, rendering.image.height)), BLUE)
    assert dashes == [first, first + 1, second, second + 1, third, third + 1]
    row = rendering.image.crop((0, first, 300, first + 1))
    assert [row.getpixel((x, 0)) for x in (0, 6, 7, 11, 12)] == [BLUE, BLUE, WHITE, WHITE, BLUE]
    assert BLUE in colours(rendering.image, (500, first - 8, 576, first + 8))


@pytest.mark.parametrize(
    ("mode", "kind"),
    [(b"\x00", "full"), (b"0", "full"), (b"A\x00", "full"),
     (b"\x01", "partial"), (b"1", "partial"), (b"B\x00", "partial")],
)  # fmt: skip
def test_each_cut_command_is_a_cut(mode, kind):
    rendering = render_escpos(b"A" + GS + b"V" + mode)

    assert rendering.cuts == 1
    same = render_escpos(b"A" + GS + b"V" + (b"\x00" if kind == "full" else b"\x01"))
    assert rendering.image.tobytes() == same.image.tobytes()
    # The text before a cut is printed first.
    assert rendering.lines == ["A"]
    assert rendering.image.height == 30 + 18 + 12


def test_a_cuts_label_sits_on_a_white_box_at_the_right_end_of_its_dashes():
    # A one-row raster image right-aligned above the cut: the box stops below it.
    rendering = render_escpos(ESC + b"a\x02" + GS + b"v0\x00\x01\x00\x01\x00\xff" + GS + b"V\x00")
    image = rendering.image

    # The cut 8 dots below the image's row; "full cut" is 56 dots in 12-pixel WenQuanYi
    # Mono, its box from 576 - 56 - 10 = 510 to the edge.
    assert colours(image, (568, 0, 576, 1)) == {BLACK}
    assert image.getpixel((509, 9)) == BLUE
    assert colours(image, (510, 9, 516, 11)) == {WHITE}
    assert colours(image, (510, 1, 576, 18)) == {WHITE, BLUE}
    label = image.crop((510, 1, 576, 18)).point(lambda index: 255 if index == BLUE else 0, "L")
    assert label.getbbox() == (5, 4, 59, 13)


def test_the_cut_says_which_cut_it_is():
    full = render_escpos(GS + b"V\x00").image.crop((480, 0, 576, 26))
    partial = render_escpos(GS + b"V\x01").image.crop((480, 0, 576, 26))

    assert full.tobytes() != partial.tobytes()
    assert BLUE in {index for _, index in full.getcolors()}


def test_an_unknown_cut_mode_is_a_marker_not_a_cut():
    rendering = render_escpos(GS + b"V\x07" + GS + b"VA")

    assert rendering.cuts == 0
    assert rendering.markers == ["unknown 1d 56 07", "unknown 1d 56 41"]


def test_drawer_and_buzzer_are_blue_tags_on_rows_of_their_own():
    data = (
        b"A"
        + ESC + b"p\x00\x19\xfa"
        + ESC + b"B\x02\x03"
        + ESC + b"(A\x04\x00\x30\x31\x32\x33"
        + DLE + b"\x14\x01\x00\x01"
        + b"B\n"
    )  # fmt: skip

    rendering = render_escpos(data)

    assert rendering.markers == ["drawer", "buzzer", "buzzer", "drawer"]
    assert place(rendering) == [(0, 0, 12, 24, "A"), (0, 30 + 4 * 24, 12, 24, "B")]
    for number in range(4):
        top = 30 + 24 * number + 2
        assert colours(rendering.image, (4, top, 5, top + 20)) == {BLUE}
        assert colours(rendering.image, (4, top, 40, top + 1)) == {BLUE}
        assert BLUE not in colours(rendering.image, (0, top - 2, 4, top + 22))
        assert BLUE not in colours(rendering.image, (0, top - 2, 100, top))


def test_other_esc_parenthesis_and_dle_dc4_functions_are_markers_and_skip_their_bytes():
    rendering = render_escpos(
        ESC + b"(B\x02\x00xyA" + DLE + b"\x14\x02\x01\x08B\n" + ESC + b"*\x00\x02\x00\xff\xffC"
        + ESC + b"*\x21\x01\x00\xff\xff\xffD\n"
    )  # fmt: skip

    assert rendering.lines == ["AB", "CD"]
    assert rendering.markers == ["unknown 1b 28 42", "unknown 10 14 02", "unknown 1b 2a 00",
                                 "unknown 1b 2a 21"]  # fmt: skip


def modules(matrix: list[list[bool]], size: int) -> bytes:
    """The dots of a QR code of `size`-dot modules: black or white, no grey edges."""
    return bytes(
        BLACK if matrix[y // size][x // size] else WHITE
        for y in range(size * len(matrix))
        for x in range(size * len(matrix))
    )


def qr_commands(text: bytes, *, module: int = 3, ecc: int = 48) -> bytes:
    def fn(body: bytes) -> bytes:
        return GS + b"(k" + bytes([len(body) % 256, len(body) // 256]) + body

    return (
        fn(b"1A2\x00")
        + fn(b"1C" + bytes([module]))
        + fn(b"1E" + bytes([ecc]))
        + fn(b"1P0" + text)
        + fn(b"1Q0")
    )


@pytest.mark.parametrize(
    ("align", "x"), [(b"\x00", 0), (b"\x01", (576 - 4 * 21) // 2), (b"\x02", 576 - 84)]
)
def test_a_qr_code_is_its_modules_at_its_size_and_alignment(align, x):
    rendering = render_escpos(b"A\n" + ESC + b"a" + align + qr_commands(b"12", module=4) + b"B\n")

    matrix = qr_matrix("12", "L")
    assert len(matrix) == 21
    assert rendering.markers == ["qr:12"]
    assert black(rendering.image, (0, 30, 576, 30 + 84)) == (x, 0, x + 84, 84)
    drawn = rendering.image.crop((x, 30, x + 84, 30 + 84)).tobytes()
    assert drawn == modules(matrix, 4)
    assert rendering.runs[1].y == 30 + 84 + 6


def test_a_qr_codes_module_size_is_kept_between_1_and_16_dots_and_its_level_read():
    def width(data: bytes) -> int:
        box = black(render_escpos(data).image)
        return box[2] - box[0]

    text = b"PICKUP-A001-PICKUP"
    low, high = len(qr_matrix(text.decode(), "L")), len(qr_matrix(text.decode(), "H"))
    assert low < high
    assert width(qr_commands(text, module=0, ecc=48)) == low
    assert width(qr_commands(text, module=40, ecc=48)) == 16 * low
    assert width(qr_commands(text, module=2, ecc=51)) == 2 * high
    assert width(qr_commands(text, module=2, ecc=50)) == 2 * len(qr_matrix(text.decode(), "Q"))
    assert width(qr_commands(text, module=2, ecc=49)) == 2 * len(qr_matrix(text.decode(), "M"))
    assert width(qr_commands(text, module=2, ecc=9)) == 2 * low


def test_a_qr_code_prints_its_stored_data_as_utf8_and_the_default_module_is_3_dots():
    body = b"1P0" + "奶茶A1".encode()
    store = GS + b"(k" + bytes([len(body), 0]) + body
    rendering = render_escpos(store + GS + b"(k\x03\x001Q0")

    assert rendering.markers == ["qr:奶茶A1"]
    size = 3 * len(qr_matrix("奶茶A1", "L"))
    assert black(rendering.image) == (0, 0, size, size)


def test_a_qr_code_function_without_its_parameter_is_a_marker_and_the_short_ones_are_read():
    short = GS + b"(k\x02\x001C" + GS + b"(k\x02\x001E" + GS + b"(k\x02\x001A"
    rendering = render_escpos(
        short + GS + b"(k\x03\x001R0" + GS + b"(k\x04\x001P0Z" + GS + b"(k\x02\x001Q"
    )

    assert rendering.markers == ["unknown 1d 28 6b 31 43", "unknown 1d 28 6b 31 45", "qr:Z"]


def test_qr_data_that_is_not_utf8_is_printed_with_replacement_characters():
    rendering = render_escpos(GS + b"(k\x05\x001P0\xffA" + GS + b"(k\x03\x001Q0")

    assert rendering.markers == ["qr:\ufffdA"]


def test_other_2d_code_functions_are_markers():
    rendering = render_escpos(
        GS
        + b"(k\x03\x002A0"
        + GS
        + b"(k\x01\x001"
        + GS
        + b"(k\x03\x001Z0"
        + GS
        + b"(L\x02\x0001A\n"
    )

    assert rendering.markers == [
        "unknown 1d 28 6b 32 41",
        "unknown 1d 28 6b 31",
        "unknown 1d 28 6b 31 5a",
        "unknown 1d 28 4c",
    ]
    assert rendering.lines == ["A"]


def test_a_raster_image_is_drawn_bit_for_bit_at_its_alignment_and_scale():
    # 16 x 2 dots: a row of 8 dark then 8 light, then the other way round.
    image = GS + b"v0\x00\x02\x00\x02\x00\xff\x00\x00\xff"
    rendering = render_escpos(image + ESC + b"a\x02" + GS + b"v0\x03\x01\x00\x01\x00\x81A\n")

    assert rendering.markers == ["image 16x2", "image 16x2"]
    picture = rendering.image
    assert black(picture, (0, 0, 16, 1)) == (0, 0, 8, 1)
    assert black(picture, (0, 1, 16, 2)) == (8, 0, 16, 1)
    # The second, doubled in both directions and right-aligned: dots 0 and 7 of 8.
    assert black(picture, (0, 2, 576, 4)) == (560, 0, 576, 2)
    assert colours(picture, (562, 2, 574, 4)) == {WHITE}
    assert place(rendering) == [(564, 4, 12, 24, "A")]


def test_a_raster_image_cut_short_or_empty_is_a_marker():
    rendering = render_escpos(GS + b"v0\x00\x02\x00\x02\x00\xffA")

    assert rendering.markers == ["unknown 1d 76 30"]
    assert rendering.lines == []
    assert render_escpos(GS + b"v0\x00\x00\x00\x01\x00").markers == ["unknown 1d 76 30"]
    assert render_escpos(GS + b"v0\x00\x01\x00\x00\x00").markers == ["unknown 1d 76 30"]


def test_a_raster_image_doubled_in_one_direction_and_centred():
    wide = render_escpos(ESC + b"a\x01" + GS + b"v0\x01\x01\x00\x01\x00\x81")
    tall = render_escpos(GS + b"v0\x02\x01\x00\x01\x00\x81")

    assert wide.markers == ["image 16x1"]
    assert black(wide.image) == (280, 0, 296, 1)
    assert colours(wide.image, (282, 0, 294, 1)) == {WHITE}
    assert tall.markers == ["image 8x2"]
    assert black(tall.image) == (0, 0, 8, 2)
    assert tall.image.height == 2 + 12


def test_a_raster_images_width_and_height_count_in_256s():
    rendering = render_escpos(GS + b"v0\x00\x00\x01\x01\x00" + b"\x00" * 256)
    tall = render_escpos(GS + b"v0\x00\x01\x00\x00\x01" + b"\x00" * 256 + b"A\n")

    assert rendering.markers == ["image 2048x1"]
    assert tall.markers == ["image 8x256"]
    assert tall.lines == ["A"]


def test_a_bar_code_is_grey_bars_over_its_text():
    rendering = render_escpos(b"A\n" + GS + b"kE\x04A001" + GS + b"k\x04B2\x00" + b"C\n")

    assert rendering.markers == ["barcode:A001", "barcode:B2"]
    assert place(rendering)[1] == (0, 30 + 84 + 84, 12, 24, "C")
    image = rendering.image
    # Bars from a quarter to three quarters of the paper, 6 dots apart, every third wider.
    assert colours(image, (144, 30, 148, 91)) == {GRAY}
    assert colours(image, (148, 30, 150, 91)) == {WHITE}
    assert colours(image, (150, 30, 153, 91)) == {GRAY}
    assert colours(image, (153, 30, 156, 91)) == {WHITE}
    assert colours(image, (144, 91, 432, 92)) == {WHITE}
    assert colours(image, (0, 30, 144, 91)) == {WHITE}
    assert colours(image, (426, 30, 429, 91)) == {GRAY}
    assert colours(image, (429, 30, 576, 91)) == {WHITE}
    # Its text centred under the bars, 70 dots below their top, in the notes' font.
    assert black(image, (0, 91, 576, 114)) == (272, 4, 301, 14)


def test_a_bar_code_without_its_end_takes_the_rest():
    rendering = render_escpos(GS + b"k\x04AB")

    assert rendering.markers == ["barcode:AB"]
    cut_short = render_escpos(GS + b"kE")
    assert cut_short.markers == ["unknown 1d 6b 45"]


def test_bar_code_types_0_to_6_end_at_a_nul_the_others_have_a_length():
    rendering = render_escpos(GS + b"k\x06A1\x00" + GS + b"kI\x03B22C\n")

    assert rendering.markers == ["barcode:A1", "barcode:B22"]
    assert rendering.lines == ["C"]


def test_a_bar_codes_text_ends_at_its_own_nul_and_non_ascii_bytes_are_replaced():
    bold_off = ESC + b"E\x00"
    rendering = render_escpos(
        bold_off + GS + b"k\x04AB\x00" + bold_off + GS + b"k\x04\x00" + GS + b"k\x04\xc3\xa9\x00C\n"
    )

    assert rendering.markers == ["barcode:AB", "barcode:", "barcode:\ufffd\ufffd"]
    assert rendering.lines == ["C"]


def test_fs_ampersand_and_fs_dot_switch_chinese_mode_on_and_off():
    rendering = render_escpos(FS + b".\xd6\xd0\n" + FS + b"&\xd6\xd0\n")

    assert place(rendering) == [(0, 0, 24, 24, "╓╨"), (0, 30, 24, 24, "中")]
    assert rendering.notes == [
        "Chinese mode is off: 2 bytes >= 0x80 print as cp437 characters, not as gb18030 text"
    ]


def test_fs_bang_and_fs_w_double_chinese_characters_only():
    rendering = render_escpos(
        FS + b"!\x04\xd6\xd0A\n" + FS + b"!\x08\xd6\xd0\n"
        + FS + b"!\x00" + FS + b"W\x01\xd6\xd0A\n" + FS + b"W\x00\xd6\xd0\n"
    )  # fmt: skip

    assert place(rendering) == [
        (0, 0, 48, 24, "中"),
        (48, 0, 12, 24, "A"),
        (0, 30, 24, 48, "中"),
        (0, 84, 48, 48, "中"),
        (48, 108, 12, 24, "A"),
        (0, 138, 24, 24, "中"),
    ]


def test_fs_bang_1_leaves_chinese_characters_their_size():
    rendering = render_escpos(FS + b"!\x01\xd6\xd0\n" + FS + b"!\x04" + FS + b"!\x03\xd6\xd0\n")

    assert place(rendering) == [(0, 0, 24, 24, "中"), (0, 30, 24, 24, "中")]


def test_a_chinese_character_is_as_big_as_the_larger_of_text_and_chinese_size():
    rendering = render_escpos(GS + b"!\x10" + FS + b"!\x08\xd6\xd0\n")

    assert [(run.scale_w, run.scale_h) for run in rendering.runs] == [(2, 2)]


def test_gb18030_four_byte_characters_and_undecodable_bytes():
    rendering = render_escpos("€".encode("gb18030") + b"\x81\x30\x81\x30" + b"\xfe\xff" + b"\n")

    assert rendering.runs[0].text == "€\x80\ufffd"
    assert rendering.notes == [
        "1 undecodable characters in gb18030 (drawn as \ufffd in a red box): the bytes are in "
        "another encoding than the printer's"
    ]
    # The undecodable character's cell, a Chinese one after two four-byte ones, is outlined.
    assert colours(rendering.image, (48, 0, 49, 24)) == {RED}
    assert colours(rendering.image, (71, 0, 72, 24)) == {RED}
    assert RED not in colours(rendering.image, (0, 0, 48, 24))


def test_esc_t_chooses_the_code_page_out_of_chinese_mode_and_notes_an_unknown_one():
    rendering = render_escpos(
        FS + b"." + ESC + b"t\x10\x80\n" + ESC + b"t\x02\x80\n" + ESC + b"t\x63\x80\n"
    )

    assert rendering.lines == ["€", "Ç", "Ç"]
    assert rendering.notes[0] == "ESC t 99: a code table the preview does not know, kept cp850"


def test_each_byte_from_0x80_out_of_chinese_mode_is_counted_and_undecodable_ones_too():
    rendering = render_escpos(FS + b".\x80\x81\n" + FS + b"&\xfe\xff\xfe\xff\n")

    assert rendering.notes == [
        "2 undecodable characters in gb18030 (drawn as \ufffd in a red box): the bytes are in "
        "another encoding than the printer's",
        "Chinese mode is off: 2 bytes >= 0x80 print as cp437 characters, not as gb18030 text",
    ]


def test_a_single_byte_printer_reads_its_own_code_page():
    rendering = render_escpos(b"\x80\n", encoding="cp1252")

    assert rendering.lines == ["€"]
    assert rendering.notes == []


def test_big5_text_on_a_big5_printer():
    rendering = render_escpos("奶茶".encode("big5") + b"\n", encoding="big5")

    assert place(rendering) == [(0, 0, 48, 24, "奶茶")]
    assert rendering.notes == []


def test_gb_bytes_on_a_big5_printer_are_noticed_even_when_they_decode():
    rendering = render_escpos(b"A" + "珍珠小狗".encode("gb18030") + b"\n", encoding="big5")

    assert rendering.notes == [
        "the text reads as gb18030, not big5: 3 of 4 two-byte characters are rare or "
        "undefined in big5 (encoded for another printer?)"
    ]


def test_a_lead_byte_before_a_line_feed_is_one_undecodable_half_width_character():
    rendering = render_escpos(b"A\xd6\nB\n")

    assert rendering.lines == ["A\ufffd", "B"]
    assert rendering.runs[0].width == 12 + 12
