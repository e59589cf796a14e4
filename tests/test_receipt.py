from datetime import datetime
from decimal import Decimal

import pytest

from printing.paper import columns_for, display_width, money, two_columns, wrap
from printing.receipt import (
    Receipt,
    ReceiptItem,
    render_receipt,
    render_test_page,
    stamp_text,
    toppings_text,
)

MILK_TEA = ReceiptItem(
    name="珍珠奶茶",
    quantity=1,
    unit_price=Decimal("25.00"),
    size="大杯",
    temperature="正常冰",
    sugar="正常糖",
)
LONG = ReceiptItem(
    name="Mango Pomelo Sago Deluxe with Extra Toppings 杨枝甘露加大份加椰果加布丁加芋圆",
    quantity=12,
    unit_price=Decimal("1234.5"),
    size="超大杯",
    temperature="少冰",
    sugar="半糖",
)


def receipt(*items: ReceiptItem, note: str = "") -> Receipt:
    return Receipt(
        shop_name="发财小狗饮品店",
        order_id=456,
        time=datetime(2025, 7, 14, 10, 30),
        total=sum((item.unit_price * item.quantity for item in items), Decimal("0")),
        items=items or (MILK_TEA,),
        note=note,
    )


def test_chinese_characters_count_as_two_columns():
    assert display_width("珍珠奶茶") == 8
    assert display_width("¥25.00") == 6
    assert display_width("规格: 大杯") == 10
    assert display_width("，！") == 4


@pytest.mark.parametrize(("paper", "columns"), [(58, 32), (80, 48)])
def test_paper_width_sets_the_columns(paper, columns):
    assert columns_for(paper) == columns
    lines = render_receipt(receipt(MILK_TEA), paper_width=paper).splitlines()
    assert lines[0] == "=" * columns
    assert max(display_width(line) for line in lines) == columns


def test_the_seed_layout_on_80mm_paper():
    text = render_receipt(receipt(MILK_TEA), paper_width=80)
    lines = text.splitlines()
    assert text.endswith("\n")
    assert lines[1].strip() == "发财小狗饮品店"
    assert lines[3:6] == ["订单号: #456", "时间: 2025-07-14 10:30:00", "状态: 已确认"]
    assert "珍珠奶茶" in lines
    assert "  规格: 大杯 | 温度: 正常冰 | 糖度: 正常糖" in lines
    assert lines[-2].strip() == "谢谢惠顾，欢迎再来！"
    item = next(line for line in lines if line.startswith("  1 x ¥25.00 ="))
    assert item.endswith("¥25.00")
    total = next(line for line in lines if line.startswith("总计:"))
    assert total.endswith("¥25.00")


@pytest.mark.parametrize("paper", [58, 80])
def test_no_line_is_wider_than_the_paper_and_long_names_wrap(paper):
    columns = columns_for(paper)
    lines = render_receipt(
        receipt(MILK_TEA, LONG, note="不要吸管 please no straw " * 3), paper_width=paper
    ).splitlines()
    assert all(display_width(line) <= columns for line in lines), lines
    name_lines = [line for line in lines if "Mango" in line or "杨枝" in line or "芋圆" in line]
    assert len(name_lines) >= 2
    wrapped = "".join(line.strip() for line in lines)
    assert "加芋圆" in wrapped


@pytest.mark.parametrize("paper", [58, 80])
def test_amounts_are_right_aligned_in_mixed_text(paper):
    columns = columns_for(paper)
    lines = render_receipt(receipt(MILK_TEA, LONG), paper_width=paper).splitlines()
    amounts = [
        line for line in lines if line.rstrip().endswith(("¥25.00", "¥14814.00", "¥14839.00"))
    ]
    assert len(amounts) == 3
    # Every amount ends exactly at the right edge, whatever Chinese text stands before it.
    assert {display_width(line) for line in amounts} == {columns}


def test_the_58mm_receipt_breaks_the_options_line_between_options():
    lines = render_receipt(receipt(MILK_TEA), paper_width=58).splitlines()
    assert "  规格: 大杯 | 温度: 正常冰" in lines
    assert "  糖度: 正常糖" in lines


def test_an_amount_that_cannot_share_the_line_gets_its_own():
    item = ReceiptItem(name="奶茶", quantity=99999, unit_price=Decimal("99999.99"))
    lines = render_receipt(receipt(item), paper_width=58).splitlines()
    assert all(display_width(line) <= 32 for line in lines)
    assert any(line.strip() == "¥9999899000.01" and display_width(line) == 32 for line in lines)


def test_wrap_keeps_latin_words_whole_and_breaks_chinese_anywhere():
    assert wrap("hello world again", 11) == ["hello world", "again"]
    assert wrap("珍珠奶茶珍珠奶茶", 6) == ["珍珠奶", "茶珍珠", "奶茶"]
    assert wrap("ab 珍珠奶茶", 6, indent="  ") == ["ab 珍", "  珠奶", "  茶"]


def test_items_without_options_have_no_options_line():
    item = ReceiptItem(name="椰果加料", quantity=3, unit_price=Decimal("2"))
    lines = render_receipt(receipt(item), paper_width=80).splitlines()
    assert not any("规格" in line for line in lines)
    assert any(line.startswith("  3 x ¥2.00 =") and line.endswith("¥6.00") for line in lines)


@pytest.mark.parametrize("paper", [58, 80])
def test_the_test_page_fits_the_paper(paper):
    text = render_test_page(
        shop_name="发财小狗饮品店",
        printer_name="厨房打印机",
        paper_width=paper,
        time=datetime(2025, 1, 1),
    )
    lines = text.splitlines()
    assert max(display_width(line) for line in lines) == columns_for(paper)
    assert "打印机: 厨房打印机" in lines


def test_a_latin_word_that_does_not_fit_moves_to_the_next_line_whole():
    assert wrap("hello wonderful", 11) == ["hello", "wonderful"]


def test_a_word_longer_than_the_line_is_broken_at_the_edge():
    assert wrap("abcdefghij", 4) == ["abcd", "efgh", "ij"]
    # On indented lines too, without an empty line where the word would have moved.
    assert wrap("ab cdefghijkl", 6, indent="  ") == ["ab", "  cdef", "  ghij", "  kl"]


def test_chinese_after_a_space_still_breaks_anywhere():
    assert wrap("hello 珍珠", 8) == ["hello 珍", "珠"]


def test_wrap_turns_tabs_into_spaces_and_starts_indented_lines_at_newlines():
    assert wrap("a\tb", 8) == ["a b"]
    assert wrap(" a \nb c", 10, indent="  ") == [" a", "  b c"]
    assert wrap("a\n", 5) == ["a"]
    assert wrap("", 5) == [""]


def test_two_columns_share_a_line_down_to_a_single_space():
    assert two_columns("ab", "cd", 5) == ["ab cd"]


def test_two_columns_that_do_not_fit_put_the_amount_on_its_own_line_flush_right():
    left = "Lemon Tea 柠檬茶 with ice"
    assert two_columns(left, "¥12.00", 16) == ["Lemon Tea 柠檬茶", "with ice", " " * 10 + "¥12.00"]
    assert two_columns(left, "¥12.00", 16, indent="  ") == [
        "Lemon Tea 柠檬茶",
        "  with ice",
        " " * 10 + "¥12.00",
    ]


def test_money_rounds_half_up_to_the_cent():
    assert money(Decimal("0.125")) == "¥0.13"
    assert money(Decimal("2")) == "¥2.00"


def test_toppings_as_typed_become_one_plus_each():
    assert toppings_text("珍珠, +, Xtra shot、X") == "+珍珠 +Xtra shot +X"


def test_a_stamp_goes_centred_on_top_of_free_text():
    assert (
        stamp_text("外卖单 #88\n", "重印", paper_width=58) == " " * 11 + "** 重印 **\n外卖单 #88\n"
    )
    stamped = stamp_text("外卖单 #88\n", "重印 / REPRINT 2026-12-02 14:05", paper_width=58)
    assert stamped == "  ** 重印 / REPRINT 2026-12-02\n" + " " * 12 + "14:05 **\n外卖单 #88\n"


TEST_PAGE_58 = (
    "================================\n"
    "         发财小狗饮品店\n"
    "     打印测试 / TEST PRINT\n"
    "================================\n"
    "打印机: 厨房打印机 Kitchen\n"
    "  Printer 2\n"
    "纸宽: 58mm (32 列)\n"
    "时间: 2025-01-01 09:05:07\n"
    "--------------------------------\n"
    "中文: 珍珠奶茶 ¥25.00\n"
    "12345678901234567890123456789012\n"
    "================================\n"
    "            打印正常\n"
    "================================\n"
)
TEST_PAGE_80 = (
    "================================================\n"
    "                 发财小狗饮品店\n"
    "             打印测试 / TEST PRINT\n"
    "================================================\n"
    "打印机: 吧台\n"
    "纸宽: 80mm (48 列)\n"
    "时间: 2025-01-01 09:05:07\n"
    "------------------------------------------------\n"
    "中文: 珍珠奶茶 ¥25.00\n"
    "123456789012345678901234567890123456789012345678\n"
    "================================================\n"
    "                    打印正常\n"
    "================================================\n"
)


@pytest.mark.parametrize(
    ("paper", "printer_name", "expected"),
    [(58, "厨房打印机 Kitchen Printer 2", TEST_PAGE_58), (80, "吧台", TEST_PAGE_80)],
)
def test_the_exact_test_page(paper, printer_name, expected):
    text = render_test_page(
        shop_name="发财小狗饮品店",
        printer_name=printer_name,
        paper_width=paper,
        time=datetime(2025, 1, 1, 9, 5, 7),
    )
    assert text == expected
