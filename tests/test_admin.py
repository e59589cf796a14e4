import pytest
from django.urls import reverse

from orders.models import Order
from printing.models import PrinterConnection, PrintJob, ServerProcess

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(admin_client):
    return admin_client


def test_every_admin_list_and_the_job_page_render(staff, make_printer, make_order):
    printer = make_printer()
    make_order(confirm=True)
    job = PrintJob.objects.get()
    server = ServerProcess.objects.create(hostname="h", pid=1, version="1", channel_layer="x")
    PrinterConnection.objects.create(
        server=server, printer=printer, reported_name="厨房打印机", printer_info={"model": "X"}
    )
    for name in ["printing_printerconfig", "printing_printjob", "printing_printerconnection"]:
        assert staff.get(reverse(f"admin:{name}_changelist")).status_code == 200
    assert staff.get(reverse("admin:orders_order_changelist")).status_code == 200
    page = staff.get(reverse("admin:printing_printjob_change", args=[job.pk]))
    assert page.status_code == 200
    assert "珍珠奶茶" in page.content.decode()
    page = staff.get(reverse("admin:printing_printerconfig_change", args=[printer.pk]))
    assert "厨房打印机" in page.content.decode()


def test_the_admin_speaks_chinese_by_default_and_english_on_request(staff):
    page = staff.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="en-US,en")
    text = page.content.decode()
    assert "发财小狗饮品店 · 管理后台" in text
    assert "打印管理" in text  # the link to the print dashboard
    assert "打印任务" in text  # a model name from our catalogue
    staff.post("/i18n/setlang/", {"language": "en", "next": "/admin/"})
    text = staff.get(reverse("admin:index")).content.decode()
    assert "Print dashboard" in text
    assert "Print jobs" in text


def test_the_confirm_action_prints_pending_orders(staff, make_printer, make_order):
    make_printer()
    orders = [make_order(), make_order()]
    response = staff.post(
        reverse("admin:orders_order_changelist"),
        {"action": "confirm_orders", "_selected_action": [o.pk for o in orders]},
    )
    assert response.status_code == 302
    assert PrintJob.objects.count() == 2
    assert set(Order.objects.values_list("status", flat=True)) == {"confirmed"}


def test_an_order_added_confirmed_in_the_form_prints_its_items(staff, make_printer):
    make_printer()
    response = staff.post(
        reverse("admin:orders_order_add"),
        {
            "status": "confirmed",
            "order_type": "dine_in",
            "customer_phone": "13800138000",
            "note": "",
            "items-TOTAL_FORMS": "1",
            "items-INITIAL_FORMS": "0",
            "items-0-name": "杨枝甘露",
            "items-0-size": "中杯",
            "items-0-temperature": "少冰",
            "items-0-sugar": "半糖",
            "items-0-quantity": "2",
            "items-0-unit_price": "22.00",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    order = Order.objects.get()
    assert order.status == "confirmed"
    assert str(order.total_amount) == "44.00"
    job = PrintJob.objects.get(order=order)
    assert "杨枝甘露" in job.print_content
    assert job.print_content.count("¥44.00") == 2


def test_the_order_board_confirms_once_cancels_and_answers_404_for_no_such_order(
    staff, make_printer, make_order
):
    make_printer()
    order, other = make_order(), make_order()

    first = staff.post(f"/backoffice/orders/{order.pk}/confirm")
    second = staff.post(f"/backoffice/orders/{order.pk}/confirm")
    cancelled = staff.post(f"/backoffice/orders/{other.pk}/cancel")
    missing = [
        staff.post(f"/backoffice/orders/999999/{action}") for action in ("confirm", "cancel")
    ]

    assert first.json() == second.json() == {"id": order.pk, "status": "confirmed"}
    assert PrintJob.objects.filter(order=order).count() == 1
    assert cancelled.json() == {"id": other.pk, "status": "cancelled"}
    assert not PrintJob.objects.filter(order=other).exists()
    assert [response.status_code for response in missing] == [404, 404]


@pytest.mark.parametrize("printer", ["abc", "²", "", "999999", "-1"])
def test_a_bad_printer_id_is_a_clear_404_for_test_prints_and_tickets(staff, make_printer, printer):
    make_printer()
    for url in ("/admin/print/test-print", "/admin/print/ticket"):
        response = staff.post(url, {"printer": printer})
        assert response.status_code == 404, url
        assert response.json()["error"] == "unknown_printer"
    assert not PrintJob.objects.exists()
