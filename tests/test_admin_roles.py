"""The admin and the print dashboard for issue 14: categories, the ticket text, printer roles,
orders by pickup number and type, the station warnings, and the demo data."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from orders.models import Category, Order, ShopProfile
from printing.models import PrinterConfig, PrintJob, PrintJobEvent

pytestmark = pytest.mark.django_db

Role = PrinterConfig.Role


@pytest.fixture
def staff(admin_client):
    return admin_client


def found(staff, url: str, **query) -> list[int]:
    response = staff.get(url, query)
    assert response.status_code == 200
    return sorted(obj.pk for obj in response.context["cl"].result_list)


# Orders


def test_orders_are_found_by_pickup_number_whole_or_its_start(staff, make_order):
    ShopProfile.objects.create(pk=1, pickup_prefix="A")
    first, second = make_order(confirm=True), make_order(confirm=True)
    pending = make_order()
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.pickup_number, second.pickup_number) == ("A001", "A002")
    url = reverse("admin:orders_order_changelist")
    assert found(staff, url, q="A002") == [second.pk]
    assert found(staff, url, q="a00") == [first.pk, second.pk]
    assert found(staff, url, q="002") == []
    assert found(staff, url, q=str(pending.pk)) == [pending.pk]
    page = staff.get(url).content.decode()
    assert "A001" in page
    assert "取餐号" in page


def test_orders_are_filtered_by_type(staff, make_order):
    make_order()
    delivery = make_order(order_type="delivery", delivery_platform="美团", platform_order_no="12")
    url = reverse("admin:orders_order_changelist")
    assert found(staff, url, order_type="delivery") == [delivery.pk]
    assert "外卖" in staff.get(url).content.decode()


def test_the_order_form_edits_the_type_and_items_categories_not_the_pickup_number(
    staff, make_order
):
    tea = Category.objects.create(name="果茶")
    order = make_order(confirm=True)
    order.refresh_from_db()
    item = order.items.get()
    url = reverse("admin:orders_order_change", args=[order.pk])
    page = staff.get(url).content.decode()
    assert 'name="pickup_number"' not in page  # read-only: shown, not a field
    assert order.pickup_number in page
    response = staff.post(
        url,
        {
            "status": "confirmed",
            "order_type": "delivery",
            "delivery_platform": "饿了么",
            "platform_order_no": "88",
            "pickup_number": "999",
            "customer_phone": "",
            "note": "",
            "items-TOTAL_FORMS": "1",
            "items-INITIAL_FORMS": "1",
            "items-0-id": str(item.pk),
            "items-0-order": str(order.pk),
            "items-0-name": item.name,
            "items-0-category": str(tea.pk),
            "items-0-toppings": "椰果",
            "items-0-quantity": "1",
            "items-0-unit_price": "25.00",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    changed = Order.objects.get(pk=order.pk)
    assert (changed.order_type, changed.delivery_platform, changed.platform_order_no) == (
        "delivery",
        "饿了么",
        "88",
    )
    assert changed.pickup_number == order.pickup_number
    item.refresh_from_db()
    assert (item.category, item.toppings) == (tea, "椰果")


def test_the_cancel_action_voids_printed_tickets_as_the_staff_member(
    staff, make_printer, make_order
):
    make_printer()
    order = make_order(confirm=True)
    PrintJob.objects.filter(order=order).update(status=PrintJob.Status.COMPLETED)
    response = staff.post(
        reverse("admin:orders_order_changelist"),
        {"action": "cancel_orders", "_selected_action": [order.pk]},
    )
    assert response.status_code == 302
    void = PrintJob.objects.get(order=order, job_type="void")
    assert PrintJobEvent.objects.get(job=void).actor == "staff:admin"
    assert Order.objects.get(pk=order.pk).status == "cancelled"


def test_cancelling_in_the_order_form_voids_too(staff, make_printer, make_order):
    make_printer()
    order = make_order(confirm=True)
    PrintJob.objects.filter(order=order).update(status=PrintJob.Status.SENT)
    item = order.items.get()
    response = staff.post(
        reverse("admin:orders_order_change", args=[order.pk]),
        {
            "status": "cancelled",
            "order_type": "dine_in",
            "customer_phone": "",
            "note": "",
            "items-TOTAL_FORMS": "1",
            "items-INITIAL_FORMS": "1",
            "items-0-id": str(item.pk),
            "items-0-order": str(order.pk),
            "items-0-name": item.name,
            "items-0-quantity": "1",
            "items-0-unit_price": "25.00",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Order.objects.get(pk=order.pk).status == "cancelled"
    void = PrintJob.objects.get(order=order, job_type="void")
    assert PrintJobEvent.objects.get(job=void).actor == "staff:admin"


# Categories and printers


def test_the_category_admin_lists_sorts_and_assigns_printers(staff, make_printer):
    station = make_printer("制作台打印机", role=Role.STATION)
    snacks = Category.objects.create(name="小食", sort_order=3)
    changelist = reverse("admin:orders_category_changelist")

    response = staff.post(
        reverse("admin:orders_category_add"),
        {"name": "奶茶", "sort_order": "1", "printers": [str(station.pk)]},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    milk_tea = Category.objects.get(name="奶茶")
    assert list(station.categories.all()) == [milk_tea]
    page = staff.get(changelist).content.decode()
    assert page.index("奶茶") < page.index("小食")
    assert "制作台打印机" in page

    # The sort order is edited in the list.
    response = staff.post(
        changelist,
        {
            "form-TOTAL_FORMS": "2",
            "form-INITIAL_FORMS": "2",
            "form-0-id": str(snacks.pk),
            "form-0-sort_order": "0",
            "form-1-id": str(milk_tea.pk),
            "form-1-sort_order": "1",
            "_save": "保存",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert list(Category.objects.values_list("name", flat=True)) == ["小食", "奶茶"]
    # Its form shows the printers that take it, and unticking them all frees the station.
    change = reverse("admin:orders_category_change", args=[milk_tea.pk])
    assert staff.get(change).context["adminform"].form["printers"].initial == [station.pk]
    response = staff.post(change, {"name": "奶茶", "sort_order": "1"})
    assert response.status_code == 302
    assert not station.categories.exists()


def test_the_printer_admin_shows_roles_and_chooses_categories(staff, make_printer):
    make_printer("收银台打印机")
    station = make_printer("制作台打印机", role=Role.STATION)
    changelist = reverse("admin:printing_printerconfig_changelist")
    assert found(staff, changelist, role="station") == [station.pk]
    listed = staff.get(changelist).content.decode()
    assert "顾客小票" in listed
    assert "制作台制作单" in listed
    page = staff.get(reverse("admin:printing_printerconfig_change", args=[station.pk]))
    assert {"role", "categories"} <= set(page.context["adminform"].form.fields)
    text = page.content.decode()
    assert 'name="categories"' in text
    assert 'class="selectfilter"' in text


# The ticket text


def test_the_ticket_text_is_one_row_edited_in_place(staff):
    changelist = reverse("admin:orders_shopprofile_changelist")
    change = reverse("admin:orders_shopprofile_change", args=[1])
    response = staff.get(changelist)
    assert (response.status_code, response["Location"]) == (302, change)
    profile = ShopProfile.objects.get()
    assert profile.pk == 1
    assert profile.footer_lines == "谢谢惠顾，欢迎再来！"
    page = staff.get(change)
    assert page.status_code == 200
    assert "小票文字" in page.content.decode()

    assert staff.get(reverse("admin:orders_shopprofile_add")).status_code == 403
    assert staff.get(reverse("admin:orders_shopprofile_delete", args=[1])).status_code == 403
    response = staff.post(
        change,
        {
            "shop_name": "发财小狗",
            "address_line": "人民路 1 号 021-12345678",
            "footer_lines": "WiFi: dog888\n谢谢惠顾",
            "pickup_prefix": "A",
        },
    )
    assert response.status_code == 302
    assert ShopProfile.current().footer == ("WiFi: dog888", "谢谢惠顾")
    assert ShopProfile.objects.count() == 1
    response = staff.post(change, {"footer_lines": "", "pickup_prefix": "A-1"})
    assert response.status_code == 200  # the form again, with the error
    assert ShopProfile.current().pickup_prefix == "A"


def test_the_ticket_text_admin_needs_its_permission(make_order, client, django_user_model):
    user = django_user_model.objects.create_user("clerk", is_staff=True)
    client.force_login(user)
    assert client.get(reverse("admin:orders_shopprofile_changelist")).status_code == 403
    assert not ShopProfile.objects.exists()


# The print dashboard's warnings


def warnings(staff) -> list[str]:
    return staff.get("/admin/print/data").json()["warnings"]


def test_the_dashboard_warns_about_categories_no_station_prints(staff, make_printer):
    milk_tea = Category.objects.create(name="奶茶", sort_order=1)
    Category.objects.create(name="果茶", sort_order=2)
    Category.objects.create(name="小食", sort_order=3)
    make_printer("收银台打印机")
    # No station at all: the receipts are the whole plan, nothing to warn about.
    assert warnings(staff) == []

    station = make_printer("制作台打印机", role=Role.STATION)
    station.categories.set([milk_tea])
    assert warnings(staff) == ["没有制作台打印 果茶", "没有制作台打印 小食"]
    staff.post("/i18n/setlang/", {"language": "en", "next": "/admin/"})
    assert warnings(staff) == ["no station prints 果茶", "no station prints 小食"]

    # A second station that takes 果茶; one switched off or not printing orders counts for
    # nothing.
    bar = make_printer("水吧", role=Role.STATION)
    bar.categories.set(Category.objects.filter(name="果茶"))
    off = make_printer("停用", role=Role.STATION, is_active=False)
    manual = make_printer("手动", role=Role.STATION, auto_print_orders=False)
    assert warnings(staff) == ["no station prints 小食"]

    # A station with no categories takes every item.
    off.is_active = True
    off.save()
    assert warnings(staff) == []
    off.is_active = False
    off.save()
    manual.categories.set(Category.objects.filter(name="小食"))
    assert warnings(staff) == ["no station prints 小食"]


def test_the_dashboard_page_has_a_place_for_the_warnings(staff):
    page = staff.get("/admin/print/").content.decode()
    assert 'id="warnings"' in page


# Demo data


def test_the_demo_data_have_categories_a_station_and_stay_the_same_when_loaded_again():
    for _ in range(2):
        call_command("loaddemo", stdout=io.StringIO())
    assert list(Category.objects.values_list("name", "sort_order")) == [
        ("奶茶", 1),
        ("果茶", 2),
        ("小食", 3),
    ]
    printers = {printer.name: printer for printer in PrinterConfig.objects.all()}
    assert set(printers) == {"收银台打印机", "厨房打印机", "制作台打印机"}
    for seed in ("收银台打印机", "厨房打印机"):
        assert printers[seed].role == Role.RECEIPT
        assert not printers[seed].categories.exists()
    assert printers["收银台打印机"].paper_width == 80
    assert printers["厨房打印机"].paper_width == 58
    station = printers["制作台打印机"]
    assert (station.role, station.paper_width) == (Role.STATION, 58)
    assert sorted(station.categories.values_list("name", flat=True)) == ["奶茶", "果茶"]

    assert Order.objects.count() == 4
    assert set(Order.objects.values_list("status", flat=True)) == {"pending"}
    delivery = Order.objects.get(order_type="delivery")
    assert (delivery.delivery_platform, delivery.platform_order_no) == ("美团", "12")
    assert Order.objects.filter(order_type="takeaway").count() == 1
    for category in Category.objects.all():
        assert category.items.exists(), category.name
    pearl = Order.objects.get(items__name="珍珠奶茶").items.get(name="珍珠奶茶")
    assert (pearl.category.name, pearl.toppings) == ("奶茶", "珍珠, 椰果")
    assert Category.objects.get(name="果茶").items.filter(name="杨枝甘露").exists()
    assert Category.objects.get(name="小食").items.filter(name="鸡米花").exists()
