"""Calling the integration API as another system does: JSON bodies, a bearer key, and an
Idempotency-Key when given."""

import json

from django.test import Client

KEY = "k" * 32


def call(client: Client, method: str, url: str, body=None, *, key: str | None = KEY,
         idempotency_key: str | None = None):  # fmt: skip
    headers = {}
    if key is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    if idempotency_key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = idempotency_key
    if body is not None:
        headers["data"] = body if isinstance(body, (str, bytes)) else json.dumps(body)
    if method != "get":
        # No body is an empty one, as `curl -X POST` sends (not the test client's form).
        headers["content_type"] = "application/json"
    return getattr(client, method)(url, **headers)


def order_body(**fields) -> dict:
    """Two large pearl milk teas (2 × 15.00) and a small snack (1 × 8.50): 38.50."""
    return {
        "items": [
            {"name": "珍珠奶茶", "category": "奶茶", "size": "大杯", "temperature": "少冰",
             "sugar": "半糖", "toppings": ["珍珠", "椰果"], "quantity": 2, "unit_price": "15.00"},
            {"name": "薯条", "category": "小食", "quantity": 1, "unit_price": "8.50"},
        ],
        "order_type": "delivery",
        "delivery_platform": "美团",
        "platform_order_no": "MT-20261202-0001",
        "customer_phone": "13800138000",
        "note": "少放冰",
        **fields,
    }  # fmt: skip
