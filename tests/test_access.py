import ipaddress
import json
import logging
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from printing.models import PrinterConfig, PrinterConnection, PrintJobEvent, ServerProcess
from printing.routing import websocket_urlpatterns
from printing.services import print_job_create, printer_token_issue
from tests.helpers import eventually, from_address

# The pure rules are in test_access_rules.py; here they are seen through the API and the
# consumer, with the database.


# A key that is none of PRINT_API_KEYS is looked up among the admin's API keys.
@pytest.mark.django_db
@pytest.mark.parametrize("key", ["密钥", "clé", "k\u00e9\u00ff"])
@pytest.mark.parametrize(
    ("method", "url"), [("post", "/api/jobs"), ("get", "/api/printers/status")]
)
def test_a_non_ascii_api_key_is_refused_not_a_server_error(client, settings, key, method, url):
    settings.PRINT_API_KEYS = ["test-api-key-0123456789"]
    response = getattr(client, method)(
        url, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


# The same rules through the consumer, as a client at a shop address reaches it.

SHOP_LAN = "192.168.1.0/24"
shop_pc = from_address(URLRouter(websocket_urlpatterns), "192.168.1.20")


async def handshake(*, query: str = "", **headers) -> dict:
    """Connect and return the first thing the server says: a welcome or a close."""
    client = WebsocketCommunicator(
        shop_pc, f"/?{query}", headers=[(k.encode(), v.encode()) for k, v in headers.items()]
    )
    connected, _ = await client.connect(timeout=5)
    assert connected
    first = await client.receive_output(timeout=5)
    if first["type"] == "websocket.send":
        first = {"type": "welcome", **json.loads(first["text"])}
        await client.disconnect()
    return first


consumer_test = pytest.mark.usefixtures("dispatcher")


@consumer_test
@pytest.mark.django_db(transaction=True)
async def test_a_page_on_a_rebound_name_is_refused_even_from_the_trusted_network(settings):
    settings.PRINT_TRUSTED_NETWORKS = [ipaddress.ip_network(SHOP_LAN)]
    settings.ALLOWED_HOSTS = ["*"]
    rebound = await handshake(host="evil.example:8765", origin="http://evil.example:8765")
    assert (rebound["type"], rebound["code"]) == ("websocket.close", 4403)
    assert rebound["reason"] == "origin not allowed"
    # The server's own pages, by address or by a name it was given, still connect.
    by_address = await handshake(host="192.168.1.5:8765", origin="http://192.168.1.5:5000")
    assert by_address["type"] == "welcome"
    settings.ALLOWED_HOSTS = ["shop.example.com"]
    by_name = await handshake(host="shop.example.com:8765", origin="http://shop.example.com:5000")
    assert by_name["type"] == "welcome"


@consumer_test
@pytest.mark.django_db(transaction=True)
async def test_twenty_failed_handshakes_a_minute_turn_an_address_away(caplog):
    caplog.set_level(logging.INFO, logger="printing.connections")
    for _ in range(20):
        closed = await handshake(query="token=not-a-token")
        assert (closed["code"], closed["reason"]) == (4401, "invalid or revoked token")
    # Now even a valid token waits: no lookup is made for this address for a minute.
    kitchen = await database_sync_to_async(PrinterConfig.objects.create)(name="厨房打印机")
    token = await database_sync_to_async(printer_token_issue)(printer=kitchen)
    for query in ("token=not-a-token", f"token={token}", ""):
        closed = await handshake(query=query)
        assert (closed["code"], closed["reason"]) == (1013, "too many failed handshakes")
    backoffs = [r for r in caplog.records if "event=handshake_backoff" in r.getMessage()]
    assert len(backoffs) == 1
    assert "address=192.168.1.20" in backoffs[0].getMessage()
    assert len([r for r in caplog.records if "event=refuse" in r.getMessage()]) == 20
    # Another address is not affected.
    other = from_address(URLRouter(websocket_urlpatterns), "192.168.1.21")
    client = WebsocketCommunicator(other, f"/?token={token}")
    assert (await client.connect(timeout=5))[0]
    assert (await client.receive_json_from(timeout=5))["type"] == "welcome"
    await client.disconnect()


@database_sync_to_async
def socket_history() -> dict[str, int]:
    """Sockets of another (live) process: closed 8 and 6 days ago, and one open for 30 days,
    the first one named in a job's history."""
    now = timezone.now()
    server = ServerProcess.objects.create(hostname="elsewhere", pid=1, version="x")
    rows = {
        name: PrinterConnection.objects.create(
            server=server, connected_at=now - timedelta(days=30), closed_at=closed_at
        ).pk
        for name, closed_at in [
            ("closed_8_days_ago", now - timedelta(days=8)),
            ("closed_6_days_ago", now - timedelta(days=6)),
            ("open", None),
        ]
    }
    job = print_job_create(printer=PrinterConfig.objects.create(name="厨房打印机"), content="x\n")
    PrintJobEvent.objects.filter(job=job).update(connection_id=rows["closed_8_days_ago"])
    return rows


def kept_rows() -> set[int]:
    return set(PrinterConnection.objects.values_list("pk", flat=True))


@consumer_test
@pytest.mark.django_db(transaction=True)
async def test_the_heartbeat_forgets_sockets_closed_longer_ago_than_the_history_keeps():
    rows = await socket_history()
    client = WebsocketCommunicator(from_address(URLRouter(websocket_urlpatterns)), "/")
    assert (await client.connect(timeout=5))[0]  # starts this process's heartbeat

    await eventually(lambda: rows["closed_8_days_ago"] not in kept_rows())
    kept = await database_sync_to_async(kept_rows)()
    assert {rows["closed_6_days_ago"], rows["open"]} <= kept
    # The job's history stays; only its link to the forgotten socket goes.
    events = await database_sync_to_async(list)(PrintJobEvent.objects.values_list("connection"))
    assert events == [(None,)]
    await client.disconnect()
