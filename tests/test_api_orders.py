"""POST /api/orders and the order operations: what an integration (小程序, kiosk, 美团)
sends, what it gets back, and what it may retry."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.idempotency import idempotency_records_prune
from integrations.models import IdempotencyRecord
from orders.models import Category, Order
from printing.models import PrinterConfig, PrintJob
from tests.api_client import KEY, call, order_body

pytestmark = pytest.mark.django_db
Role = PrinterConfig.Role


@pytest.fixture(autouse=True)
def shop(settings):
    settings.PRINT_API_KEYS = [KEY]
    for name in ("奶茶", "小食"):
        Category.objects.create(name=name)
    PrinterConfig.objects.create(name="收银台", role=Role.RECEIPT)
    station = PrinterConfig.objects.create(name="制作台", role=Role.STATION)
    station.categories.set(Category.objects.filter(name="奶茶"))


def test_an_order_is_created_with_the_servers_total_and_nothing_prints_until_confirmed(client):
    response = call(client, "post", "/api/orders", order_body())
    assert response.status_code == 201
    answer = response.json()
    order = Order.objects.get(pk=answer["id"])
    assert (answer["status"], answer["pickup_number"], answer["total_amount"]) == (
        "pending", "", "38.50",
    )  # fmt: skip
    assert str(order.total_amount) == "38.50"
    milk_tea = order.items.get(name="珍珠奶茶")
    assert (milk_tea.category.name, milk_tea.toppings, milk_tea.quantity) == (
        "奶茶",
        "珍珠, 椰果",
        2,
    )
    assert answer["items"][0]["toppings"] == ["珍珠", "椰果"]
    assert (order.delivery_platform, order.platform_order_no) == ("美团", "MT-20261202-0001")
    assert answer["tickets"] == []
    assert not PrintJob.objects.exists()


def test_confirm_true_prints_at_once_and_the_answer_shows_each_ticket(client):
    answer = call(client, "post", "/api/orders", order_body(confirm=True)).json()
    assert answer["status"] == "confirmed"
    assert answer["pickup_number"] == "001"
    tickets = {t["printer"]: t for t in answer["tickets"]}
    assert set(tickets) == {"收银台", "制作台"}
    assert {t["job_type"]: t["status"] for t in answer["tickets"]} == {
        "order": "pending", "kitchen": "pending",
    }  # fmt: skip
    assert PrintJob.objects.filter(order_id=answer["id"]).count() == 2

    PrintJob.objects.filter(order_id=answer["id"], job_type="order").update(
        status="completed", completed_at=timezone.now()
    )
    again = call(client, "get", f"/api/orders/{answer['id']}").json()
    assert {t["job_type"]: t["status"] for t in again["tickets"]} == {
        "order": "completed", "kitchen": "pending",
    }  # fmt: skip


def test_a_retry_with_the_same_key_gets_the_first_answer_and_prints_nothing_again(client):
    first = call(client, "post", "/api/orders", order_body(confirm=True), idempotency_key="mp-1")
    assert first.status_code == 201
    # The same body, its keys in another order and spaced otherwise, is the same request.
    same = json.dumps(dict(reversed(list(order_body(confirm=True).items()))), indent=2)
    for _ in range(3):
        retry = call(client, "post", "/api/orders", same, idempotency_key="mp-1")
        assert retry.status_code == 200
        assert retry.json() == first.json()
    assert Order.objects.count() == 1
    assert PrintJob.objects.count() == 2


def test_the_same_key_with_another_body_is_a_conflict(client):
    call(client, "post", "/api/orders", order_body(), idempotency_key="mp-2")
    other = call(client, "post", "/api/orders", order_body(note="多冰"), idempotency_key="mp-2")
    assert other.status_code == 409
    assert other.json()["error"] == "idempotency_conflict"
    assert Order.objects.count() == 1


def test_keys_are_per_caller_and_forgotten_after_a_day(client, settings):
    settings.PRINT_API_KEYS = [KEY, "o" * 32]
    call(client, "post", "/api/orders", order_body(), idempotency_key="k1")
    assert call(client, "post", "/api/orders", order_body(), idempotency_key="k1",
                key="o" * 32).status_code == 201  # fmt: skip
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    assert (
        call(client, "post", "/api/orders", order_body(), idempotency_key="k1").status_code == 201
    )
    assert Order.objects.count() == 3


def test_without_a_key_each_request_is_a_new_order(client):
    call(client, "post", "/api/orders", order_body())
    call(client, "post", "/api/orders", order_body())
    assert Order.objects.count() == 2


def test_a_refused_request_keeps_no_answer_under_its_key(client):
    wrong = call(client, "post", "/api/orders", order_body(total_amount="1.00"),
                 idempotency_key="fix-me")  # fmt: skip
    assert wrong.status_code == 400
    fixed = call(client, "post", "/api/orders", order_body(total_amount="38.50"),
                 idempotency_key="fix-me")  # fmt: skip
    assert fixed.status_code == 201


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ('{"items": [', "invalid_json", None),
        ("[]", "invalid_field", "body"),
        ({"items": []}, "invalid_field", "items"),
        (order_body(total_amount="38.00"), "total_mismatch", "total_amount"),
        (order_body(confirm=1), "invalid_field", "confirm"),
        (order_body(order_type="外卖"), "invalid_field", "order_type"),
        (order_body(unknown_field=1), "invalid_field", "unknown_field"),
        ({"items": [{"name": "奶茶", "quantity": -1, "unit_price": "5"}]}, "invalid_field",
         "items.0.quantity"),
        ({"items": [{"name": "奶茶", "quantity": "2", "unit_price": "5"}]}, "invalid_field",
         "items.0.quantity"),
        ({"items": [{"name": "奶茶", "unit_price": "5.001"}]}, "invalid_field",
         "items.0.unit_price"),
        ({"items": [{"name": "奶茶", "unit_price": "-1"}]}, "invalid_field", "items.0.unit_price"),
        ({"items": [{"name": "奶茶", "unit_price": "NaN"}]}, "invalid_field", "items.0.unit_price"),
        ({"items": [{"name": "奶茶", "unit_price": True}]}, "invalid_field", "items.0.unit_price"),
        ({"items": [{"name": " ", "unit_price": "5"}]}, "invalid_field", "items.0.name"),
        ({"items": [{"name": "奶茶", "category": "咖啡", "unit_price": "5"}]}, "unknown_category",
         "items.0.category"),
    ],
)  # fmt: skip
def test_bad_orders_are_refused_with_a_message_per_field_and_create_nothing(
    client, body, code, field
):
    response = call(client, "post", "/api/orders", body, idempotency_key="bad")
    assert response.status_code == 400, response.content
    answer = response.json()
    assert answer["error"] == code
    assert answer["message"]
    if field:
        assert field in answer["fields"], answer
    assert not Order.objects.exists()
    assert not IdempotencyRecord.objects.exists()


def test_a_body_over_the_limit_is_refused_before_it_is_read(client):
    body = json.dumps(order_body(note="冰" * (512 * 1024)))
    response = call(client, "post", "/api/orders", body)
    assert response.status_code == 413
    assert response.json()["error"] == "too_large"
    assert not Order.objects.exists()


def test_an_idempotency_key_must_be_printable(client):
    response = call(client, "post", "/api/orders", order_body(), idempotency_key="a b")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_idempotency_key"


def test_confirm_cancel_and_reprint_through_the_api(client):
    order_id = call(client, "post", "/api/orders", order_body()).json()["id"]
    for _ in range(2):
        confirmed = call(client, "post", f"/api/orders/{order_id}/confirm", idempotency_key="c")
        assert confirmed.status_code == 200
    assert confirmed.json()["pickup_number"] == "001"
    assert call(client, "post", f"/api/orders/{order_id}/confirm").status_code == 200
    assert PrintJob.objects.filter(order_id=order_id).count() == 2

    for _ in range(2):
        reprinted = call(client, "post", f"/api/orders/{order_id}/reprint",
                         {"printers": ["制作台"]}, idempotency_key="r1")  # fmt: skip
    assert reprinted.status_code == 200
    [job_id] = reprinted.json()["job_ids"]
    assert PrintJob.objects.get(pk=job_id).is_reprint
    assert PrintJob.objects.filter(order_id=order_id, is_reprint=True).count() == 1
    unknown = call(client, "post", f"/api/orders/{order_id}/reprint", {"printers": ["没有"]})
    assert (unknown.status_code, unknown.json()["error"]) == (400, "unknown_printer")

    PrintJob.objects.filter(order_id=order_id).update(status="completed")
    cancelled = call(client, "post", f"/api/orders/{order_id}/cancel")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert PrintJob.objects.filter(order_id=order_id, job_type="void").count() == 2
    assert call(client, "post", f"/api/orders/{order_id}/cancel").status_code == 200
    assert PrintJob.objects.filter(order_id=order_id, job_type="void").count() == 2
    refused = call(client, "post", f"/api/orders/{order_id}/confirm")
    assert (refused.status_code, refused.json()["error"]) == (409, "order_cancelled")


def test_unknown_orders_are_404(client):
    for method, url in [
        ("get", "/api/orders/999"),
        ("post", "/api/orders/999/confirm"),
        ("post", "/api/orders/999/cancel"),
        ("post", "/api/orders/999/reprint"),
    ]:
        response = call(client, method, url)
        assert (response.status_code, response.json()["error"]) == (404, "not_found")  # fmt: skip


def test_a_pending_order_cannot_be_reprinted(client):
    order_id = call(client, "post", "/api/orders", order_body()).json()["id"]
    response = call(client, "post", f"/api/orders/{order_id}/reprint")
    assert (response.status_code, response.json()["error"]) == (409, "not_confirmed")
    assert not PrintJob.objects.exists()


def test_keys_older_than_a_day_are_pruned(client):
    call(client, "post", "/api/orders", order_body(), idempotency_key="old")
    call(client, "post", "/api/orders", order_body(), idempotency_key="new")
    IdempotencyRecord.objects.filter(key="old").update(
        created_at=timezone.now() - timedelta(hours=25)
    )
    assert idempotency_records_prune() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
