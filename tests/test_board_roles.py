"""The order board and issue 14: the test form's category, toppings and order type, the
board's pickup numbers and order types, and the reprint chooser. Bad input is a 400 that
writes nothing."""

from decimal import Decimal

import pytest

from orders.models import Category, Order, OrderItem
from printing.models import PrinterConfig, PrintJob, PrintJobEvent

pytestmark = pytest.mark.django_db

Role = PrinterConfig.Role


@pytest.fixture
def staff(admin_client):
    return admin_client


@pytest.fixture
def milk_tea(db):
    return Category.objects.create(name="奶茶", sort_order=1)


def add(staff, **fields):
    form = {"name": "珍珠奶茶", "quantity": "1", "unit_price": "12", **fields}
    return staff.post("/backoffice/orders/new", form)


def nothing_written() -> bool:
    return not Order.objects.exists() and not OrderItem.objects.exists()


def test_the_form_makes_a_delivery_order_with_a_category_and_toppings(staff, milk_tea):
    response = add(
        staff,
        category=str(milk_tea.pk),
        toppings=" 珍珠, 椰果 ",
        order_type="delivery",
        delivery_platform="美团",
        platform_order_no="12",
    )
    assert response.status_code == 201
    order = Order.objects.get(pk=response.json()["id"])
    assert (order.order_type, order.delivery_platform, order.platform_order_no) == (
        "delivery",
        "美团",
        "12",
    )
    item = order.items.get()
    assert (item.category, item.toppings) == (milk_tea, "珍珠, 椰果")


def test_no_category_and_no_order_type_make_an_uncategorised_dine_in_order(staff):
    response = add(staff, category="", delivery_platform="美团", platform_order_no="12")
    assert response.status_code == 201
    order = Order.objects.get()
    # The platform belongs to delivery orders only.
    assert (order.order_type, order.delivery_platform, order.platform_order_no) == (
        "dine_in",
        "",
        "",
    )
    assert order.items.get().category is None


def test_over_long_texts_are_cut_like_the_other_fields(staff):
    response = add(
        staff,
        toppings="珍" * 300,
        order_type="delivery",
        delivery_platform="美" * 50,
        platform_order_no="1" * 60,
    )
    assert response.status_code == 201
    order = Order.objects.get()
    assert (len(order.delivery_platform), len(order.platform_order_no)) == (30, 40)
    assert order.items.get().toppings == "珍" * 200


@pytest.mark.parametrize("category", ["abc", "999999", "-1", "1.0", "²", "1e3", " 1 x"])
def test_an_unknown_or_malformed_category_is_refused(staff, milk_tea, category):
    response = add(staff, category=category)
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_field",
        "message": "category must be the id of a category",
    }
    assert nothing_written()


@pytest.mark.parametrize("order_type", ["pickup", "DINE_IN", "外卖", " delivery"])
def test_an_unknown_order_type_is_refused(staff, order_type):
    response = add(staff, order_type=order_type)
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_field",
        "message": "order_type must be one of dine_in, takeaway, delivery",
    }
    assert nothing_written()


def test_the_board_page_offers_the_categories_and_order_types(staff, milk_tea):
    Category.objects.create(name="小食", sort_order=3)
    page = staff.get("/backoffice/").content.decode()
    assert f'<option value="{milk_tea.pk}">奶茶</option>' in page
    assert page.index(">奶茶<") < page.index(">小食<")
    for value, label in (("dine_in", "堂食"), ("takeaway", "外带"), ("delivery", "外卖")):
        assert f'<option value="{value}">{label}</option>' in page
    assert 'name="toppings"' in page
    assert 'name="platform_order_no"' in page


def test_the_board_data_has_pickup_numbers_order_types_categories_and_printers(
    staff, make_printer, make_order, milk_tea
):
    counter = make_printer("收银台打印机")
    station = make_printer("制作台打印机", role=Role.STATION)
    station.categories.set([milk_tea])
    labeler = make_printer("标签机", role=Role.LABEL)
    make_printer("停用的", is_active=False)
    order = make_order(
        items=[
            {
                "name": "珍珠奶茶",
                "quantity": 1,
                "unit_price": Decimal("25.00"),
                "category": milk_tea,
                "toppings": "珍珠, 椰果",
            }
        ],
        order_type="delivery",
        delivery_platform="美团",
        platform_order_no="12",
        confirm=True,
    )
    order.refresh_from_db()
    data = staff.get("/backoffice/data").json()
    [card] = data["confirmed"]
    assert card["pickup_number"] == order.pickup_number == "001"
    assert {key: card[key] for key in ("order_type", "delivery_platform", "platform_order_no")} == {
        "order_type": "delivery",
        "delivery_platform": "美团",
        "platform_order_no": "12",
    }
    assert card["order_type_label"] == "外卖"
    [item] = card["items"]
    assert (item["category"], item["toppings"]) == ("奶茶", "珍珠, 椰果")
    assert {receipt["printer"] for receipt in card["receipts"]} == {
        "收银台打印机",
        "制作台打印机",
        "标签机",
    }
    # The chooser's printers: the active ones, receipts ticked.
    assert [(p["id"], p["name"], p["role"], p["default"]) for p in data["printers"]] == [
        (labeler.pk, "标签机", "label", False),
        (counter.pk, "收银台打印机", "receipt", True),
        (station.pk, "制作台打印机", "station", False),
    ]

    pending = make_order(order_type="takeaway")
    [waiting] = staff.get("/backoffice/data").json()["pending"]
    assert (waiting["id"], waiting["pickup_number"], waiting["order_type_label"]) == (
        pending.pk,
        "",
        "外带",
    )


@pytest.fixture
def printed(make_printer, make_order, milk_tea):
    """A confirmed order printed on a receipt printer and a station."""
    counter = make_printer("收银台打印机")
    station = make_printer("制作台打印机", role=Role.STATION)
    station.categories.set([milk_tea])
    order = make_order(
        items=[
            {
                "name": "珍珠奶茶",
                "quantity": 1,
                "unit_price": Decimal("25.00"),
                "category": milk_tea,
            }
        ],
        confirm=True,
    )
    assert PrintJob.objects.filter(order=order).count() == 2
    return {"order": order, "counter": counter, "station": station}


def reprint(staff, order, printer_ids=None):
    form = {} if printer_ids is None else {"printer_ids": printer_ids}
    return staff.post(f"/backoffice/orders/{order.pk}/reprint", form)


def test_a_reprint_goes_only_to_the_printers_chosen(staff, printed):
    order, station = printed["order"], printed["station"]
    response = reprint(staff, order, [str(station.pk)])
    assert response.status_code == 201
    jobs = PrintJob.objects.filter(pk__in=response.json()["jobs"])
    assert [(job.printer_id, job.job_type, job.is_reprint) for job in jobs] == [
        (station.pk, "kitchen", True)
    ]
    # The originals stay.
    assert PrintJob.objects.filter(order=order, is_reprint=False).count() == 2


def test_two_printers_chosen_get_one_reprint_each(staff, printed):
    chosen = [str(printed["counter"].pk), str(printed["station"].pk), str(printed["counter"].pk)]
    response = reprint(staff, printed["order"], chosen)
    assert response.status_code == 201
    jobs = PrintJob.objects.filter(pk__in=response.json()["jobs"])
    assert sorted((job.printer_id, job.is_reprint) for job in jobs) == sorted(
        [(printed["counter"].pk, True), (printed["station"].pk, True)]
    )


def test_a_reprint_with_no_printers_chosen_goes_to_the_receipt_printers(staff, printed):
    response = reprint(staff, printed["order"])
    assert response.status_code == 201
    jobs = PrintJob.objects.filter(pk__in=response.json()["jobs"])
    assert [(job.printer_id, job.job_type, job.is_reprint) for job in jobs] == [
        (printed["counter"].pk, "reprint", True)
    ]


@pytest.mark.parametrize("bad", ["abc", "", "-1", "1.5", "²", "999999", "inactive"])
def test_a_bad_printer_choice_is_refused_and_prints_nothing(staff, printed, make_printer, bad):
    if bad == "inactive":
        bad = str(make_printer("停用的", is_active=False).pk)
    before = PrintJob.objects.count()
    # One good id next to the bad one: the whole request is refused.
    response = reprint(staff, printed["order"], [str(printed["counter"].pk), bad])
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_field",
        "message": "printer_ids must be ids of active printers",
    }
    assert PrintJob.objects.count() == before


def test_cancelling_on_the_board_voids_as_the_staff_member(staff, printed):
    order = printed["order"]
    PrintJob.objects.filter(order=order).update(status=PrintJob.Status.COMPLETED)
    response = staff.post(f"/backoffice/orders/{order.pk}/cancel")
    assert response.json() == {"id": order.pk, "status": "cancelled"}
    voids = PrintJob.objects.filter(order=order, job_type="void")
    assert voids.count() == 2
    actors = set(PrintJobEvent.objects.filter(job__in=voids).values_list("actor", flat=True))
    assert actors == {"staff:admin"}
