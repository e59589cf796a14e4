"""API keys in the admin: the key is shown once, only its hash is kept, revoking works at
once."""

import re

import pytest

from integrations.models import ApiKey
from orders.models import Order
from tests.api_client import call

pytestmark = pytest.mark.django_db


def test_a_key_made_in_the_admin_is_shown_once_and_works(admin_client, client):
    page = admin_client.post(
        "/admin/integrations/apikey/add/",
        {"name": "自助点单机", "scopes": ["orders:write", "orders:read"]},
    )
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    raw = re.search(r'data-testid="api-key"[^>]*>([^<]+)<', page.content.decode()).group(1)
    key = ApiKey.objects.get()
    assert (key.name, sorted(key.scopes)) == ("自助点单机", ["orders:read", "orders:write"])
    assert key.created_by == "staff:admin"
    assert raw not in key.key_hash
    assert (
        raw not in admin_client.get(f"/admin/integrations/apikey/{key.pk}/change/").content.decode()
    )

    body = {"items": [{"name": "珍珠奶茶", "unit_price": "15.00"}]}
    assert call(client, "post", "/api/orders", body, key=raw).status_code == 201

    admin_client.post(
        "/admin/integrations/apikey/",
        {"action": "revoke", "_selected_action": [key.pk]},
    )
    assert ApiKey.objects.get().revoked_at is not None
    assert call(client, "post", "/api/orders", body, key=raw).status_code == 401
    assert Order.objects.count() == 1


def test_a_key_needs_a_scope(admin_client):
    page = admin_client.post("/admin/integrations/apikey/add/", {"name": "空", "scopes": []})
    assert page.status_code == 200
    assert not ApiKey.objects.exists()


def test_the_key_list_shows_prefixes_and_last_use_not_keys(admin_client):
    admin_client.post(
        "/admin/integrations/apikey/add/", {"name": "小程序", "scopes": ["orders:read"]}
    )
    listing = admin_client.get("/admin/integrations/apikey/").content.decode()
    key = ApiKey.objects.get()
    assert key.prefix in listing
    assert "小程序" in listing
