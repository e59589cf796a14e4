"""The label preview read from TSPL bytes written by hand: where each command puts its ink, the
label's size from SIZE and GAP, how many labels PRINT makes, and what it says about bytes it
cannot read. Fast and without a database, for make mutate (docs/testing.md)."""

import pytest
from PIL import Image

from printing.preview import render_tspl
from printing.preview.canvas import BLACK, GRAY, RED, WHITE, qr_matrix


def tspl(*lines: str | bytes) -> bytes:
    return b"".join(
        (line if isinstance(line, bytes) else line.encode()) + b"\r\n" for line in lines
    )


def label(*lines: str | bytes, size: str = "SIZE 30 mm,20 mm") -> bytes:
    """One 240 x 160-dot label (8 dots per mm at 203 dpi) with `lines` drawn on it."""
    return tspl(size, "GAP 2 mm,0 mm", "CLS", *lines, "PRINT 1")


def black(image: Image.Image, box: tuple[int, int, int, int] | None = None):
    """The bounding box of the black dots (in `box`, relative to it), None when there are none."""
    part = image.crop(box) if box else image
    return part.point(lambda index: 255 if index == BLACK else 0, "L").getbbox()


def ink_within(image: Image.Image, x: int, y: int, width: int, height: int) -> bool:
    """Whether there is black ink, and all of it is in the box."""
    box = black(image)
    return box is not None and (x, y) <= box[:2] and box[2] <= x + width and box[3] <= y + height


def colours(image: Image.Image, box: tuple[int, int, int, int]) -> set[int]:
    return {index for _, index in image.crop(box).getcolors()}


def test_size_and_gap_set_each_labels_dots_and_labels_are_stacked_with_a_grey_gap():
    rendering = render_tspl(tspl("SIZE 30 mm,20 mm", "GAP 3 mm,0 mm", "CLS", "PRINT 1,2"))

    assert rendering.labels == 2
    assert rendering.width_dots == 240
    assert rendering.image.size == (240, 160 + 24 + 160)
    assert colours(rendering.image, (0, 0, 240, 160)) == {WHITE}
    assert colours(rendering.image, (0, 160, 240, 184)) == {GRAY}
    assert colours(rendering.image, (0, 184, 240, 344)) == {WHITE}
    assert rendering.notes == []
    assert rendering.cuts == 0


def test_sizes_in_dots_and_in_fractions_of_a_millimetre():
    rendering = render_tspl(tspl("SIZE 300 dot,12.5 mm", "GAP 0.5 mm,0", "PRINT 2"), dpi=300)

    # 300 dpi is 12 dots per mm: 12.5 mm is 150 dots, 0.5 mm 6.
    assert rendering.image.size == (300, 150 + 6 + 150)


def test_without_size_or_print_a_blank_40_by_30_mm_label_is_drawn_and_noted():
    rendering = render_tspl(b"CLS\r\n")

    assert rendering.labels == 0
    assert rendering.image.size == (320, 240)
    assert rendering.lines == []
    assert rendering.notes == ["no PRINT: no label printed", "no SIZE: drawn as a 40 x 30 mm label"]


def test_the_default_gap_is_2_mm_and_a_300_dpi_label_is_12_dots_a_millimetre():
    rendering = render_tspl(b"PRINT 2", dpi=300)

    assert rendering.image.size == (480, 360 + 24 + 360)
    assert colours(rendering.image, (0, 360, 480, 384)) == {GRAY}


def test_a_bar_is_black_exactly_where_it_is_placed_and_erase_clears_part_of_it():
    rendering = render_tspl(label("BAR 10,20,30,4", "ERASE 20,20,5,4"))

    image = rendering.image
    assert black(image) == (10, 20, 40, 24)
    assert colours(image, (10, 20, 20, 24)) == {BLACK}
    assert colours(image, (20, 20, 25, 24)) == {WHITE}
    assert colours(image, (25, 20, 40, 24)) == {BLACK}


def test_a_box_is_an_outline_of_its_thickness():
    image = render_tspl(label("BOX 10,10,50,40,3")).image

    assert black(image) == (10, 10, 51, 41)
    assert colours(image, (10, 10, 13, 41)) == {BLACK}
    assert colours(image, (13, 13, 48, 38)) == {WHITE}


def test_reference_moves_every_bar_box_erase_text_and_qr_code():
    plain = label(
        "BAR 0,0,8,8",
        "BOX 20,0,30,10,1",
        'TEXT 40,0,"3",0,1,1,"A"',
        'QRCODE 100,0,L,2,A,0,"1"',
    )
    moved = render_tspl(plain.replace(b"CLS", b"REFERENCE 5,7\r\nCLS"))

    assert black(moved.image) == tuple(
        v + d for v, d in zip(black(render_tspl(plain).image), (5, 7, 5, 7), strict=True)
    )
    assert black(moved.image, (5, 7, 13, 15)) == (0, 0, 8, 8)
    assert (moved.runs[0].x, moved.runs[0].y) == (45, 7)
    erased = render_tspl(label("REFERENCE 2,3", "BAR 0,0,10,10", "ERASE 0,0,4,4"))
    assert colours(erased.image, (2, 3, 6, 7)) == {WHITE}
    assert colours(erased.image, (6, 7, 12, 13)) == {BLACK}


def test_text_is_drawn_in_its_fonts_cells_at_its_place():
    rendering = render_tspl(label('TEXT 10,20,"TSS24.BF2",0,1,1,"AB\xd6\xd0"'.encode("latin-1")))

    (run,) = rendering.runs
    # Two half-width cells of 12 dots and one Chinese character of 24, 24 dots high.
    assert (run.x, run.y, run.width, run.height, run.text) == (10, 20, 48, 24, "AB中")
    assert (run.scale_w, run.scale_h, run.bold) == (1, 1, False)
    assert ink_within(rendering.image, 10, 20, 48, 24)
    assert rendering.lines == ["AB中"]
    assert rendering.notes == []


@pytest.mark.parametrize(
    ("font", "size"),
    [
        ("TSS16.BF2", (16, 16)),
        ("TST24.BF2", (24, 24)),
        ("1", (16, 12)),
        ("2", (24, 20)),
        ("3", (32, 24)),
        ("4", (48, 32)),
        ("5", (64, 48)),
        ("6", (28, 19)),
        ("7", (42, 27)),
        ("8", (28, 25)),
    ],
)
def test_each_built_in_font_has_its_cell_size(font, size):
    rendering = render_tspl(label(f'TEXT 0,0,"{font}",0,1,1,"AB"', size="SIZE 40 mm,30 mm"))

    (run,) = rendering.runs
    assert (run.width, run.height) == size


def test_a_font_the_preview_does_not_know_is_drawn_as_tss24_and_noted():
    rendering = render_tspl(label('TEXT 0,0,"ROMAN.TTF",0,1,1,"AB"'))

    (run,) = rendering.runs
    assert (run.width, run.height) == (24, 24)
    assert rendering.notes == ["font 'ROMAN.TTF' drawn as TSS24.BF2"]


def test_text_scaled_twice_as_wide_and_three_times_as_high():
    rendering = render_tspl(label('TEXT 10,10,"TSS24.BF2",0,2,3,"II"'))

    (run,) = rendering.runs
    assert (run.x, run.y, run.width, run.height) == (10, 10, 48, 72)
    assert (run.scale_w, run.scale_h) == (2, 3)
    assert ink_within(rendering.image, 10, 10, 48, 72)
    box = black(rendering.image)
    # Taller than one cell: the glyphs are stretched, not drawn at their own size.
    assert box[3] - box[1] > 24


@pytest.mark.parametrize(
    ("rotation", "place"),
    [(90, (76, 100, 24, 48)), (180, (52, 76, 48, 24)), (270, (100, 52, 24, 48))],
)
def test_turned_text_lies_on_the_side_its_rotation_says(rotation, place):
    rendering = render_tspl(label(f'TEXT 100,100,"TSS24.BF2",{rotation},1,1,"ABCD"'))

    (run,) = rendering.runs
    x, y, w, h = place
    assert (run.x, run.y, run.width, run.height) == place
    assert ink_within(rendering.image, x, y, w, h)
    assert rendering.notes == []


def test_turned_text_reads_from_the_side_it_is_turned_to():
    upright = render_tspl(label('TEXT 10,10,"TSS24.BF2",0,1,1,"L"')).image
    turned = render_tspl(label('TEXT 100,10,"TSS24.BF2",90,1,1,"L"')).image
    glyph = upright.crop((10, 10, 22, 34)).transpose(Image.Transpose.ROTATE_270)

    assert turned.crop((76, 10, 100, 22)).tobytes() == glyph.tobytes()


def test_a_rotation_the_printer_does_not_have_is_drawn_upright_and_noted():
    rendering = render_tspl(label('TEXT 10,10,"TSS24.BF2",45,1,1,"AB"'))

    (run,) = rendering.runs
    assert (run.x, run.y, run.width, run.height) == (10, 10, 24, 24)
    assert rendering.notes == ["TEXT rotation 45 drawn as 0"]


@pytest.mark.parametrize(
    "place",
    ["-1,0", "0,-1", "217,0", "0,137"],
)
def test_text_past_any_edge_of_the_label_is_noted(place):
    rendering = render_tspl(label(f'TEXT {place},"TSS24.BF2",0,1,1,"AB"'))

    assert rendering.notes == ["1 texts run past the label's edge and are cut off (first: 'AB')"]


def test_text_touching_the_labels_edges_is_not_past_them():
    rendering = render_tspl(label('TEXT 216,136,"TSS24.BF2",0,1,1,"AB"', 'TEXT 0,0,"3",0,1,1,"A"'))

    assert rendering.notes == []


def test_text_past_the_edge_is_cut_off_at_the_labels_edge():
    rendering = render_tspl(
        tspl("SIZE 30 mm,20 mm", "CLS", 'TEXT 220,140,"TSS24.BF2",0,3,3,"WW"', "PRINT 2")
    )

    # The default gap (2 mm) between the labels stays grey.
    assert colours(rendering.image, (0, 160, 240, 176)) == {GRAY}
    assert black(rendering.image, (220, 140, 240, 160)) is not None


def test_a_qr_code_is_its_modules_at_the_cell_size_at_its_place():
    rendering = render_tspl(label('QRCODE 20,30,H,4,A,0,"A001"'))

    matrix = qr_matrix("A001", "H")
    size = 4 * len(matrix)
    assert rendering.markers == ["qr:A001"]
    # The finder patterns are dark to the code's edges.
    assert black(rendering.image) == (20, 30, 20 + size, 30 + size)
    expected = bytes(
        BLACK if matrix[y // 4][x // 4] else WHITE for y in range(size) for x in range(size)
    )
    assert rendering.image.crop((20, 30, 20 + size, 30 + size)).tobytes() == expected


def test_a_qr_codes_error_correction_level_is_read_and_an_unknown_one_is_l():
    def size(level: str) -> int:
        image = render_tspl(label(f'QRCODE 0,0,{level},1,A,0,"PICKUP-A001-PICKUP"')).image
        box = black(image)
        return box[2] - box[0]

    assert size("h") == len(qr_matrix("PICKUP-A001-PICKUP", "H"))
    assert size("L") == len(qr_matrix("PICKUP-A001-PICKUP", "L")) < size("H")
    assert size("X") == size("L")


def test_print_makes_sets_times_copies_labels_and_print_0_none():
    assert render_tspl(tspl("CLS", "PRINT 3")).labels == 3
    assert render_tspl(tspl("CLS", "PRINT 2,3")).labels == 6
    assert render_tspl(tspl("CLS", "PRINT 2,0")).labels == 2
    assert render_tspl(tspl("CLS", "PRINT 0")).labels == 0
    assert render_tspl(tspl("CLS", "PRINT")).labels == 1


def test_cls_clears_the_label_and_print_again_prints_what_is_there():
    data = tspl(
        "SIZE 30 mm,20 mm",
        "GAP 2 mm,0 mm",
        "CLS",
        'TEXT 0,0,"3",0,1,1,"ONE"',
        "PRINT 1",
        "PRINT 1",
        "CLS",
        'TEXT 0,0,"3",0,1,1,"TWO"',
        "PRINT 1",
    )

    rendering = render_tspl(data)

    assert rendering.lines == ["ONE", "", "ONE", "", "TWO"]
    assert [(run.text, run.y) for run in rendering.runs] == [("ONE", 0), ("ONE", 176), ("TWO", 352)]


def test_a_labels_lines_are_its_texts_by_baseline_then_left_to_right():
    rendering = render_tspl(
        label(
            'TEXT 100,40,"3",0,1,1,"right"',
            'TEXT 0,40,"3",0,1,1,"left"',
            'TEXT 0,0,"3",0,1,1,"top"',
            # 16 dots high from y 48: the same baseline (64) as 24 dots high from 40.
            'TEXT 60,48,"TSS16.BF2",0,1,1,"mid"',
        )
    )

    assert rendering.lines == ["top", "left mid right"]


def test_commands_end_at_lf_with_or_without_cr_and_status_queries_print_nothing():
    data = b"SIZE 30 mm,20 mm\nCLS\r\n\x1b!?\r\n\r\n  \r\nBAR 0,0,8,8\nPRINT 1"

    rendering = render_tspl(data)

    assert rendering.labels == 1
    assert rendering.markers == []
    assert black(rendering.image) == (0, 0, 8, 8)


def test_a_status_query_right_before_a_command_does_not_swallow_it():
    rendering = render_tspl(b"\x1b!?CLS\r\nBAR 0,0,8,8\r\nPRINT 1\r\n")

    assert rendering.markers == []
    assert rendering.labels == 1


def test_command_names_are_read_in_any_case_and_settings_print_nothing():
    rendering = render_tspl(
        tspl("size 30 mm,20 mm", "Direction 1", "DENSITY 8", "SPEED 4", "cls", "print 1")
    )

    assert rendering.image.size == (240, 160)
    assert rendering.markers == []
    assert rendering.notes == []


def test_an_unknown_command_is_a_marker_and_a_red_tag_on_the_label():
    rendering = render_tspl(label("BEEP", "SOUND 1,2,3,4,5,6,7,8,9,10,11,12", "TEXTBOX"))

    assert rendering.markers == [
        "unknown TSPL BEEP",
        "unknown TSPL SOUND 1,2,3,4,5,6,7,8,9,",
        "unknown TSPL TEXTBOX",
    ]
    # Tags 20 dots high from (2, 2), each 22 dots below the last.
    for top in (2, 24, 46):
        assert colours(rendering.image, (2, top, 3, top + 20)) == {RED}
        assert colours(rendering.image, (2, top, 40, top + 1)) == {RED}
        assert colours(rendering.image, (0, top - 2, 2, top + 20)) == {WHITE}
        assert colours(rendering.image, (0, top - 2, 40, top)) == {WHITE}
    assert colours(rendering.image, (0, 66, 240, 160)) == {WHITE}


def test_a_command_with_arguments_it_cannot_read_is_shown_as_unknown():
    rendering = render_tspl(
        label(
            "BAR 1,2,x,4",
            "BAR 1,2",
            'TEXT 0,0,"3",0,1,1,NOQUOTE',
            "REFERENCE 1",
            "QRCODE 0,0,L,4,A,0,NOQUOTE",
        )
    )

    assert rendering.markers == [
        "unknown TSPL BAR 1,2,x,4",
        "unknown TSPL BAR 1,2",
        'unknown TSPL TEXT 0,0,"3",0,1,1,NOQUO',
        "unknown TSPL REFERENCE 1",
        "unknown TSPL QRCODE 0,0,L,4,A,0,NOQUO",
    ]
    assert rendering.runs == []


def test_quoted_text_reads_the_escapes_for_quote_cr_lf_and_backslash():
    rendering = render_tspl(
        label(b'TEXT 0,0,"3",0,1,1,"a\\["]b\\[\\]c\\[X]d\\["', b'TEXT 0,40,"3" , 0,1,1, "x,y"')
    )

    assert [run.text for run in rendering.runs] == ['a"b\\c\\[X]d\\[', "x,y"]
    cr_lf = render_tspl(label(b'TEXT 0,0,"3",0,1,1,"a\\[R]\\[L]b"'))
    assert cr_lf.runs[0].text == "a\r\nb"


def test_gb_text_on_a_big5_printer_says_which_encoding_the_font_reads():
    rendering = render_tspl(label('TEXT 0,0,"TSS24.BF2",0,1,1,"AB"'), encoding="big5")

    assert rendering.notes == ["a GB font reads the text as gbk, but the printer is set to big5"]


def test_a_big5_font_reads_big5_on_a_gb_printer_and_says_so():
    rendering = render_tspl(label('TEXT 0,0,"TST24.BF2",0,1,1,"\xa4\xa4"'.encode("latin-1")))

    assert rendering.runs[0].text == "中"
    assert rendering.notes == [
        "a BIG5 font reads the text as big5, but the printer is set to gb18030"
    ]


def test_a_latin_font_reads_cp437_and_takes_one_cell_a_byte():
    rendering = render_tspl(label(b'TEXT 0,0,"3",0,1,1,"\x82\xd6\xd0"', size="SIZE 40 mm,30 mm"))

    (run,) = rendering.runs
    assert run.text == "é╓╨"
    assert run.width == 3 * 16
    assert rendering.notes == []


def test_undecodable_bytes_are_counted_and_gb_text_on_a_big5_font_is_hinted():
    undecodable = render_tspl(label(b'TEXT 0,0,"TSS24.BF2",0,1,1,"\x81\x20\xfe\xff"'))

    assert undecodable.notes == [
        "2 undecodable characters in gb18030: the text is in another encoding than the "
        "printer's font"
    ]
    gb = "珍珠小狗".encode("gb18030")
    hinted = render_tspl(label(b'TEXT 0,0,"TST24.BF2",0,1,1,"' + gb + b'"'), encoding="big5")
    assert hinted.notes == [
        "the text reads as gb18030, not big5: 3 of 4 two-byte characters are rare or "
        "undefined in big5 (encoded for another printer?)"
    ]


def test_the_same_note_is_given_once_and_runs_of_later_labels_are_below_the_gap():
    rendering = render_tspl(
        tspl(
            "SIZE 30 mm,20 mm",
            "GAP 2 mm,0 mm",
            "CLS",
            'TEXT 0,10,"ROMAN",0,1,1,"A"',
            'TEXT 0,40,"ROMAN",0,1,1,"B"',
            "PRINT 3",
        )
    )

    assert rendering.notes == ["font 'ROMAN' drawn as TSS24.BF2"]
    assert [run.y for run in rendering.runs] == [10, 40, 186, 216, 362, 392]
    assert rendering.lines == ["A", "B", "", "A", "B", "", "A", "B"]


def test_labels_with_gap_0_follow_each_other_without_a_gap():
    rendering = render_tspl(
        tspl("SIZE 30 mm,20 mm", "GAP 0 mm,0 mm", "CLS", 'TEXT 0,0,"3",0,1,1,"ONE"', "PRINT 2")
    )

    assert rendering.image.size == (240, 320)
    assert GRAY not in colours(rendering.image, (0, 0, 240, 320))
    assert [run.y for run in rendering.runs] == [0, 160]


def test_a_status_query_glued_to_the_next_command_leaves_that_command_to_run():
    rendering = render_tspl(label(b"\x1b!?BAR 0,0,8,8"))

    assert black(rendering.image) == (0, 0, 8, 8)


def test_a_line_feed_first_is_an_empty_command():
    rendering = render_tspl(b"\n" + label("BAR 0,0,8,8"))

    assert rendering.image.size == (240, 160)
    assert black(rendering.image) == (0, 0, 8, 8)


def test_a_command_name_that_is_not_ascii_is_an_unknown_command():
    rendering = render_tspl(label("PRÜFEN 1".encode(), "BEEP é".encode()))

    assert rendering.markers == [
        "unknown TSPL PR\ufffd\ufffdFEN 1",
        "unknown TSPL BEEP \ufffd\ufffd",
    ]


def test_sizes_without_a_unit_are_millimetres_and_bar_sizes_may_be_in_millimetres():
    rendering = render_tspl(
        tspl("SIZE 30,20", "GAP 3,0", "CLS", "BAR 1 mm,1 mm,2 mm,1 MM", "PRINT 2")
    )

    assert rendering.image.size == (240, 160 + 24 + 160)
    assert black(rendering.image, (0, 0, 240, 160)) == (8, 8, 24, 16)


def test_a_box_with_a_corner_radius_is_drawn_and_moved_by_reference():
    rendering = render_tspl(label("REFERENCE 5,7", "BOX 10,10,50,40,3,5"))

    assert black(rendering.image) == (15, 17, 56, 48)


def test_a_font_named_without_quotes_or_not_in_ascii():
    unquoted = render_tspl(label('TEXT 0,0,3,0,1,1,"AB"'))
    accented = render_tspl(label('TEXT 0,0,"É.TTF",0,1,1,"AB"'.encode()))

    assert (unquoted.runs[0].width, unquoted.runs[0].height) == (32, 24)
    assert accented.notes == ["font '\ufffd\ufffd.TTF' drawn as TSS24.BF2"]


def test_latin_text_beside_gb_text_on_a_big5_font_does_not_hide_the_hint():
    gb = "珍珠小狗".encode("gb18030")
    rendering = render_tspl(label(b'TEXT 0,0,"TST24.BF2",0,1,1,"A' + gb + b'"'), encoding="big5")

    assert rendering.notes == [
        "the text reads as gb18030, not big5: 3 of 4 two-byte characters are rare or "
        "undefined in big5 (encoded for another printer?)"
    ]


def upright(text: str = "L") -> Image.Image:
    """The TSS24 glyphs of `text` as drawn unturned and unscaled, 12 x 24 dots a character."""
    image = render_tspl(label(f'TEXT 10,10,"TSS24.BF2",0,1,1,"{text}"')).image
    return image.crop((10, 10, 10 + 12 * len(text), 34))


@pytest.mark.parametrize(
    ("rotation", "box", "turn"),
    [
        (180, (88, 76, 100, 100), Image.Transpose.ROTATE_180),
        (270, (100, 88, 124, 100), Image.Transpose.ROTATE_90),
    ],
)
def test_text_turned_upside_down_or_a_quarter_left_is_the_upright_text_turned(rotation, box, turn):
    turned = render_tspl(label(f'TEXT 100,100,"TSS24.BF2",{rotation},1,1,"L"')).image

    assert turned.crop(box).tobytes() == upright().transpose(turn).tobytes()


@pytest.mark.parametrize(("sw", "sh"), [(2, 2), (2, 1), (1, 2)])
def test_scaled_text_is_the_upright_text_with_each_dot_repeated(sw, sh):
    scaled = render_tspl(label(f'TEXT 10,10,"TSS24.BF2",0,{sw},{sh},"Lj"')).image
    expected = upright("Lj").resize((24 * sw, 24 * sh), Image.Resampling.NEAREST)

    assert scaled.crop((10, 10, 10 + 24 * sw, 10 + 24 * sh)).tobytes() == expected.tobytes()


def test_a_quoted_qr_error_correction_level_is_not_read_and_bad_utf8_is_replaced():
    quoted = render_tspl(label('QRCODE 0,0,"H",1,A,0,"PICKUP-A001-PICKUP"'))
    plain = render_tspl(label('QRCODE 0,0,L,1,A,0,"PICKUP-A001-PICKUP"'))
    bad = render_tspl(label(b'QRCODE 0,0,L,1,A,0,"\xffA"'))

    assert quoted.image.tobytes() == plain.image.tobytes()
    assert bad.markers == ["qr:\ufffdA"]


def test_each_printed_label_is_drawn_at_its_place_and_a_1_dot_gap_is_grey():
    rendering = render_tspl(
        tspl("SIZE 30 mm,20 mm", "GAP 1 dot,0", "CLS", "BAR 0,0,8,8", "PRINT 2")
    )

    assert rendering.image.size == (240, 321)
    assert black(rendering.image, (0, 161, 240, 321)) == (0, 0, 8, 8)
    assert colours(rendering.image, (0, 160, 240, 161)) == {GRAY}


def test_a_long_text_past_the_edge_is_named_by_its_first_30_characters():
    text = "0123456789" * 4
    rendering = render_tspl(label(f'TEXT 0,0,"1",0,1,1,"{text}"'))

    assert rendering.notes == [
        f"1 texts run past the label's edge and are cut off (first: {text[:30]!r})"
    ]


def test_erase_clears_exactly_its_rectangle_inside_a_bar():
    image = render_tspl(label("BAR 0,0,20,20", "ERASE 5,5,5,5")).image

    assert colours(image, (5, 5, 10, 10)) == {WHITE}
    assert colours(image, (5, 10, 10, 11)) == {BLACK}
    assert colours(image, (10, 5, 11, 10)) == {BLACK}
