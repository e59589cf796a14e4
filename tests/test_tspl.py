"""The exact TSPL bytes a label printer gets, and a fake TSPL printer on the network."""

from datetime import datetime
from decimal import Decimal

import pytest

from printing.devices import DeviceError, NetworkDevice
from printing.labels import LabelSpec, cup_labels
from printing.receipt import Receipt, ReceiptItem
from printing.tspl import (
    TSPL_STATUS,
    encode_labels,
    encode_labels_reporting,
    quoted,
    tspl_status_problem,
    unencodable,
)
from tests.fake_label_printer import FakeLabelPrinter, parse_tspl, parse_tspl_job

TIME = datetime(2025, 7, 14, 10, 30)


def receipt(*items: ReceiptItem, **fields) -> Receipt:
    values = {"shop_name": "发财小狗", "pickup_number": "A001", "order_type": "takeaway"}
    values["time"] = TIME
    return Receipt(order_id=7, total=Decimal(0), items=items, **values | fields)


THREE_CUPS = receipt(
    ReceiptItem("珍珠奶茶", 2, Decimal(15), size="大杯", sugar="半糖", toppings="珍珠, 椰果"),
    ReceiptItem("Latte", 1, Decimal(20), temperature="热"),
)
SETUP = ["SIZE 40 mm,30 mm", "GAP 2 mm,0 mm", "DIRECTION 1", "REFERENCE 0,0", "DENSITY 8"]


def tspl(lines: list[str], encoding: str = "gb18030") -> bytes:
    return "".join(line + "\r\n" for line in lines).encode(encoding)


def test_a_three_cup_order_at_40_by_30_mm_203_dpi():
    def cup(counter: str, name: str, options: str, toppings: list[str]) -> list[str]:
        return [
            "CLS",
            'TEXT 12,12,"TSS24.BF2",0,2,2,"#A001 外带"',
            f'TEXT 272,36,"TSS24.BF2",0,1,1,"{counter}"',  # on the header's baseline
            f'TEXT 12,64,"TSS24.BF2",0,2,2,"{name}"',
            f'TEXT 12,116,"TSS24.BF2",0,1,1,"{options}"',
            *toppings,
            'TEXT 12,204,"TSS24.BF2",0,1,1,"10:30"',
            'TEXT 212,204,"TSS24.BF2",0,1,1,"发财小狗"',
            "PRINT 1,1",
        ]

    tea = ('TEXT 12,144,"TSS24.BF2",0,1,1,"+珍珠 +椰果"',)
    assert encode_labels(labels=cup_labels(THREE_CUPS), spec=LabelSpec()) == tspl(
        SETUP
        + cup("1/3", "珍珠奶茶", "大杯 / 半糖", tea)
        + cup("2/3", "珍珠奶茶", "大杯 / 半糖", tea)
        + cup("3/3", "Latte", "热", ())
    )


def test_the_same_order_at_300_dpi_has_room_for_a_double_counter():
    data = encode_labels(labels=cup_labels(THREE_CUPS), spec=LabelSpec(dpi=300))
    first = [
        "CLS",
        'TEXT 18,18,"TSS24.BF2",0,2,2,"#A001 外带"',
        'TEXT 390,18,"TSS24.BF2",0,2,2,"1/3"',
        'TEXT 18,72,"TSS24.BF2",0,2,2,"珍珠奶茶"',
        'TEXT 18,126,"TSS24.BF2",0,1,1,"大杯 / 半糖"',
        'TEXT 18,156,"TSS24.BF2",0,1,1,"+珍珠 +椰果"',
        'TEXT 18,318,"TSS24.BF2",0,1,1,"10:30"',
        'TEXT 366,318,"TSS24.BF2",0,1,1,"发财小狗"',
        "PRINT 1,1",
    ]
    assert data.startswith(tspl(SETUP + first))
    assert len(parse_tspl(data, "gb18030")) == 3


def test_a_qr_code_of_the_pickup_number_sits_at_the_right_edge_of_every_label():
    # 40 mm at 203 dpi is 320 dots: "A001" is a 21-module code at 3 dots a module, ending at
    # the 12-dot margin (245 + 63 = 308).
    data, replaced = encode_labels_reporting(
        labels=cup_labels(THREE_CUPS)[:2], spec=LabelSpec(qr_code=True)
    )
    assert replaced == []
    labels = data.split(b"CLS\r\n")
    assert labels[0] == tspl(SETUP)
    assert len(labels) == 3
    for label in labels[1:]:
        assert label.endswith(tspl(['QRCODE 245,64,L,3,A,0,"A001"', "PRINT 1,1"]))
    # What the texts could not print is still reported when a QR code follows them.
    smiley = receipt(ReceiptItem("奶茶😀", 1, Decimal(15)))
    labels = cup_labels(smiley)
    assert encode_labels_reporting(labels=labels, spec=LabelSpec(qr_code=True))[1] == ["😀"]


def test_a_long_name_with_quotes_wraps_to_two_lines_in_normal_size():
    order = receipt(ReceiptItem('超级无敌好喝的"芝士"葡萄多肉Cheese Grape 500ml', 1, Decimal(1)))
    assert encode_labels(labels=cup_labels(order, reprint=True), spec=LabelSpec()) == (
        b"SIZE 40 mm,30 mm\r\nGAP 2 mm,0 mm\r\nDIRECTION 1\r\nREFERENCE 0,0\r\nDENSITY 8\r\n"
        b"CLS\r\n"
        b'TEXT 12,12,"TSS24.BF2",0,2,2,"#A001 \xcd\xe2\xb4\xf8"\r\n'
        b'TEXT 272,36,"TSS24.BF2",0,1,1,"1/1"\r\n'
        b'TEXT 12,64,"TSS24.BF2",0,1,1,"\xb3\xac\xbc\xb6\xce\xde\xb5\xd0\xba\xc3\xba\xc8\xb5\xc4'
        b'\\["]\xd6\xa5\xca\xbf\\["]\xc6\xcf\xcc\xd1"\r\n'
        b'TEXT 12,92,"TSS24.BF2",0,1,1,"\xb6\xe0\xc8\xe2Cheese Grape 500ml"\r\n'
        b'TEXT 12,204,"TSS24.BF2",0,1,1,"10:30 \xd6\xd8\xd3\xa1"\r\n'
        b'TEXT 212,204,"TSS24.BF2",0,1,1,"\xb7\xa2\xb2\xc6\xd0\xa1\xb9\xb7"\r\n'
        b"PRINT 1,1\r\n"
    )


def test_big5_uses_the_traditional_font():
    order = receipt(
        ReceiptItem("珍珠奶茶", 1, Decimal(1), size="大杯"),
        ReceiptItem("烏龍茶", 1, Decimal(1)),
        shop_name="發財小狗",
        pickup_number="7",
        order_type="dine_in",
        time=datetime(2025, 7, 14, 9, 5),
    )
    assert encode_labels(labels=cup_labels(order), spec=LabelSpec(encoding="big5")) == (
        b"SIZE 40 mm,30 mm\r\nGAP 2 mm,0 mm\r\nDIRECTION 1\r\nREFERENCE 0,0\r\nDENSITY 8\r\n"
        b'CLS\r\nTEXT 12,12,"TST24.BF2",0,2,2,"#7 \xb0\xf3\xad\xb9"\r\n'
        b'TEXT 236,12,"TST24.BF2",0,2,2,"1/2"\r\n'
        b'TEXT 12,64,"TST24.BF2",0,2,2,"\xac\xc3\xaf]\xa5\xa4\xaf\xf9"\r\n'
        b'TEXT 12,116,"TST24.BF2",0,1,1,"\xa4j\xaaM"\r\n'
        b'TEXT 12,204,"TST24.BF2",0,1,1,"09:05"\r\n'
        b'TEXT 212,204,"TST24.BF2",0,1,1,"\xb5o\xb0]\xa4p\xaa\xaf"\r\nPRINT 1,1\r\n'
        b'CLS\r\nTEXT 12,12,"TST24.BF2",0,2,2,"#7 \xb0\xf3\xad\xb9"\r\n'
        b'TEXT 236,12,"TST24.BF2",0,2,2,"2/2"\r\n'
        b'TEXT 12,64,"TST24.BF2",0,2,2,"\xafQ\xc0s\xaf\xf9"\r\n'
        b'TEXT 12,204,"TST24.BF2",0,1,1,"09:05"\r\n'
        b'TEXT 212,204,"TST24.BF2",0,1,1,"\xb5o\xb0]\xa4p\xaa\xaf"\r\nPRINT 1,1\r\n'
    )


def test_characters_big5_lacks_print_as_a_replacement_and_are_reported():
    order = receipt(
        ReceiptItem("鸡米花😀", 1, Decimal(1)),
        ReceiptItem("紅茶", 1, Decimal(1)),
        shop_name="小狗",
        order_type="dine_in",
    )
    data, replaced = encode_labels_reporting(
        labels=cup_labels(order), spec=LabelSpec(encoding="big5")
    )
    assert replaced == ["鸡", "😀"]
    assert b'"?\xa6\xcc\xaa\xe1?"\r\n' in data
    labels = parse_tspl(data, "big5")  # every line after it intact
    assert [label.strings[2] for label in labels] == ["?米花?", "紅茶"]
    assert unencodable("鸡蛋仔", "big5") == ["鸡"]
    assert unencodable("鸡蛋仔", "gbk") == []


def test_four_byte_gb18030_characters_are_not_in_the_printers_font():
    assert quoted("茶😀", "gb18030") == ('"茶?"'.encode("gb18030"), ["😀"])


def test_quotes_are_escaped_and_control_characters_dropped():
    assert quoted('say "hi"\r\nPRINT 9\x1b!R', "gb18030") == (
        b'"say \\["]hi\\["] PRINT 9!R"',
        [],
    )


def test_no_escape_sequence_forms_after_a_trailing_backslash_byte():
    # Big5 許 is B3 5C: a [ after it would start the printer's \[ escape.
    assert quoted("許[大]", "big5")[0] == b'"\xb3\\(\xa4j]"'
    assert quoted("a\\[R]", "gb18030")[0] == b'"a\\(R]"'
    # Only a [ right after the byte changes: a lone [ or another character after a backslash
    # prints as typed.
    assert quoted("[大杯] C:\\b", "gb18030")[0] == b'"[\xb4\xf3\xb1\xad] C:\\b"'


@pytest.mark.parametrize(
    ("byte", "problem"),
    [
        (None, None),
        (0x00, None),
        (0x20, None),  # printing labels sent before
        (0x01, "head open / 打印头打开"),
        (0x02, "paper jam / 卡纸"),
        (0x04, "paper out / 缺纸"),
        (0x05, "paper out / 缺纸"),
        (0x08, "ribbon out / 碳带用完"),
        (0x10, "printer paused / 打印机暂停"),
        (0x40, "cover open / 纸仓盖打开"),
        (0x80, "printer error / 打印机故障"),
    ],
)
def test_the_status_answer(byte, problem):
    assert tspl_status_problem(byte) == problem


@pytest.fixture
def label_printer():
    printer = FakeLabelPrinter()
    yield printer
    printer.close()


def test_labels_over_the_network_with_status_before_and_after(label_printer):
    device = NetworkDevice(host="127.0.0.1", port=label_printer.port, language="tspl")
    assert device.probe() is None
    data = encode_labels(labels=cup_labels(THREE_CUPS), spec=LabelSpec())
    device.print(data)
    probe, printed = label_printer.wait_for_prints(2)
    assert probe == b""  # a probe sends the status query only
    assert label_printer.status_queries == 3
    job = parse_tspl_job(printed, "gb18030")
    assert job.setup == {
        "SIZE": "40 mm,30 mm",
        "GAP": "2 mm,0 mm",
        "DIRECTION": "1",
        "REFERENCE": "0,0",
        "DENSITY": "8",
    }
    assert [label.strings[1] for label in job.labels] == ["1/3", "2/3", "3/3"]
    assert [label.strings[2] for label in job.labels] == ["珍珠奶茶", "珍珠奶茶", "Latte"]
    assert all(label.strings[0] == "#A001 外带" for label in job.labels)


@pytest.mark.parametrize(
    ("mode", "message"), [("paper_empty", "paper out / 缺纸"), ("head_open", "head open")]
)
def test_a_label_printer_problem_holds_the_labels(label_printer, mode, message):
    label_printer.mode = mode
    device = NetworkDevice(host="127.0.0.1", port=label_printer.port, language="tspl")
    assert message in device.probe()
    with pytest.raises(DeviceError, match=message):
        device.print(encode_labels(labels=cup_labels(THREE_CUPS), spec=LabelSpec()))
    assert label_printer.wait_for_prints(2)[1] == b""  # no label was sent


def test_the_status_query_is_tspls():
    assert TSPL_STATUS == b"\x1b!?"
    with pytest.raises(ValueError, match="escpos, tspl"):
        NetworkDevice(host="127.0.0.1", language="zpl")
