"""The integration screens in a real browser: an owner makes an API key in the admin (shown
once), an integration uses it, and the API's docs page renders from this server."""

import json
import urllib.request

import pytest
from playwright.sync_api import expect

from orders.models import Order
from tests import test_browser
from tests.test_browser import log_in, shoot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

# The browser screens' fixtures: one Chromium per module, a fresh page, a staff member.
browser, page, staff = test_browser.browser, test_browser.page, test_browser.staff


def test_an_owner_makes_a_key_in_the_admin_and_an_integration_orders_with_it(
    print_server, page, staff
):
    server = print_server()
    log_in(page, server, "/admin/integrations/apikey/add/")
    page.fill("#id_name", "小程序")
    page.check("input[name=scopes][value='orders:write']")
    page.click("input[name=_save]")
    shown = page.get_by_test_id("api-key")
    expect(shown).to_be_visible()
    key = shown.inner_text().strip()
    shoot(page, "api-key-created.png")

    request = urllib.request.Request(
        f"{server.http_url}/api/orders",
        data=json.dumps({"items": [{"name": "珍珠奶茶", "unit_price": "15.00"}]}).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201
    assert Order.objects.get().items.get().name == "珍珠奶茶"

    page.goto(f"{server.http_url}/admin/integrations/apikey/")
    expect(page.locator("#result_list")).to_contain_text("小程序")
    expect(page.locator("#result_list")).not_to_contain_text(key)


def test_the_api_docs_render_every_operation_without_the_internet(print_server, page):
    server = print_server()
    outside = []
    page.on("request", lambda r: outside.append(r.url) if server.http_url not in r.url else None)
    page.goto(f"{server.http_url}/api/docs")
    expect(page.locator(".swagger-ui")).to_be_visible()
    expect(page.get_by_text("/api/orders/{order_id}/reprint")).to_be_visible(timeout=10_000)
    expect(page.get_by_text("/api/webhooks/{endpoint_id}")).to_be_visible()
    shoot(page, "api-docs.png")
    assert outside == []
