"""Who may do what on the staff screens: every JSON and POST endpoint checks a model
permission (view to see, change to act), the admin's actions declare theirs, and the
cashier and manager groups get what README.md says."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from orders.models import Order
from printing.models import PrintJob, SocketTicket

pytestmark = pytest.mark.django_db

PHONE = "13800138000"


@pytest.fixture
def shop(make_printer, make_order):
    """A printer, a pending order, and a confirmed one whose receipt failed."""
    printer = make_printer()
    pending = make_order(customer_phone=PHONE)
    make_order(confirm=True, customer_phone=PHONE)
    failed = PrintJob.objects.get()
    PrintJob.objects.filter(pk=failed.pk).update(status="failed")
    return {"printer": printer, "order": pending, "job": failed}


def endpoints(shop) -> list[tuple[str, str, dict, tuple[str, ...]]]:
    """(method, url, form, the permissions it needs) for every staff JSON and POST endpoint."""
    printer, order, job = shop["printer"].pk, shop["order"].pk, shop["job"].pk
    return [
        ("get", "/admin/print/data", {}, ("view_printerconfig", "view_printjob")),
        ("post", "/admin/print/test-print", {"printer": printer}, ("add_printjob",)),
        ("post", "/admin/print/retry-failed", {}, ("change_printjob",)),
        ("post", "/admin/print/ticket", {"printer": printer}, ("use_test_client",)),
        ("get", f"/admin/print/jobs/{job}", {}, ("view_printjob",)),
        ("get", "/backoffice/data", {}, ("view_order",)),
        ("post", "/backoffice/orders/new", {"name": "奶茶", "quantity": 1}, ("add_order",)),
        ("post", f"/backoffice/orders/{order}/confirm", {}, ("change_order",)),
        ("post", f"/backoffice/orders/{order}/cancel", {}, ("change_order",)),
        ("post", f"/backoffice/orders/{order}/reprint", {}, ("change_order",)),
        ("get", "/api/printers/status", {}, ("view_printerconfig",)),
        ("post", "/api/jobs", {}, ("add_printjob",)),
    ]


def person(*codenames: str, staff: bool = True) -> Client:
    user = get_user_model().objects.create_user(
        f"user{get_user_model().objects.count()}", is_staff=staff
    )
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    browser = Client()
    browser.force_login(user)
    return browser


def call(browser: Client, method: str, url: str, form: dict):
    if url == "/api/jobs":
        body = '{"printer": "厨房打印机", "content": "hello"}'
        return browser.post(url, body, content_type="application/json")
    return getattr(browser, method)(url, form)


def nothing_changed(shop) -> bool:
    return (
        PrintJob.objects.get(pk=shop["job"].pk).status == "failed"
        and PrintJob.objects.count() == 1
        and Order.objects.get(pk=shop["order"].pk).status == "pending"
        and Order.objects.count() == 2
        and not SocketTicket.objects.exists()
    )


@pytest.mark.parametrize("who", ["anonymous", "not staff", "staff without permissions"])
def test_every_staff_endpoint_refuses_those_without_its_permission(shop, who):
    browser = {
        "anonymous": Client,
        "not staff": lambda: person(
            "view_order", "change_order", "view_printjob", "use_test_client", staff=False
        ),
        "staff without permissions": person,
    }[who]()
    for method, url, form, _needs in endpoints(shop):
        response = call(browser, method, url, form)
        api = url.startswith("/api/")
        expected = 401 if api and who != "staff without permissions" else 403
        assert response.status_code == expected, (url, response.status_code)
        assert response["Content-Type"] == "application/json", url
        assert PHONE not in response.content.decode(), url
    assert nothing_changed(shop)


def test_each_endpoint_needs_its_own_permission_and_no_other(shop):
    every = {codename for *_, needs in endpoints(shop) for codename in needs}
    for method, url, form, needs in endpoints(shop):
        missing_one = call(person(*(every - {needs[0]})), method, url, form)
        assert missing_one.status_code == 403, url
        assert needs[0] in missing_one.json()["message"], url
        allowed = call(person(*needs), method, url, form)
        # Let through: what it answers then depends on the order's state, not on who asks.
        assert allowed.status_code not in (401, 403), (url, allowed.content)
        assert allowed.status_code < 500, url


def test_staff_without_permissions_cannot_read_phones_get_tickets_or_retry(shop):
    browser = person()
    assert browser.get("/backoffice/data").status_code == 403
    assert browser.post("/admin/print/ticket", {"printer": shop["printer"].pk}).status_code == 403
    assert browser.post("/admin/print/retry-failed").status_code == 403
    assert nothing_changed(shop)
    # The same staff member with the permissions: phones, a ticket, a retry.
    allowed = person("view_order", "use_test_client", "change_printjob")
    assert PHONE in allowed.get("/backoffice/data").content.decode()
    assert allowed.post("/admin/print/ticket", {"printer": shop["printer"].pk}).json()["ticket"]
    assert allowed.post("/admin/print/retry-failed").json() == {"retried": 1}


@pytest.mark.parametrize(
    ("url", "needs"),
    [
        ("/admin/print/", ("view_printerconfig", "view_printjob")),
        ("/admin/print/test-client/", ("use_test_client",)),
        ("/backoffice/", ("view_order",)),
    ],
)
def test_the_screens_send_strangers_to_the_login_and_refuse_staff_without_permission(url, needs):
    assert Client().get(url).url.startswith(reverse("admin:login"))
    assert person("view_order", staff=False).get(url).url.startswith(reverse("admin:login"))
    assert person().get(url).status_code == 403
    assert person(*needs).get(url).status_code == 200


def action(browser: Client, model: str, name: str, pk: int):
    return browser.post(
        reverse(f"admin:{model}_changelist"), {"action": name, "_selected_action": [pk]}
    )


def test_admin_actions_need_the_change_permission_not_just_view(shop):
    printer, job, order = shop["printer"], shop["job"], shop["order"]
    viewer = person("view_printerconfig", "view_printjob", "view_order")
    action(viewer, "printing_printerconfig", "issue_token", printer.pk)
    action(viewer, "printing_printerconfig", "disable", printer.pk)
    action(viewer, "printing_printerconfig", "test_print", printer.pk)
    action(viewer, "printing_printjob", "retry_jobs", job.pk)
    action(viewer, "orders_order", "confirm_orders", order.pk)
    printer.refresh_from_db()
    assert printer.token_hash is None
    assert printer.is_active
    assert nothing_changed(shop)

    editor = person("view_printerconfig", "change_printerconfig", "view_printjob")
    action(editor, "printing_printerconfig", "issue_token", printer.pk)
    printer.refresh_from_db()
    assert printer.token_hash is not None


def test_the_staff_groups_get_what_the_readme_says(shop):
    call_command("staffgroups", stdout=io.StringIO())
    call_command("staffgroups", stdout=io.StringIO())  # again: resets, does not duplicate

    def member(group: str) -> Client:
        user = get_user_model().objects.create_user(group, is_staff=True)
        user.groups.add(user.groups.model.objects.get(name=group))
        browser = Client()
        browser.force_login(user)
        return browser

    cashier, manager = member("cashier"), member("manager")
    printer = shop["printer"]
    for url in ("/backoffice/", "/admin/print/"):
        assert cashier.get(url).status_code == 200
    assert cashier.get("/admin/print/test-client/").status_code == 403
    assert cashier.post("/admin/print/ticket", {"printer": printer.pk}).status_code == 403
    assert cashier.post("/admin/print/test-print", {"printer": printer.pk}).status_code == 201
    assert cashier.post("/admin/print/retry-failed").json() == {"retried": 1}
    assert cashier.post(f"/backoffice/orders/{shop['order'].pk}/confirm").status_code == 200
    action(cashier, "printing_printerconfig", "issue_token", printer.pk)
    printer.refresh_from_db()
    assert printer.token_hash is None

    # Each sees links only to the screens it may open.
    assert "/admin/print/test-client/" not in cashier.get("/admin/print/").content.decode()
    assert "/admin/print/test-client/" not in cashier.get("/admin/").content.decode()
    assert "/admin/print/test-client/" in manager.get("/admin/").content.decode()
    assert manager.get("/admin/print/test-client/").status_code == 200
    assert manager.post("/admin/print/ticket", {"printer": printer.pk}).status_code == 200
    action(manager, "printing_printerconfig", "issue_token", printer.pk)
    printer.refresh_from_db()
    assert printer.token_hash is not None
    # The menu and the ticket text are a manager's; a cashier sees the categories only.
    assert manager.get("/admin/orders/shopprofile/", follow=True).status_code == 200
    assert manager.get("/admin/orders/category/add/").status_code == 200
    assert cashier.get("/admin/orders/category/").status_code == 200
    assert cashier.get("/admin/orders/category/add/").status_code == 403
    assert cashier.get("/admin/orders/shopprofile/").status_code == 403
