"""The exact bytes a printer gets."""

from datetime import datetime
from decimal import Decimal

import pytest

from printing.escpos_encode import (
    CHINESE_OFF,
    CHINESE_ON,
    PrinterSettings,
    encode_document,
    encode_job,
    encode_text,
    status_problem,
)
from printing.paper import document_from_json
from printing.receipt import Receipt, ReceiptItem, kitchen_document, receipt_document

INIT = b"\x1b@"
PARTIAL_CUT = b"\x1bd\x06\x1dV\x01"
FULL_CUT = b"\x1bd\x06\x1dV\x00"
RECEIPT = (
    "================================\n"
    "         发财小狗饮品店\n"
    "================================\n"
    "订单号: #456\n"
    "珍珠奶茶\n"
    "  1 x ¥25.00 =            ¥25.00\n"
)


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        ("gb18030", b"\xd5\xe4\xd6\xe9\xc4\xcc\xb2\xe8"),
        ("gbk", b"\xd5\xe4\xd6\xe9\xc4\xcc\xb2\xe8"),
        ("big5", b"\xac\xc3\xaf]\xa5\xa4\xaf\xf9"),
    ],
)
def test_chinese_text_in_the_printers_encoding(encoding, expected):
    assert encode_text("珍珠奶茶", encoding) == expected


def test_a_plain_ascii_line_is_sent_as_is_in_chinese_encodings():
    # python-escpos' encoder would switch code pages here; we do not.
    assert encode_text("Order 42", "gb18030") == b"Order 42"


def test_yen_becomes_the_full_width_sign_and_keeps_the_columns():
    encoded = encode_text("总计:   ¥25.00", "gb18030")
    assert encoded == "总计:  ".encode("gb18030") + b"\xa3\xa425.00"
    # Never the four-byte GB18030 form of U+00A5.
    assert b"\x81\x30\x84\x36" not in encode_text("¥", "gb18030")
    assert encode_text("x ¥1", "big5") == b"x\xa2D1"


def test_yen_in_single_byte_code_pages():
    assert encode_text("¥5", "cp437") == b"\x9d5"
    assert encode_text("¥5", "cp850") == b"\xbe5"
    assert encode_text("¥5", "cp866") == b"Y5"


@pytest.mark.parametrize("encoding", ["gbk", "big5", "cp437"])
def test_a_character_the_encoding_lacks_becomes_a_question_mark(encoding):
    assert encode_text("a😀b", encoding) == b"a?b"


def test_a_copy_is_initialise_chinese_mode_header_content_feed_cut():
    data = encode_job(content=RECEIPT, settings=PrinterSettings())
    assert data.startswith(INIT + CHINESE_ON)
    assert data.endswith(PARTIAL_CUT)
    # The shop name centred, bold and double height, without its padding.
    assert b"\x1ba\x01" in data
    assert b"\x1bE\x01" in data
    assert "发财小狗饮品店\n".encode("gb18030") in data
    assert "         发财".encode("gb18030") not in data
    assert "珍珠奶茶".encode("gb18030") in data


def test_copies_repeat_the_whole_receipt():
    data = encode_job(content=RECEIPT, settings=PrinterSettings(), copies=3)
    assert data.count(INIT) == 3
    assert data.count(PARTIAL_CUT) == 3
    assert data.count("珍珠奶茶".encode("gb18030")) == 3


@pytest.mark.parametrize(
    ("cut", "ending", "absent"),
    [
        ("partial", PARTIAL_CUT, b"\x1dV\x00"),
        ("full", FULL_CUT, b"\x1dV\x01"),
        ("none", b"\x1bd\x06", b"\x1dV"),
    ],
)
def test_cut_modes(cut, ending, absent):
    data = encode_job(content="x\n", settings=PrinterSettings(cut=cut))
    assert data.endswith(ending)
    assert absent not in data


@pytest.mark.parametrize(
    ("mode", "present", "missing"),
    [
        ("on", [CHINESE_ON], [CHINESE_OFF]),
        ("off", [CHINESE_OFF], [CHINESE_ON]),
        ("none", [], [CHINESE_ON, CHINESE_OFF]),
    ],
)
def test_chinese_mode_commands(mode, present, missing):
    data = encode_job(content="x\n", settings=PrinterSettings(chinese_mode=mode))
    for command in present:
        assert data.startswith(INIT + command)
    for command in missing:
        assert command not in data


def test_drawer_buzzer_and_qr_code_are_optional():
    plain = encode_job(content="x\n", settings=PrinterSettings(), order_id=456)
    assert b"\x1bp" not in plain
    assert b"\x1bB" not in plain
    assert b"\x1d(k" not in plain
    full = encode_job(
        content="x\n",
        settings=PrinterSettings(cash_drawer=True, buzzer=True, qr_code=True),
        copies=2,
        order_id=456,
    )
    assert full.count(b"\x1bp\x0022") == 1  # the drawer opens once, not per copy
    assert full.startswith(b"\x1bB")
    assert full.count(b"\x1d(k\x06\x001P0456") == 2


def test_a_banner_heads_every_copy():
    data = encode_job(content=RECEIPT, settings=PrinterSettings(), copies=2, banner="可能重复")
    assert data.count("** 可能重复 **".encode("gb18030")) == 2


def test_plain_text_without_the_receipt_header_is_not_restyled():
    data = encode_job(content="外卖单 #88\n", settings=PrinterSettings())
    assert b"\x1bE\x01" not in data
    assert "外卖单 #88\n".encode("gb18030") in data


ORDER = Receipt(
    shop_name="发财小狗饮品店",
    order_id=456,
    time=datetime(2025, 7, 14, 10, 30),
    total=Decimal("50"),
    items=(ReceiptItem(name="珍珠奶茶", quantity=2, unit_price=Decimal("25"), sugar="半糖"),),
    pickup_number="A001",
)
TRIPLE, DOUBLE, NORMAL = b"\x1d!\x22", b"\x1d!\x11", b"\x1d!\x00"
CENTER, LEFT, BOLD = b"\x1ba\x01", b"\x1ba\x00", b"\x1bE\x01"


def gb(text: str) -> bytes:
    return text.encode("gb18030")


def test_a_document_prints_the_pickup_number_triple_and_centred_then_normal_again():
    document = receipt_document(ORDER, paper_width=80)
    data = encode_document(document=document, settings=PrinterSettings())
    assert data.startswith(INIT + CHINESE_ON)
    assert data.endswith(PARTIAL_CUT)
    number = CENTER + BOLD + TRIPLE + gb("取餐号 A001\n")
    assert number + LEFT + b"\x1bE\x00" + NORMAL in data
    # Unpadded: the printer centres it.
    assert gb(" 取餐号") not in data
    # The lines after it are normal text again: nothing else is enlarged.
    assert data.count(TRIPLE) == 1
    assert DOUBLE not in data
    assert gb("  2 x") + b"\xa3\xa425.00 =" in data  # the wide yen sign, as in text jobs


def test_a_make_ticket_prints_item_names_double():
    document = kitchen_document(ORDER, paper_width=58, station="吧台")
    data = encode_document(document=document, settings=PrinterSettings(header="none"))
    assert DOUBLE + gb("珍珠奶茶 x2\n") + LEFT + NORMAL in data
    assert BOLD + NORMAL + gb("  半糖\n") + LEFT + b"\x1bE\x00" + NORMAL in data
    assert CENTER + BOLD + NORMAL + gb("制作单 · 吧台\n") in data


@pytest.mark.parametrize(
    ("header", "shop_name"),
    [
        ("double", CENTER + BOLD + b"\x1d!\x01" + gb("发财小狗饮品店\n")),
        ("bold", CENTER + BOLD + NORMAL + gb("发财小狗饮品店\n")),
        ("none", CENTER + NORMAL + gb("发财小狗饮品店\n")),
    ],
)
def test_the_header_setting_styles_the_documents_first_block(header, shop_name):
    document = receipt_document(ORDER, paper_width=58)
    data = encode_document(document=document, settings=PrinterSettings(header=header))
    assert shop_name in data
    # The rule above it stays plain.
    assert data.startswith(INIT + CHINESE_ON + gb("=" * 32 + "\n") + CENTER)


def test_a_document_is_framed_like_a_text_job():
    document = receipt_document(ORDER, paper_width=58)
    data = encode_document(
        document=document,
        settings=PrinterSettings(cash_drawer=True, buzzer=True, qr_code=True),
        copies=2,
        order_id=456,
        banner="可能重复",
    )
    assert data.startswith(b"\x1bB")
    assert data.count(INIT) == 2
    assert data.count(b"\x1bp\x0022") == 1
    assert data.count(b"\x1d(k\x06\x001P0456") == 2
    assert data.count(gb("** 可能重复 **")) == 2
    assert data.count(gb("A001")) == 2


def test_no_control_character_from_text_reaches_the_printer_in_a_document():
    kick = "\x1bp0\x19\xfa"
    item = ReceiptItem(name=f"珍珠奶茶{kick}", quantity=1, unit_price=Decimal(1), sugar="\x1dV1")
    receipt = Receipt(**{**ORDER.__dict__, "items": (item,), "pickup_number": f"A1{kick}"})
    document = kitchen_document(receipt, paper_width=58, station=f"吧台{kick}")
    data = encode_document(document=document, settings=PrinterSettings())
    assert b"\x1bp" not in data
    assert data.count(b"\x1dV") == 1  # the cut
    wire = {"columns": 32, "lines": [{"text": f"x{kick}\x1b@", "size": 2}]}
    data = encode_document(document=document_from_json(wire), settings=PrinterSettings())
    assert b"\x1bp" not in data
    assert data.count(INIT) == 1


def test_settings_are_validated_and_taken_from_a_message():
    with pytest.raises(LookupError):
        PrinterSettings(encoding="klingon")
    with pytest.raises(ValueError, match="cut"):
        PrinterSettings(cut="sideways")
    with pytest.raises(ValueError, match="profile"):
        PrinterSettings(profile="no-such-printer")
    settings = PrinterSettings.from_mapping(
        {"encoding": "gbk", "cut": "full", "printer_type": "thermal", "paper_width": 58},
        encoding=None,
    )
    assert (settings.encoding, settings.cut, settings.paper_width) == ("gbk", "full", 58)
    assert (
        PrinterSettings.from_mapping({"encoding": "gbk"}, encoding="cp437").chinese_mode == "none"
    )


@pytest.mark.parametrize(
    ("answers", "problem"),
    [
        ((0x16, None, 0x12), None),
        ((0x16, None, 0x7E), "paper out / 缺纸"),
        ((0x1E, 0x06, 0x12), "cover open / 纸仓盖打开"),
        ((0x1E, 0x20, 0x12), "paper out / 缺纸"),
        ((0x1E, 0x00, 0x12), "printer offline / 打印机离线"),
        ((None, None, None), None),
    ],
)
def test_status_bytes(answers, problem):
    assert status_problem(*answers) == problem


# What python-escpos sends for the plain-text header: ESC ! n (print mode; 0x10 is double
# height) before weight and alignment, and three ESC ! 0 where it resets the size.
MODE_NORMAL, MODE_DOUBLE_HEIGHT = b"\x1b!\x00", b"\x1b!\x10"
BOLD_OFF = b"\x1bE\x00"
HEADED = (
    "================================\n"
    "         发财小狗饮品店\n"
    "================================\n"
    "订单号: #456\n"
)
SHOP_NAME = gb("发财小狗饮品店\n")
RULE_32 = b"=" * 32 + b"\n"
AFTER_HEADER = MODE_NORMAL * 3 + BOLD_OFF + LEFT + RULE_32 + gb("订单号: #456\n")


@pytest.mark.parametrize(
    ("header", "styled"),
    [
        ("double", MODE_NORMAL * 2 + MODE_DOUBLE_HEIGHT + BOLD + CENTER + SHOP_NAME + AFTER_HEADER),
        ("bold", BOLD + CENTER + SHOP_NAME + AFTER_HEADER),
        ("none", gb("         发财小狗饮品店\n") + RULE_32 + gb("订单号: #456\n")),
    ],
)
def test_a_text_jobs_shop_name_is_styled_as_the_header_setting_says(header, styled):
    data = encode_job(content=HEADED, settings=PrinterSettings(header=header))
    assert data == INIT + CHINESE_ON + RULE_32 + styled + PARTIAL_CUT


def test_a_header_block_of_three_lines_alone_is_still_styled():
    data = encode_job(
        content=HEADED.rsplit("订单号", 1)[0], settings=PrinterSettings(header="bold")
    )
    assert data == INIT + CHINESE_ON + RULE_32 + BOLD + CENTER + SHOP_NAME + (
        MODE_NORMAL * 3 + BOLD_OFF + LEFT + RULE_32 + PARTIAL_CUT
    )


@pytest.mark.parametrize(
    "content",
    [
        # A title over a rule is not the shop-name block: that starts with a rule.
        "外卖单 #88\n================\n地址: 人民路88号\n",
        # More than three lines between the rules is text, not a shop name.
        "================\n一\n二\n三\n四\n================\n",
    ],
)
def test_text_that_is_not_a_shop_name_block_is_printed_as_it_is(content):
    data = encode_job(content=content, settings=PrinterSettings())
    assert data == INIT + CHINESE_ON + gb(content) + PARTIAL_CUT


def test_only_the_lines_between_the_first_two_rules_are_styled():
    content = "================\n================\n发财小狗饮品店\n================\n"
    data = encode_job(content=content, settings=PrinterSettings())
    assert data.endswith(gb(content.split("\n", 1)[1]) + PARTIAL_CUT)


def test_a_text_job_is_printed_as_given_with_one_newline_at_its_end():
    def body(content: str) -> bytes:
        data = encode_job(content=content, settings=PrinterSettings(header="none"))
        return data.removeprefix(INIT + CHINESE_ON).removesuffix(PARTIAL_CUT)

    assert body("\n外卖单 #88\n手机尾号 XX\n\n\n") == gb("\n外卖单 #88\n手机尾号 XX\n")
    assert body("合计   5  \n") == gb("合计   5  \n")


def test_buzzer_drawer_banner_and_qr_code_have_their_exact_commands_and_places():
    data = encode_job(
        content="x\n",
        settings=PrinterSettings(cash_drawer=True, buzzer=True, qr_code=True),
        copies=2,
        order_id=7,
        banner="可能重复",
    )
    # QR model 2, module size 6, error level L, the order number, print it.
    qr = (
        b"\x1d(k\x04\x001A2\x00\x1d(k\x03\x001C\x06\x1d(k\x03\x001E0"
        + b"\x1d(k\x04\x001P07\x1d(k\x03\x001Q0"
    )
    copy = (
        INIT
        + CHINESE_ON
        + BOLD
        + CENTER
        + gb("** 可能重复 **\n")
        + BOLD_OFF
        + LEFT
        + b"x\n"
        + CENTER
        + qr
        + LEFT
        + PARTIAL_CUT
    )
    # Beep twice for 3 units first; the drawer opens after the first copy only.
    assert data == b"\x1bB\x02\x03" + copy + b"\x1bp\x0022" + copy


def test_one_copy_unless_more_are_asked_for():
    data = encode_job(content="x\n", settings=PrinterSettings())
    assert data == INIT + CHINESE_ON + b"x\n" + PARTIAL_CUT


def test_a_printer_without_native_qr_codes_gets_the_qr_code_as_an_image():
    settings = PrinterSettings(qr_code=True, profile="POS-5890")
    data = encode_job(content="x\n", settings=settings, order_id=7)
    assert b"\x1d(k" not in data
    assert CENTER + b"\x1bt\x01\n\x1dv0\x00" in data  # GS v 0: a raster image


def test_a_utf8_printer_gets_the_yen_sign_as_typed():
    assert encode_text("总计: ¥25.00", "utf-8") == "总计: ¥25.00".encode()


def test_a_code_page_without_a_yen_sign_prints_y_in_its_place():
    assert encode_text("合计 ¥5", "cp866") == b"?? Y5"


def test_a_documents_header_block_styles_only_the_lines_between_its_rules():
    document = receipt_document(ORDER, paper_width=58)
    data = encode_document(document=document, settings=PrinterSettings(header="double"))
    rule = gb("=" * 32 + "\n")
    assert data.startswith(
        INIT
        + CHINESE_ON
        + rule
        + CENTER
        + BOLD
        + b"\x1d!\x01"
        + SHOP_NAME
        + LEFT
        + BOLD_OFF
        + NORMAL
        + rule
        + CENTER
        + BOLD
        + NORMAL
        + gb("取餐号\n")
    )


def test_settings_from_a_message_keep_what_it_says_and_take_the_defaults_otherwise():
    assert PrinterSettings.from_mapping({"cut": "full"}) == PrinterSettings(cut="full")
    assert PrinterSettings.from_mapping(None) == PrinterSettings()
    # Another encoding chosen here brings its Chinese mode, unless the message set one.
    chosen = PrinterSettings.from_mapping({"encoding": "cp437"}, encoding="gbk")
    assert (chosen.encoding, chosen.chinese_mode) == ("gbk", "on")
    kept = PrinterSettings.from_mapping({"chinese_mode": "off"}, encoding="gbk")
    assert (kept.encoding, kept.chinese_mode) == ("gbk", "off")


def test_settings_as_a_mapping_are_every_field_and_read_back_the_same():
    settings = PrinterSettings(encoding="big5", cut="none", buzzer=True, paper_width=58)
    assert settings.as_mapping() == {
        "encoding": "big5",
        "chinese_mode": "on",
        "cut": "none",
        "header": "double",
        "cash_drawer": False,
        "buzzer": True,
        "qr_code": False,
        "profile": "default",
        "paper_width": 58,
    }
    assert PrinterSettings.from_mapping(settings.as_mapping()) == settings


def test_a_bad_setting_names_the_choices():
    with pytest.raises(ValueError, match=r"^cut must be one of partial, full, none$"):
        PrinterSettings(cut="sideways")


@pytest.mark.parametrize(
    ("answers", "problem"),
    [
        # Bit 0 of each answer is fixed at 0 by the standard; a printer that sets it anyway
        # reports what the other bits say, no more.
        ((0x17, 0x13, 0x13), None),
        ((0x16, None, 0x73), "paper out / 缺纸"),
    ],
)
def test_status_bits_outside_the_ones_read_change_nothing(answers, problem):
    assert status_problem(*answers) == problem
