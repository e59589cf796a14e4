"""The preview renderer reads our own printer bytes back and checks them: every ticket kind at
both paper widths in GB18030, GBK and Big5, the test page and cup labels. The assertions are
on what the picture shows: its width, no text past the printable width, the decoded text
equal to the text we meant, ink where each run is, the cuts. Bytes in the wrong encoding,
commands it does not know and a missing font are reported, not hidden."""

import logging
import os
from datetime import datetime
from decimal import Decimal

import pytest
from PIL import Image

from printing.escpos_encode import PrinterSettings, encode_document, encode_job, encode_text
from printing.label_layout import label_page
from printing.labels import LabelSpec, cup_labels
from printing.paper import document_text
from printing.preview import find_cjk_font, render_escpos, render_tspl
from printing.preview.canvas import BLACK, FONT_MISSING, RED
from printing.receipt import (
    Receipt,
    ReceiptItem,
    kitchen_document,
    receipt_document,
    render_test_page,
    void_document,
)
from printing.tspl import encode_labels
from tests.test_layouts import DELIVERY

# The delivery order the layout golden tests print, drawn here.
WIDTH_DOTS = {58: 384, 80: 576}
DOCUMENTS = {
    "receipt": lambda width: receipt_document(DELIVERY, paper_width=width),
    "kitchen": lambda width: kitchen_document(DELIVERY, paper_width=width, station="吧台"),
    "void": lambda width: void_document(
        DELIVERY, paper_width=width, station="吧台", time=datetime(2025, 7, 14, 10, 45)
    ),
}


def printed(text: str, encoding: str) -> list[str]:
    """The lines the printer should print for `text`: as the encoder sends them (a two-column
    ￥ for " ¥", `?` for a character the encoding lacks), stripped of the padding the
    printer's alignment replaces."""
    return [encode_text(line, encoding).decode(encoding).strip() for line in text.splitlines()]


def inked(image: Image.Image, box: tuple[int, int, int, int]) -> bool:
    return any(index == BLACK for _, index in image.crop(box).getcolors())


def assert_faithful(rendering, width: int) -> None:
    """Picture as wide as the paper; every run inside it, with ink where it has text."""
    assert rendering.image.width == rendering.width_dots == width
    for run in rendering.runs:
        assert run.x >= 0, run
        assert run.x + run.width <= width, run
        assert run.y >= 0, run
        assert run.y + run.height <= rendering.image.height, run
        if run.text.strip():
            assert inked(rendering.image, (run.x, run.y, run.x + run.width, run.y + run.height))


@pytest.mark.parametrize("encoding", ["gb18030", "gbk", "big5"])
@pytest.mark.parametrize("paper_width", [58, 80])
@pytest.mark.parametrize("kind", list(DOCUMENTS))
def test_each_ticket_previews_as_the_text_we_meant(kind, paper_width, encoding):
    document = DOCUMENTS[kind](paper_width)
    settings = PrinterSettings(encoding=encoding, paper_width=paper_width)

    rendering = render_escpos(
        encode_document(document=document, settings=settings),
        paper_width=paper_width,
        encoding=encoding,
    )

    assert_faithful(rendering, WIDTH_DOTS[paper_width])
    assert [line.strip() for line in rendering.lines] == printed(document_text(document), encoding)
    assert rendering.cuts == 1
    assert rendering.notes == []
    assert rendering.markers == []
    # The pickup number is printed at triple size (GS ! 0x22).
    (pickup,) = [run for run in rendering.runs if "A001" in run.text]
    assert (pickup.scale_w, pickup.scale_h) == (3, 3)
    assert pickup.height == 72


def test_the_gb18030_receipt_prints_a_two_column_yen_sign_and_every_character():
    document = receipt_document(DELIVERY, paper_width=80)

    rendering = render_escpos(encode_document(document=document, settings=PrinterSettings()))

    text = rendering.text()
    assert "总计:                                    ￥62.00" in text.splitlines()
    assert "?" not in text
    assert "发财小狗饮品店" in text


def test_copies_are_cut_apart_and_print_the_same_text():
    document = receipt_document(DELIVERY, paper_width=58)
    settings = PrinterSettings(paper_width=58)
    one = render_escpos(encode_document(document=document, settings=settings), paper_width=58)

    three = render_escpos(
        encode_document(document=document, settings=settings, copies=3), paper_width=58
    )

    assert three.cuts == 3
    assert three.lines == one.lines * 3
    assert three.image.height > 2 * one.image.height


@pytest.mark.parametrize("header", ["double", "bold", "none"])
@pytest.mark.parametrize("paper_width", [58, 80])
def test_the_test_page_previews_as_its_text(paper_width, header):
    page = render_test_page(
        shop_name="发财小狗饮品店",
        printer_name="厨房打印机",
        paper_width=paper_width,
        time=datetime(2025, 7, 14, 10, 30),
    )
    settings = PrinterSettings(paper_width=paper_width, header=header)

    rendering = render_escpos(encode_job(content=page, settings=settings), paper_width=paper_width)

    assert_faithful(rendering, WIDTH_DOTS[paper_width])
    assert [line.strip() for line in rendering.lines] == printed(page, "gb18030")
    assert rendering.cuts == 1
    assert rendering.notes == []
    shop = next(run for run in rendering.runs if run.text.strip() == "发财小狗饮品店")
    assert shop.bold is (header != "none")
    assert shop.scale_h == (2 if header == "double" else 1)


def test_drawer_buzzer_and_qr_code_show_as_markers_and_the_qr_code_is_drawn():
    settings = PrinterSettings(cash_drawer=True, buzzer=True, qr_code=True)
    document = receipt_document(DELIVERY, paper_width=80)
    plain = render_escpos(encode_document(document=document, settings=PrinterSettings()))

    rendering = render_escpos(encode_document(document=document, settings=settings, order_id=456))

    assert rendering.markers == ["buzzer", "qr:456", "drawer"]
    assert rendering.lines == plain.lines
    assert rendering.image.height > plain.image.height + 60  # the QR code's room


def test_a_receipt_without_a_cut_shows_none():
    page = "hello\n"

    rendering = render_escpos(encode_job(content=page, settings=PrinterSettings(cut="none")))

    assert rendering.cuts == 0
    assert rendering.lines == ["hello"]


@pytest.mark.parametrize("dpi", [203, 300])
@pytest.mark.parametrize("encoding", ["gb18030", "big5"])
def test_cup_labels_preview_one_picture_per_cup_with_its_counter(dpi, encoding):
    spec = LabelSpec(dpi=dpi, encoding=encoding, qr_code=True)
    labels = cup_labels(DELIVERY)

    rendering = render_tspl(encode_labels(labels=labels, spec=spec), encoding=encoding, dpi=dpi)

    count = len(labels)
    assert count == 3
    assert rendering.labels == count
    assert_faithful(rendering, spec.width_dots)
    gap = int(spec.gap_mm * spec.dots_per_mm)
    assert rendering.image.height == count * spec.height_dots + (count - 1) * gap
    assert rendering.notes == []
    assert rendering.markers == ["qr:A001"] * count
    blocks = rendering.text().split("\n\n")
    assert len(blocks) == count
    for index, (block, label) in enumerate(zip(blocks, labels, strict=True), start=1):
        assert f"{index}/{count}" in block
        # Each run is a text of the layout, as the printer's font reads it back.
        page = label_page(label, spec)
        expected = sorted(encode_text(text.text, encoding).decode(encoding) for text in page.texts)
        top = (index - 1) * (spec.height_dots + gap)
        drawn = [run for run in rendering.runs if top <= run.y < top + spec.height_dots]
        assert sorted(run.text for run in drawn) == expected
        assert {(run.x, run.y - top) for run in drawn} == {(t.x, t.y) for t in page.texts}


def test_a_quote_in_a_label_text_comes_back_as_a_quote():
    receipt = Receipt(
        shop_name='"Dog" 小狗',
        order_id=1,
        time=datetime(2025, 7, 14, 10, 30),
        total=Decimal(10),
        items=(ReceiptItem('Tea "Z"', 1, Decimal(10)),),
    )

    rendering = render_tspl(encode_labels(labels=cup_labels(receipt), spec=LabelSpec()))

    assert 'Tea "Z"' in rendering.lines
    assert any(run.text.endswith('"Dog" 小狗') for run in rendering.runs)


def test_label_text_turned_90_degrees_and_past_the_edge():
    data = (
        b"SIZE 40 mm,30 mm\r\nGAP 2 mm,0 mm\r\nCLS\r\n"
        b'TEXT 100,10,"TSS24.BF2",90,1,1,"ABCD"\r\n'
        b'TEXT 250,200,"TSS24.BF2",0,2,2,"WIDE"\r\n'
        b"BAR 0,0,319,2\r\nPRINT 1,2\r\n"
    )

    rendering = render_tspl(data)

    assert rendering.labels == 2
    turned = rendering.runs[0]
    assert (turned.width, turned.height) == (24, 48)
    assert inked(rendering.image, (turned.x, turned.y, turned.x + 24, turned.y + 48))
    assert any("past the label's edge" in note for note in rendering.notes)
    # 40 x 30 mm at 203 dpi is 320 x 240 dots (8 dots per mm, as TSPL counts), the gap 16.
    assert rendering.image.size == (320, 2 * 240 + 16)


def test_gb18030_bytes_previewed_on_a_big5_printer_report_the_mismatch():
    document = receipt_document(DELIVERY, paper_width=80)
    data = encode_document(document=document, settings=PrinterSettings(encoding="gb18030"))

    rendering = render_escpos(data, encoding="big5")

    assert any("undecodable" in note and "big5" in note for note in rendering.notes)
    assert "\ufffd" in rendering.text()
    assert any(index == RED for _, index in rendering.image.getcolors())


def test_gb_text_that_decodes_as_big5_is_still_reported():
    page = render_test_page(
        shop_name="发财小狗饮品店", printer_name="厨房", paper_width=58, time=datetime(2025, 1, 1)
    )
    data = encode_job(content=page, settings=PrinterSettings(encoding="gb18030"))

    rendering = render_escpos(data, paper_width=58, encoding="big5")

    assert any("reads as big5" not in n and "reads as gb18030" in n for n in rendering.notes)


def test_chinese_mode_off_prints_gb_bytes_as_code_page_characters_and_says_so():
    data = encode_job(content="珍珠奶茶\n", settings=PrinterSettings(chinese_mode="off"))

    rendering = render_escpos(data)

    assert rendering.lines != ["珍珠奶茶"]
    assert any("Chinese mode is off" in note for note in rendering.notes)


def test_unknown_bytes_show_as_a_hex_marker_and_are_not_dropped():
    data = b"\x1b@abc\x1bz\x01def\n"

    rendering = render_escpos(data)

    assert rendering.lines == ["abcdef"]
    assert "unknown 1b 7a" in rendering.markers
    assert "unknown 01" in rendering.markers
    assert any(index == RED for _, index in rendering.image.getcolors())


def test_a_line_wider_than_the_paper_goes_on_on_the_next_line():
    rendering = render_escpos(b"\x1b@" + b"x" * 50 + b"\n", paper_width=58)

    assert rendering.lines == ["x" * 32, "x" * 18]
    assert any("wider than the paper" in note for note in rendering.notes)
    assert_faithful(rendering, 384)


def test_text_without_a_line_feed_is_not_printed_and_noted():
    rendering = render_escpos(b"\x1b@shown\nlost")

    assert rendering.lines == ["shown"]
    assert any("not printed" in note for note in rendering.notes)


def test_without_a_cjk_font_the_picture_and_the_log_say_so(monkeypatch, caplog):
    monkeypatch.setenv("PRINT_PREVIEW_FONT", "none")
    assert find_cjk_font() is None
    data = encode_job(content="珍珠奶茶 ¥25.00\n", settings=PrinterSettings())

    with caplog.at_level(logging.WARNING, logger="printing.preview"):
        rendering = render_escpos(data)
        labels = render_tspl(encode_labels(labels=cup_labels(DELIVERY), spec=LabelSpec()))

    assert FONT_MISSING in rendering.notes
    assert FONT_MISSING in labels.notes
    assert "font missing" in rendering.markers
    assert "fonts-wqy-microhei" in caplog.text
    # The warning is drawn in red above the paper; the text still prints below it.
    top = rendering.image.crop((0, 0, rendering.width_dots, 20))
    assert any(index == RED for _, index in top.getcolors())
    assert rendering.lines == ["珍珠奶茶￥25.00"]
    assert min(run.y for run in rendering.runs) >= 20


def test_a_font_path_that_does_not_exist_falls_back_to_an_installed_font(monkeypatch):
    monkeypatch.delenv("PRINT_PREVIEW_FONT", raising=False)
    installed = find_cjk_font()
    if installed is None:
        # make test installs fonts-wqy-microhei (as root): CI must have it.
        if os.environ.get("CI") == "true":
            pytest.fail("no CJK font installed: make test installs fonts-wqy-microhei")
        pytest.skip("no CJK font installed (make test installs fonts-wqy-microhei)")
    monkeypatch.setenv("PRINT_PREVIEW_FONT", "/nowhere/font.ttc")

    assert find_cjk_font() == installed


def test_an_80mm_receipt_with_ten_items_is_a_small_png():
    items = tuple(
        ReceiptItem(
            f"珍珠奶茶 {n}",
            1 + n % 3,
            Decimal(12 + n),
            size="大杯",
            sugar="半糖",
            toppings="珍珠, 椰果",
        )
        for n in range(10)
    )
    receipt = Receipt(
        shop_name="发财小狗饮品店",
        order_id=456,
        time=datetime(2025, 7, 14, 10, 30),
        total=Decimal(300),
        items=items,
        pickup_number="A001",
    )
    document = receipt_document(receipt, paper_width=80)
    data = encode_document(document=document, settings=PrinterSettings(qr_code=True), order_id=456)

    png = render_escpos(data).png()

    assert png.startswith(b"\x89PNG")
    assert len(png) < 100 * 1024
