"""The exact bytes a printer gets."""

import pytest

from printing.escpos_encode import (
    CHINESE_OFF,
    CHINESE_ON,
    PrinterSettings,
    encode_job,
    encode_text,
    status_problem,
)

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
