"""The order board's test-order form: bad input is a clear 400, never a 500 or an order."""

import pytest

from orders.models import Order

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(admin_client):
    return admin_client


def add(staff, **fields):
    return staff.post("/backoffice/orders/new", {"name": "珍珠奶茶", "quantity": "1", **fields})


@pytest.mark.parametrize(
    "price",
    [
        "NaN",
        "nan",
        "sNaN",
        "-NaN",
        "Infinity",
        "-inf",
        "-1",
        "1e9",
        "9999.01",
        "abc",
        "1e99999999999",
    ],
)
def test_a_price_that_is_not_a_sensible_number_is_refused(staff, price):
    response = add(staff, unit_price=price)
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_field",
        "message": "unit_price must be a number from 0 to 9999",
    }
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"quantity": "abc"}, "quantity must be a whole number from 1 to 99"),
        ({"quantity": "100"}, "quantity must be a whole number from 1 to 99"),
        ({"name": " "}, "name is required"),
    ],
)
def test_a_missing_name_or_a_bad_quantity_is_refused(staff, fields, message):
    response = add(staff, unit_price="12", **fields)
    assert (response.status_code, response.json()["message"]) == (400, message)
    assert not Order.objects.exists()


def test_a_sensible_price_makes_a_pending_order(staff):
    response = add(staff, unit_price="12.5", quantity="2")
    assert response.status_code == 201
    order = Order.objects.get(pk=response.json()["id"])
    assert order.status == "pending"
    assert [(item.quantity, str(item.unit_price)) for item in order.items.all()] == [(2, "12.50")]
