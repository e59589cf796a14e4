"""Cup labels: one per cup, numbered across the order, laid out in dots without clipping."""

import random
from datetime import datetime
from decimal import Decimal

import pytest

from printing.label_layout import FONT_HEIGHT, label_page, text_dots
from printing.labels import (
    MAX_LABELS,
    LabelSpec,
    cup_labels,
    labels_from_json,
    labels_text,
    labels_to_json,
)
from printing.receipt import Receipt, ReceiptItem

TIME = datetime(2025, 7, 14, 10, 30)


def order(*items: ReceiptItem, **fields) -> Receipt:
    values = {"shop_name": "发财小狗饮品店", "pickup_number": "A001", "order_type": "takeaway"}
    return Receipt(order_id=3, time=TIME, total=Decimal(0), items=items, **values | fields)


TEA = ReceiptItem(
    "珍珠奶茶", 2, Decimal(15), size="大杯", temperature="少冰", sugar="半糖", toppings="珍珠，椰果"
)
GRAPE = ReceiptItem("多肉葡萄", 1, Decimal(28))


def test_one_label_per_cup_numbered_across_the_order():
    labels = cup_labels(order(TEA, ReceiptItem("作废", 0, Decimal(1)), GRAPE))
    assert [(label.counter, label.name) for label in labels] == [
        ("1/3", "珍珠奶茶"),
        ("2/3", "珍珠奶茶"),
        ("3/3", "多肉葡萄"),
    ]
    first = labels[0]
    assert (first.options, first.toppings, first.order_type) == (
        "大杯 / 少冰 / 半糖",
        "+珍珠 +椰果",
        "外带",
    )


def test_negative_quantities_and_an_empty_order_make_no_label():
    assert cup_labels(order(ReceiptItem("奶茶", -2, Decimal(1)))) == []
    assert cup_labels(order()) == []


def test_a_delivery_order_says_its_platform():
    labels = cup_labels(order(GRAPE, order_type="delivery", delivery_platform="美团",
                              platform_order_no="12"))  # fmt: skip
    assert labels[0].order_type == "外卖 美团 #12"


def test_one_label_of_the_order_for_a_reprint():
    [label] = cup_labels(order(TEA, GRAPE), reprint=True, only=2)
    assert (label.counter, label.name, label.reprint) == ("2/3", "珍珠奶茶", True)
    for wrong in (0, 4, True):
        with pytest.raises(ValueError, match="no label"):
            cup_labels(order(TEA, GRAPE), only=wrong)


def test_texts_are_printable_and_on_one_line():
    [label] = cup_labels(order(ReceiptItem("奶\x1bp茶\n大", 1, Decimal(1)), note="少冰\r\n\x07快"))
    assert (label.name, label.note) == ("奶p茶 大", "少冰 快")


def test_the_plain_text_has_one_block_per_cup():
    labels = cup_labels(order(TEA, GRAPE, note="不要吸管"))
    labels[2] = cup_labels(order(TEA, GRAPE, note="不要吸管"), reprint=True, only=3)[0]
    cup = "珍珠奶茶\n大杯 / 少冰 / 半糖\n+珍珠 +椰果\n备注: 不要吸管\n10:30 发财小狗饮品店\n"
    assert labels_text(labels) == (
        f"#A001 外带  1/3\n{cup}"
        "--------------------------------\n"
        f"#A001 外带  2/3\n{cup}"
        "--------------------------------\n"
        "#A001 外带  3/3\n多肉葡萄\n备注: 不要吸管\n10:30 重印 发财小狗饮品店\n"
    )


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"width_mm": 19}, "label width must be 20–110 mm, not 19"),
        ({"width_mm": 111}, "label width must be 20–110 mm"),
        ({"height_mm": 14}, "label height must be 15–200 mm"),
        ({"height_mm": 201}, "label height must be 15–200 mm"),
        ({"width_mm": "40"}, "label width must be 20–110 mm, not '40'"),
        ({"gap_mm": -1}, "label gap must be 0–20 mm"),
        ({"dpi": 600}, "label dpi must be 203 or 300"),
        ({"density": 16}, "label density must be 0–15"),
        ({"direction": 2}, "label direction must be 0 or 1"),
        ({"encoding": "utf-8"}, "label encoding must be one of gb18030, gbk, big5"),
        ({"qr_code": "yes"}, "qr_code must be true or false"),
    ],
)
def test_a_label_spec_out_of_range_is_refused_clearly(values, message):
    with pytest.raises(ValueError, match=message):
        LabelSpec.from_mapping(values)


def test_the_spec_travels_as_a_mapping():
    spec = LabelSpec(width_mm=50, height_mm=40, dpi=300, encoding="big5", qr_code=True)
    assert LabelSpec.from_mapping(spec.as_mapping() | {"newer_setting": 1}) == spec
    assert LabelSpec.from_mapping(None, density=12).density == 12
    with pytest.raises(ValueError, match="must be an object"):
        LabelSpec.from_mapping(["width_mm"])


def test_labels_travel_as_json():
    labels = cup_labels(order(TEA, GRAPE, note="少冰"), reprint=True)
    data = labels_to_json(labels)
    assert data[0] == {
        "index": 1,
        "total": 3,
        "pickup_number": "A001",
        "order_type": "外带",
        "name": "珍珠奶茶",
        "options": "大杯 / 少冰 / 半糖",
        "toppings": "+珍珠 +椰果",
        "note": "少冰",
        "time": "2025-07-14T10:30:00",
        "shop_name": "发财小狗饮品店",
        "reprint": True,
    }
    assert labels_from_json(data) == labels


GOOD = labels_to_json(cup_labels(order(GRAPE)))[0]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "labels must be a list"),
        ([], "must not be empty"),
        ([GOOD] * (MAX_LABELS + 1), f"at most {MAX_LABELS} labels"),
        (["x"], r"labels\[0\] must be an object"),
        ([{k: v for k, v in GOOD.items() if k != "name"}], r"labels\[0\] lacks name"),
        ([GOOD | {"colour": "red"}], "unknown keys: colour"),
        ([GOOD | {"index": 0}], r"labels\[0\]\.index must be a positive integer"),
        ([GOOD | {"index": True}], "index must be a positive integer"),
        ([GOOD | {"index": 2}], "label 2 of 1"),
        ([GOOD | {"name": 7}], "name must be a string"),
        ([GOOD | {"note": "x" * 501}], "note is longer than 500 characters"),
        ([GOOD | {"reprint": "no"}], "reprint must be true or false"),
        ([GOOD | {"time": "10:30 today"}], "time is not an ISO 8601 time"),
        ([GOOD, GOOD | {"time": 5}], r"labels\[1\]\.time must be an ISO 8601 string"),
    ],
)
def test_bad_label_json_is_refused_with_the_reason(data, message):
    with pytest.raises(ValueError, match=message):
        labels_from_json(data)


def test_json_texts_are_made_printable():
    [label] = labels_from_json([GOOD | {"name": "葡萄\x1b@\n多肉"}])
    assert label.name == "葡萄@ 多肉"


# The layout: nothing outside the label, nothing on top of anything else.

ALPHABET = (
    "珍珠奶茶多肉葡萄芝士抹茶拿铁半糖少冰去冰热大杯中杯"
    + "ABCxyz0123456789 /#+-.()[]\"'"
    + "…・￥é"
)


def random_text(rng: random.Random, longest: int) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, longest)))


def boxes(page, spec: LabelSpec) -> list[tuple[int, int, int, int]]:
    out = [
        (t.x, t.y, t.x + text_dots(t.text, spec.encoding, t.scale), t.y + FONT_HEIGHT * t.scale)
        for t in page.texts
    ]
    if page.qr is not None:
        out.append((page.qr.x, page.qr.y, page.qr.x + page.qr.size, page.qr.y + page.qr.size))
    return out


SPECS = [
    LabelSpec(),
    LabelSpec(dpi=300),
    LabelSpec(width_mm=20, height_mm=15),
    LabelSpec(width_mm=20, height_mm=15, dpi=300, encoding="big5"),
    LabelSpec(qr_code=True),
    LabelSpec(width_mm=60, height_mm=40, dpi=300, qr_code=True, encoding="gbk"),
    LabelSpec(width_mm=110, height_mm=200, qr_code=True),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.width_mm}x{s.height_mm}@{s.dpi}")
def test_every_text_fits_inside_the_label_and_none_overlap(spec):
    rng = random.Random(spec.width_mm * 1000 + spec.height_mm + spec.dpi)
    for _ in range(400):
        receipt = order(
            ReceiptItem(
                random_text(rng, 40), rng.randint(1, 3), Decimal(1),
                size=random_text(rng, 8), temperature=random_text(rng, 8),
                sugar=random_text(rng, 8), toppings=random_text(rng, 30),
            ),
            pickup_number=random_text(rng, 12), note=random_text(rng, 80),
            shop_name=random_text(rng, 30), order_type=rng.choice(["dine_in", "delivery"]),
            delivery_platform=random_text(rng, 8), platform_order_no=random_text(rng, 6),
        )  # fmt: skip
        for label in cup_labels(receipt, reprint=rng.random() < 0.3):
            page = label_page(label, spec)
            placed = boxes(page, spec)
            for left, top, right, bottom in placed:
                assert 0 <= left < right <= spec.width_dots, (label, page)
                assert 0 <= top < bottom <= spec.height_dots, (label, page)
            for i, a in enumerate(placed):
                for b in placed[i + 1 :]:
                    apart = a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
                    assert apart, (a, b, page)
            # The counter is always there, in the top row.
            assert any(t.text == label.counter and t.y <= 3 * FONT_HEIGHT for t in page.texts)


def test_a_short_label_leaves_out_the_note_first_then_the_time_and_shop():
    [label] = cup_labels(order(GRAPE, note="不要吸管"))
    tall = [t.text for t in label_page(label, LabelSpec()).texts]
    assert tall == ["#A001 外带", "1/1", "多肉葡萄", "备注: 不要吸管", "10:30", "发财小狗饮品店"]
    short = [t.text for t in label_page(label, LabelSpec(height_mm=20)).texts]
    assert short == ["#A001 外带", "1/1", "多肉葡萄", "10:30", "发财小狗饮品店"]
    tiny = [t.text for t in label_page(label, LabelSpec(width_mm=20, height_mm=15)).texts]
    assert tiny[:3] == ["#A001", "1/1", "外带"]


def test_a_reprint_keeps_its_mark_when_the_label_is_short():
    [label] = cup_labels(order(TEA, note="不要吸管"), reprint=True, only=1)
    texts = [t.text for t in label_page(label, LabelSpec(height_mm=20)).texts]
    assert "10:30 重印" in texts
    assert "大杯 / 少冰 / 半糖" not in texts


def test_a_long_name_wraps_to_two_lines_and_is_shortened_after():
    [label] = cup_labels(order(ReceiptItem("超级" * 30, 1, Decimal(1))))
    page = label_page(label, LabelSpec())
    name = [t for t in page.texts if t.text.startswith("超级")]
    assert [t.scale for t in name] == [1, 1]
    assert name[1].text.endswith("…")


def test_the_qr_code_of_the_pickup_number_when_asked_and_there_is_room():
    [label] = cup_labels(order(GRAPE))
    assert label_page(label, LabelSpec()).qr is None
    qr = label_page(label, LabelSpec(qr_code=True)).qr
    assert (qr.text, qr.cell, qr.size) == ("A001", 3, 63)
    assert label_page(label, LabelSpec(qr_code=True, width_mm=20, height_mm=15)).qr is None
    [anonymous] = cup_labels(order(GRAPE, pickup_number=""))
    assert label_page(anonymous, LabelSpec(qr_code=True)).qr is None
