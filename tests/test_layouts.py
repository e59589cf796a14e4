"""The three ticket kinds (customer receipt, make ticket, void ticket) as documents: their
exact plain text, their styles, that no line ever overflows the paper, and the JSON an agent
reads them from."""

import json
import re
import unicodedata
from datetime import datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from printing.paper import (
    Document,
    Line,
    display_width,
    document_from_json,
    document_text,
    document_to_json,
)
from printing.receipt import (
    Receipt,
    ReceiptItem,
    kitchen_document,
    receipt_document,
    render_receipt,
    void_document,
)

MILK_TEA = ReceiptItem(
    name="珍珠奶茶",
    quantity=2,
    unit_price=Decimal("25.00"),
    size="大杯",
    temperature="少冰",
    sugar="半糖",
    toppings="珍珠, 椰果",
)
LEMON = ReceiptItem(
    name="Lemon Tea 柠檬茶",
    quantity=1,
    unit_price=Decimal("12.00"),
    size="中杯",
    toppings="芋圆，布丁",
)
DELIVERY = Receipt(
    shop_name="发财小狗饮品店",
    order_id=456,
    time=datetime(2025, 7, 14, 10, 30),
    total=Decimal("62.00"),
    items=(MILK_TEA, LEMON),
    note="少冰，不要吸管",
    pickup_number="A001",
    order_type="delivery",
    delivery_platform="美团",
    platform_order_no="12",
    address_line="人民路88号 电话 0571-88886666",
    footer_lines=("谢谢惠顾，欢迎再来！", "Wi-Fi: fortune-dog"),
)
TAKEAWAY = Receipt(
    shop_name="发财小狗饮品店",
    order_id=457,
    time=datetime(2025, 7, 14, 11, 5),
    total=Decimal("50.00"),
    items=(MILK_TEA,),
    pickup_number="002",
    order_type="takeaway",
)
STAMP = "重印 / REPRINT 2026-12-02 14:05"
VOIDED_AT = datetime(2025, 7, 14, 10, 45)


RECEIPT_58 = (
    "================================\n"
    "         发财小狗饮品店\n"
    "================================\n"
    " 人民路88号 电话 0571-88886666\n"
    "             取餐号\n"
    "              A001\n"
    "订单号: #456\n"
    "时间: 2025-07-14 10:30:00\n"
    "状态: 已确认\n"
    "类型: 外卖 美团 #12\n"
    "备注: 少冰，不要吸管\n"
    "--------------------------------\n"
    "珍珠奶茶\n"
    "  规格: 大杯 | 温度: 少冰\n"
    "  糖度: 半糖\n"
    "  加料: +珍珠 +椰果\n"
    "  2 x ¥25.00 =            ¥50.00\n"
    "Lemon Tea 柠檬茶\n"
    "  规格: 中杯\n"
    "  加料: +芋圆 +布丁\n"
    "  1 x ¥12.00 =            ¥12.00\n"
    "--------------------------------\n"
    "总计:                     ¥62.00\n"
    "================================\n"
    "      谢谢惠顾，欢迎再来！\n"
    "       Wi-Fi: fortune-dog\n"
    "================================\n"
)

KITCHEN_58 = (
    "================================\n"
    "         制作单 · 吧台\n"
    "================================\n"
    "             取餐号\n"
    "              A001\n"
    "类型: 外卖 美团 #12\n"
    "订单号: #456\n"
    "时间: 2025-07-14 10:30:00\n"
    "备注: 少冰，不要\n"
    "吸管\n"
    "--------------------------------\n"
    "珍珠奶茶 x2\n"
    "  大杯 / 少冰 / 半糖\n"
    "  +珍珠 +椰果\n"
    "Lemon Tea 柠檬茶\n"
    "x1\n"
    "  中杯\n"
    "  +芋圆 +布丁\n"
    "================================\n"
)

VOID_58 = (
    "================================\n"
    "              作废\n"
    "              VOID\n"
    "================================\n"
    "         制作单 · 吧台\n"
    "             取餐号\n"
    "              A001\n"
    "订单号: #456\n"
    "--------------------------------\n"
    "珍珠奶茶 x2\n"
    "Lemon Tea 柠檬茶 x1\n"
    "--------------------------------\n"
    "作废时间: 2025-07-14 10:45:00\n"
    "================================\n"
)

REPRINT_RECEIPT_58 = (
    "================================\n"
    "         发财小狗饮品店\n"
    "================================\n"
    "  ** 重印 / REPRINT 2026-12-02\n"
    "            14:05 **\n"
    "           取餐号 002\n"
    "订单号: #457\n"
    "时间: 2025-07-14 11:05:00\n"
    "状态: 已确认\n"
    "类型: 外带\n"
    "--------------------------------\n"
    "珍珠奶茶\n"
    "  规格: 大杯 | 温度: 少冰\n"
    "  糖度: 半糖\n"
    "  加料: +珍珠 +椰果\n"
    "  2 x ¥25.00 =            ¥50.00\n"
    "--------------------------------\n"
    "总计:                     ¥50.00\n"
    "================================\n"
    "      谢谢惠顾，欢迎再来！\n"
    "================================\n"
)

REPRINT_KITCHEN_58 = (
    "================================\n"
    "       制作单 · Bar 吧台\n"
    "================================\n"
    "  ** 重印 / REPRINT 2026-12-02\n"
    "            14:05 **\n"
    "           取餐号 002\n"
    "类型: 外带\n"
    "订单号: #457\n"
    "时间: 2025-07-14 11:05:00\n"
    "--------------------------------\n"
    "珍珠奶茶 x2\n"
    "  大杯 / 少冰 / 半糖\n"
    "  +珍珠 +椰果\n"
    "================================\n"
)

RECEIPT_80 = (
    "================================================\n"
    "                 发财小狗饮品店\n"
    "================================================\n"
    "         人民路88号 电话 0571-88886666\n"
    "                  取餐号 A001\n"
    "订单号: #456\n"
    "时间: 2025-07-14 10:30:00\n"
    "状态: 已确认\n"
    "类型: 外卖 美团 #12\n"
    "备注: 少冰，不要吸管\n"
    "------------------------------------------------\n"
    "珍珠奶茶\n"
    "  规格: 大杯 | 温度: 少冰 | 糖度: 半糖\n"
    "  加料: +珍珠 +椰果\n"
    "  2 x ¥25.00 =                            ¥50.00\n"
    "Lemon Tea 柠檬茶\n"
    "  规格: 中杯\n"
    "  加料: +芋圆 +布丁\n"
    "  1 x ¥12.00 =                            ¥12.00\n"
    "------------------------------------------------\n"
    "总计:                                     ¥62.00\n"
    "================================================\n"
    "              谢谢惠顾，欢迎再来！\n"
    "               Wi-Fi: fortune-dog\n"
    "================================================\n"
)

KITCHEN_80 = (
    "================================================\n"
    "                 制作单 · 吧台\n"
    "================================================\n"
    "                  取餐号 A001\n"
    "类型: 外卖 美团 #12\n"
    "订单号: #456\n"
    "时间: 2025-07-14 10:30:00\n"
    "备注: 少冰，不要吸管\n"
    "------------------------------------------------\n"
    "珍珠奶茶 x2\n"
    "  大杯 / 少冰 / 半糖\n"
    "  +珍珠 +椰果\n"
    "Lemon Tea 柠檬茶 x1\n"
    "  中杯\n"
    "  +芋圆 +布丁\n"
    "================================================\n"
)

VOID_80 = (
    "================================================\n"
    "                      作废\n"
    "                      VOID\n"
    "================================================\n"
    "                 制作单 · 吧台\n"
    "                  取餐号 A001\n"
    "订单号: #456\n"
    "------------------------------------------------\n"
    "珍珠奶茶 x2\n"
    "Lemon Tea 柠檬茶 x1\n"
    "------------------------------------------------\n"
    "作废时间: 2025-07-14 10:45:00\n"
    "================================================\n"
)

REPRINT_RECEIPT_80 = (
    "================================================\n"
    "                 发财小狗饮品店\n"
    "================================================\n"
    "     ** 重印 / REPRINT 2026-12-02 14:05 **\n"
    "                   取餐号 002\n"
    "订单号: #457\n"
    "时间: 2025-07-14 11:05:00\n"
    "状态: 已确认\n"
    "类型: 外带\n"
    "------------------------------------------------\n"
    "珍珠奶茶\n"
    "  规格: 大杯 | 温度: 少冰 | 糖度: 半糖\n"
    "  加料: +珍珠 +椰果\n"
    "  2 x ¥25.00 =                            ¥50.00\n"
    "------------------------------------------------\n"
    "总计:                                     ¥50.00\n"
    "================================================\n"
    "              谢谢惠顾，欢迎再来！\n"
    "================================================\n"
)

REPRINT_KITCHEN_80 = (
    "================================================\n"
    "               制作单 · Bar 吧台\n"
    "================================================\n"
    "     ** 重印 / REPRINT 2026-12-02 14:05 **\n"
    "                   取餐号 002\n"
    "类型: 外带\n"
    "订单号: #457\n"
    "时间: 2025-07-14 11:05:00\n"
    "------------------------------------------------\n"
    "珍珠奶茶 x2\n"
    "  大杯 / 少冰 / 半糖\n"
    "  +珍珠 +椰果\n"
    "================================================\n"
)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        pytest.param(
            lambda: receipt_document(DELIVERY, paper_width=58), RECEIPT_58, id="receipt-58"
        ),
        pytest.param(
            lambda: receipt_document(DELIVERY, paper_width=80), RECEIPT_80, id="receipt-80"
        ),
        pytest.param(
            lambda: kitchen_document(DELIVERY, paper_width=58, station="吧台"),
            KITCHEN_58,
            id="kitchen-58",
        ),
        pytest.param(
            lambda: kitchen_document(DELIVERY, paper_width=80, station="吧台"),
            KITCHEN_80,
            id="kitchen-80",
        ),
        pytest.param(
            lambda: void_document(DELIVERY, paper_width=58, station="吧台", time=VOIDED_AT),
            VOID_58,
            id="void-58",
        ),
        pytest.param(
            lambda: void_document(DELIVERY, paper_width=80, station="吧台", time=VOIDED_AT),
            VOID_80,
            id="void-80",
        ),
        pytest.param(
            lambda: receipt_document(TAKEAWAY, paper_width=58, stamp=STAMP),
            REPRINT_RECEIPT_58,
            id="reprint-receipt-58",
        ),
        pytest.param(
            lambda: receipt_document(TAKEAWAY, paper_width=80, stamp=STAMP),
            REPRINT_RECEIPT_80,
            id="reprint-receipt-80",
        ),
        pytest.param(
            lambda: kitchen_document(TAKEAWAY, paper_width=58, station="Bar 吧台", stamp=STAMP),
            REPRINT_KITCHEN_58,
            id="reprint-kitchen-58",
        ),
        pytest.param(
            lambda: kitchen_document(TAKEAWAY, paper_width=80, station="Bar 吧台", stamp=STAMP),
            REPRINT_KITCHEN_80,
            id="reprint-kitchen-80",
        ),
    ],
)
def test_the_exact_text_of_each_kind(make, expected):
    # Built in the test, not at collection: mutmut only sees what runs inside a test.
    assert document_text(make()) == expected


def test_render_receipt_is_the_receipt_documents_text():
    assert render_receipt(DELIVERY, paper_width=58) == RECEIPT_58
    assert render_receipt(TAKEAWAY, paper_width=58, stamp=STAMP) == REPRINT_RECEIPT_58


def big(document: Document) -> list[tuple[str, int]]:
    return [(line.text, line.size) for line in document.lines if line.size > 1]


def test_the_pickup_number_is_the_largest_line_that_fits():
    # `取餐号 A001` is 11 columns: three times that is 33, one too many for 58 mm paper, so
    # there the label goes above and the number alone is triple.
    assert big(receipt_document(DELIVERY, paper_width=80)) == [("取餐号 A001", 3)]
    assert big(receipt_document(DELIVERY, paper_width=58)) == [("A001", 3)]
    assert "取餐号" in render_receipt(DELIVERY, paper_width=58).splitlines()[4]
    assert big(receipt_document(TAKEAWAY, paper_width=58)) == [("取餐号 002", 3)]
    number = next(
        line for line in receipt_document(TAKEAWAY, paper_width=58).lines if line.size > 1
    )
    assert number.align == "center"


def test_the_make_ticket_prints_the_note_and_the_item_names_double():
    document = kitchen_document(DELIVERY, paper_width=80, station="吧台")
    assert big(document) == [
        ("取餐号 A001", 3),
        ("备注: 少冰，不要吸管", 2),
        ("珍珠奶茶 x2", 2),
        ("Lemon Tea 柠檬茶 x1", 2),
    ]
    bold = {line.text for line in document.lines if line.bold}
    assert {"制作单 · 吧台", "  大杯 / 少冰 / 半糖", "  +珍珠 +椰果", "  +芋圆 +布丁"} <= bold
    assert not any("¥" in line.text for line in document.lines)


def test_the_void_ticket_says_so_in_the_largest_size():
    assert big(void_document(DELIVERY, paper_width=58, time=VOIDED_AT)) == [
        ("作废", 3),
        ("VOID", 3),
        ("A001", 3),
    ]


def test_a_void_ticket_without_a_station_names_none():
    text = document_text(void_document(DELIVERY, paper_width=58, time=VOIDED_AT))
    assert text == VOID_58.replace("         制作单 · 吧台\n", "")


def test_a_make_ticket_without_a_station_is_titled_make_ticket_alone():
    document = kitchen_document(TAKEAWAY, paper_width=58, station=" ")
    assert document.lines[1] == Line("制作单", align="center", bold=True)


BUSY_ITEM = ReceiptItem(
    name="Mango Pomelo Sago 杨枝甘露加大份加椰果",
    quantity=3,
    unit_price=Decimal("18.50"),
    # Size and temperature fill exactly the 32 columns of 58 mm paper: one line.
    size="超大杯700ml",
    temperature="去冰",
    sugar="三分糖 (less sweet, about 30%)",
    toppings="珍珠, 椰果, 芋圆, 布丁, 红豆, 仙草",
)
# Everything long enough to wrap on 58 mm paper, a status and a shop name as typed.
BUSY = Receipt(
    shop_name="  发财小狗饮品店 ",
    order_id=9,
    time=datetime(2025, 7, 14, 12, 0),
    total=Decimal("55.50"),
    status="refunded",
    items=(BUSY_ITEM,),
    note="少冰，不要吸管，放门口，谢谢 please knock twice",
    pickup_number="MT-12345678",
    order_type="delivery",
    delivery_platform="饿了么 Eleme",
    platform_order_no="202507141200001234",
    footer_lines=(),
)


def styled(document: Document) -> list[tuple[str, int, str, bool]]:
    return [(line.text, line.size, line.align, line.bold) for line in document.lines]


def test_every_line_of_a_busy_receipt_wraps_indented_in_its_style():
    assert styled(receipt_document(BUSY, paper_width=58, stamp="重印")) == [
        ("================================", 1, "left", False),
        ("发财小狗饮品店", 1, "center", False),
        ("================================", 1, "left", False),
        ("** 重印 **", 1, "center", True),
        ("取餐号", 1, "center", True),
        ("MT-12345678", 2, "center", True),
        ("订单号: #9", 1, "left", False),
        ("时间: 2025-07-14 12:00:00", 1, "left", False),
        ("状态: refunded", 1, "left", False),
        ("类型: 外卖 饿了么 Eleme", 1, "left", False),
        ("  #202507141200001234", 1, "left", False),
        ("备注: 少冰，不要吸管，放门口，谢", 1, "left", False),
        ("  谢 please knock twice", 1, "left", False),
        ("--------------------------------", 1, "left", False),
        ("Mango Pomelo Sago 杨枝甘露加大份", 1, "left", False),
        ("  加椰果", 1, "left", False),
        ("  规格: 超大杯700ml | 温度: 去冰", 1, "left", False),
        ("  糖度: 三分糖 (less sweet,", 1, "left", False),
        ("  about 30%)", 1, "left", False),
        ("  加料: +珍珠 +椰果 +芋圆 +布丁", 1, "left", False),
        ("  +红豆 +仙草", 1, "left", False),
        ("  3 x ¥18.50 =            ¥55.50", 1, "left", False),
        ("--------------------------------", 1, "left", False),
        ("总计:                     ¥55.50", 1, "left", False),
        ("================================", 1, "left", False),
    ]


def test_every_line_of_a_busy_make_ticket_wraps_indented_in_its_style():
    assert styled(kitchen_document(BUSY, paper_width=58, station="")) == [
        ("================================", 1, "left", False),
        ("制作单", 1, "center", True),
        ("================================", 1, "left", False),
        ("取餐号", 1, "center", True),
        ("MT-12345678", 2, "center", True),
        ("类型: 外卖 饿了么 Eleme", 1, "left", True),
        ("  #202507141200001234", 1, "left", True),
        ("订单号: #9", 1, "left", False),
        ("时间: 2025-07-14 12:00:00", 1, "left", False),
        ("备注: 少冰，不要", 2, "left", True),
        ("吸管，放门口，谢", 2, "left", True),
        ("谢 please knock", 2, "left", True),
        ("twice", 2, "left", True),
        ("--------------------------------", 1, "left", False),
        ("Mango Pomelo", 2, "left", False),
        ("Sago 杨枝甘露加", 2, "left", False),
        ("大份加椰果 x3", 2, "left", False),
        ("  超大杯700ml / 去冰 / 三分糖", 1, "left", True),
        ("  (less sweet, about 30%)", 1, "left", True),
        ("  +珍珠 +椰果 +芋圆 +布丁 +红豆", 1, "left", True),
        ("  +仙草", 1, "left", True),
        ("================================", 1, "left", False),
    ]


def test_every_line_of_a_busy_void_ticket_wraps_indented_in_its_style():
    assert styled(void_document(BUSY, paper_width=58, station="吧台", time=VOIDED_AT)) == [
        ("================================", 1, "left", False),
        ("作废", 3, "center", True),
        ("VOID", 3, "center", True),
        ("================================", 1, "left", False),
        ("制作单 · 吧台", 1, "center", True),
        ("取餐号", 1, "center", True),
        ("MT-12345678", 2, "center", True),
        ("订单号: #9", 1, "left", False),
        ("--------------------------------", 1, "left", False),
        ("Mango Pomelo Sago 杨枝甘露加大份", 1, "left", False),
        ("  加椰果 x3", 1, "left", False),
        ("--------------------------------", 1, "left", False),
        ("作废时间: 2025-07-14 10:45:00", 1, "left", False),
        ("================================", 1, "left", False),
    ]


@pytest.mark.parametrize(
    ("paper", "number", "expected"),
    [
        # 16 columns: exactly a third of 80 mm paper, so label and number go triple together.
        (80, "T12-34567", [("取餐号 T12-34567", 3)]),
        # Too wide at triple size on 58 mm paper, wide enough at double.
        (58, "MT-12345678", [("取餐号", 1), ("MT-12345678", 2)]),
        # 32 columns at double size: exactly the width of 58 mm paper.
        (58, "MT-2025071412000", [("取餐号", 1), ("MT-2025071412000", 2)]),
        # Too wide even at double size: normal size, still on one line.
        (58, "MT-20250714120001", [("取餐号", 1), ("MT-20250714120001", 1)]),
    ],
)
def test_a_pickup_number_prints_in_the_largest_size_its_line_fits(paper, number, expected):
    receipt = Receipt(**{**TAKEAWAY.__dict__, "pickup_number": number})
    lines = receipt_document(receipt, paper_width=paper).lines
    assert [
        (line.text, line.size) for line in lines if "取餐号" in line.text or number in line.text
    ] == expected


def test_control_characters_in_any_field_print_as_if_they_were_never_typed():
    dirty_item = ReceiptItem(
        name="珍珠奶茶\x1b",
        quantity=2,
        unit_price=Decimal("25.00"),
        size="大杯\x1d",
        temperature="少冰\x00",
        sugar="半糖\x7f",
        toppings="珍珠\x9b, 椰果",
    )
    dirty = Receipt(
        shop_name="发财小狗\x1b饮品店",
        order_id=456,
        time=datetime(2025, 7, 14, 10, 30),
        total=Decimal("50.00"),
        status="confirmed\x1b",
        items=(dirty_item,),
        note="\x1b",
        pickup_number="\x1b",
        order_type="delivery\x1b",
        # Nothing but a control character between spaces: no platform, not an empty one.
        delivery_platform=" \x1b ",
        platform_order_no="12",
        address_line="\x1b",
        footer_lines=("\x1b",),
    )
    clean = Receipt(
        shop_name="发财小狗饮品店",
        order_id=456,
        time=datetime(2025, 7, 14, 10, 30),
        total=Decimal("50.00"),
        items=(MILK_TEA,),
        order_type="delivery",
        platform_order_no="12",
        footer_lines=(),
    )
    for paper in (58, 80):
        assert render_receipt(dirty, paper_width=paper) == render_receipt(clean, paper_width=paper)
        assert kitchen_document(dirty, paper_width=paper, station="吧台") == kitchen_document(
            clean, paper_width=paper, station="吧台"
        )
        assert void_document(dirty, paper_width=paper, time=VOIDED_AT) == void_document(
            clean, paper_width=paper, time=VOIDED_AT
        )


def test_a_platform_order_number_that_is_only_a_control_character_prints_no_number():
    dirty = Receipt(**{**DELIVERY.__dict__, "platform_order_no": " \x1b "})
    clean = Receipt(**{**DELIVERY.__dict__, "platform_order_no": ""})
    for paper in (58, 80):
        assert render_receipt(dirty, paper_width=paper) == render_receipt(clean, paper_width=paper)
    text = render_receipt(dirty, paper_width=80)
    assert [line for line in text.splitlines() if line.startswith("类型:")] == ["类型: 外卖 美团"]


def test_order_types_and_toppings():
    def type_line(**changes) -> str:
        receipt = Receipt(**{**DELIVERY.__dict__, **changes})
        text = render_receipt(receipt, paper_width=80)
        return next(line for line in text.splitlines() if line.startswith("类型:"))

    assert type_line(order_type="dine_in") == "类型: 堂食"
    assert type_line(order_type="takeaway") == "类型: 外带"
    assert type_line(delivery_platform="", platform_order_no="") == "类型: 外卖"
    assert type_line(delivery_platform="饿了么", platform_order_no="") == "类型: 外卖 饿了么"
    # A type or a status this version does not know is printed as it came.
    assert type_line(order_type="pickup") == "类型: pickup"
    receipt = Receipt(**{**DELIVERY.__dict__, "status": "refunded"})
    assert "状态: refunded" in render_receipt(receipt, paper_width=80).splitlines()
    item = ReceiptItem(name="奶茶", quantity=1, unit_price=Decimal(1), toppings="珍珠、+椰果,, ")
    receipt = Receipt(**{**DELIVERY.__dict__, "items": (item,)})
    assert "  加料: +珍珠 +椰果" in render_receipt(receipt, paper_width=58).splitlines()


def test_no_footer_lines_leave_one_closing_rule():
    receipt = Receipt(**{**TAKEAWAY.__dict__, "footer_lines": ()})
    assert render_receipt(receipt, paper_width=58).endswith("¥50.00\n" + "=" * 32 + "\n")


# Mixed text as staff and customers type it: CJK, Latin, digits, punctuation, emoji, wide
# and zero-width characters, and the control characters the layout must drop.
TEXT = st.text(
    st.one_of(
        st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
        st.characters(min_codepoint=0x20, max_codepoint=0x7E),
        st.sampled_from(
            list("，。！：、￥¥😀🧋👍🏽\u0301\u200b\u200d\ufe0f\t\n\x1b\x1d\x00\x9b\x7f ")
        ),
        st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3),
    ),
    max_size=80,
)
ITEMS = st.lists(
    st.builds(
        ReceiptItem,
        name=TEXT,
        quantity=st.integers(1, 10**6),
        unit_price=st.decimals(0, 10**6, places=2),
        size=TEXT,
        temperature=TEXT,
        sugar=TEXT,
        toppings=TEXT,
        category=TEXT,
    ),
    max_size=4,
).map(tuple)
RECEIPTS = st.builds(
    Receipt,
    shop_name=TEXT,
    order_id=st.integers(1, 2**63 - 1),
    time=st.datetimes(),
    total=st.decimals(0, 10**9, places=2),
    status=st.sampled_from(["confirmed", "pending"]) | TEXT,
    items=ITEMS,
    note=TEXT,
    pickup_number=TEXT,
    order_type=st.sampled_from(["dine_in", "takeaway", "delivery"]) | TEXT,
    delivery_platform=TEXT,
    platform_order_no=TEXT,
    address_line=TEXT,
    footer_lines=st.lists(TEXT, max_size=3).map(tuple),
)


@settings(max_examples=150, deadline=None)
@given(receipt=RECEIPTS, station=TEXT, stamp=TEXT, paper=st.sampled_from([58, 80]))
def test_no_line_of_any_kind_overflows_the_paper(receipt, station, stamp, paper):
    columns = {58: 32, 80: 48}[paper]
    for document in (
        receipt_document(receipt, paper_width=paper, stamp=stamp),
        kitchen_document(receipt, paper_width=paper, station=station, stamp=stamp),
        void_document(receipt, paper_width=paper, station=station, time=VOIDED_AT),
    ):
        assert document.columns == columns
        for line in document.lines:
            assert display_width(line.text) * line.size <= columns, line
        text = document_text(document)
        assert all(display_width(line) <= columns for line in text.splitlines())
        assert not any(line.endswith(" ") for line in text.splitlines())
        assert not {c for c in text if unicodedata.category(c) == "Cc" and c != "\n"}
        wire = json.loads(json.dumps(document_to_json(document)))
        if len(document.lines) <= 500:
            assert document_from_json(wire) == document


def test_document_text_pads_for_the_alignment_by_the_texts_own_width():
    document = Document(
        columns=32,
        lines=(
            Line("左"),
            Line("取餐号 7", size=3, align="center"),
            Line("¥9.00", align="right", bold=True),
            Line(""),
        ),
    )
    assert document_text(document) == (
        "左\n" + " " * 12 + "取餐号 7\n" + " " * 27 + "¥9.00\n" + "\n"
    )


def test_the_json_is_compact_and_round_trips():
    document = kitchen_document(DELIVERY, paper_width=58, station="吧台")
    wire = document_to_json(document)
    assert wire["columns"] == 32
    assert wire["lines"][0] == {"text": "=" * 32}
    assert {"text": "A001", "size": 3, "align": "center", "bold": True} in wire["lines"]
    assert document_from_json(json.loads(json.dumps(wire))) == document
    # Defaults may also be spelled out.
    full = {"columns": 48, "lines": [{"text": "a", "size": 1, "align": "left", "bold": False}]}
    assert document_from_json(full) == Document(columns=48, lines=(Line("a"),))


def test_texts_from_json_are_made_printable():
    wire = {"columns": 32, "lines": [{"text": "少冰\x1bp0\x19\t!"}]}
    assert document_from_json(wire).lines[0].text == "少冰p0 !"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "a document must be an object"),
        ({"lines": []}, "a document has exactly the keys columns and lines"),
        (
            {"columns": 32, "lines": [], "extra": 1},
            "a document has exactly the keys columns and lines",
        ),
        ({"columns": 40, "lines": []}, "columns must be one of 32, 48"),
        ({"columns": "32", "lines": []}, "columns must be one of 32, 48"),
        ({"columns": True, "lines": []}, "columns must be one of 32, 48"),
        ({"columns": 32, "lines": "text"}, "lines must be a list"),
        ({"columns": 32, "lines": [{"text": "a"}] * 501}, "a document has at most 500 lines"),
        ({"columns": 32, "lines": ["a"]}, "lines[0] must be an object"),
        ({"columns": 32, "lines": [{"size": 2}]}, "lines[0].text must be a string"),
        ({"columns": 32, "lines": [{"text": 5}]}, "lines[0].text must be a string"),
        (
            {"columns": 32, "lines": [{"text": "a" * 501}]},
            "lines[0].text is longer than 500 characters",
        ),
        (
            {"columns": 32, "lines": [{"text": "a\nb"}]},
            "lines[0]: text must be one line without control characters",
        ),
        (
            {"columns": 32, "lines": [{"text": "a", "size": 4}]},
            "lines[0]: size must be one of 1, 2, 3",
        ),
        (
            {"columns": 32, "lines": [{"text": "a", "size": 2.0}]},
            "lines[0]: size must be one of 1, 2, 3",
        ),
        (
            {"columns": 32, "lines": [{"text": "a", "size": True}]},
            "lines[0]: size must be one of 1, 2, 3",
        ),
        (
            {"columns": 32, "lines": [{"text": "a", "align": "middle"}]},
            "lines[0]: align must be one of left, center, right",
        ),
        (
            {"columns": 32, "lines": [{"text": "a", "bold": "yes"}]},
            "lines[0]: bold must be true or false",
        ),
        (
            {"columns": 32, "lines": [{"text": "a", "font": "B", "color": 1}]},
            "lines[0] has unknown keys: color, font",
        ),
        (
            {"columns": 32, "lines": [{"text": "x"}, {"text": "取餐号 A001", "size": 3}]},
            "lines[1] takes 33 columns at size 3, wider than 32",
        ),
    ],
)
def test_malformed_json_is_refused_with_a_reason(data, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        document_from_json(data)


def test_a_document_at_the_limits_is_accepted():
    # 500 characters fit on a line only when most take no column (here zero-width spaces).
    text = "a" + "\u200b" * 499
    document = document_from_json({"columns": 32, "lines": [{"text": text}] * 500})
    assert document.lines == (Line(text),) * 500


def test_lines_and_documents_built_in_code_are_refused_with_a_reason():
    with pytest.raises(ValueError, match=r"^text must be a string$"):
        Line(5)
    with pytest.raises(ValueError, match=r"^lines\[1\] is not a Line$"):
        Document(columns=32, lines=(Line("a"), "b"))
