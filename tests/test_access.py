import ipaddress
import json
import logging
import re
import socket
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from printing import access
from printing.models import PrinterConfig, PrinterConnection, PrintJobEvent, ServerProcess
from printing.routing import websocket_urlpatterns
from printing.services import print_job_create, printer_token_issue
from tests.helpers import eventually, from_address

LOOPBACK = [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")]
PROXY = [ipaddress.ip_network("10.0.0.2/32")]


def scope(client="127.0.0.1", query=b"", server_port=8765, **headers):
    return {
        "client": [client, 40000],
        "server": ["127.0.0.1", server_port],
        "query_string": query,
        "headers": [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()],
    }


def test_the_token_comes_from_the_url_or_a_bearer_header():
    assert access.presented_token(scope(query=b"token=abc")) == "abc"
    assert access.presented_token(scope(authorization="Bearer xyz")) == "xyz"
    assert access.presented_token(scope(authorization="bearer  xyz ")) == "xyz"
    assert access.presented_token(scope(authorization="Basic xyz")) is None
    assert access.presented_token(scope(query=b"token=")) is None
    assert access.presented_token(scope()) is None


def test_tokens_are_random_and_only_their_hash_is_kept():
    first, second = access.token_new(), access.token_new()
    assert first != second
    assert len(first) >= 32
    assert access.token_hash(first) != first
    assert access.token_hash(first) == access.token_hash(first)


def test_a_token_can_be_passed_as_a_command_line_option():
    # A token starting with "-" made `python -m printing.agent --token -x…` fail (1 in 64).
    tokens = [access.token_new() for _ in range(2000)]
    assert not [token for token in tokens if token.startswith("-")]
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{32}", token) for token in tokens)


def test_api_keys_compare_exactly():
    assert access.api_key_valid("k1", ["k0", "k1"])
    assert not access.api_key_valid("k", ["k0", "k1"])
    assert not access.api_key_valid("", [""])
    assert not access.api_key_valid("k1", [])
    assert not access.api_key_valid("密钥", ["k0", "k1"])
    assert access.api_key_valid("clé", ["clé"])


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


def test_forwarded_for_is_ignored_from_anyone_but_a_trusted_proxy():
    spoofed = scope(client="203.0.113.9", x_forwarded_for="127.0.0.1")
    assert str(access.client_ip(spoofed, PROXY)) == "203.0.113.9"
    assert str(access.client_ip(spoofed, [])) == "203.0.113.9"


def test_forwarded_for_from_a_trusted_proxy_names_the_client():
    proxied = scope(client="10.0.0.2", x_forwarded_for="198.51.100.7")
    assert str(access.client_ip(proxied, PROXY)) == "198.51.100.7"


def test_a_client_cannot_hide_behind_a_forged_first_hop():
    # The client wrote "127.0.0.1, "; the proxy appended the address it really saw.
    proxied = scope(client="10.0.0.2", x_forwarded_for="127.0.0.1, 198.51.100.7")
    assert str(access.client_ip(proxied, PROXY)) == "198.51.100.7"


@pytest.mark.parametrize(
    ("forwarded", "client"),
    [
        ("203.0.113.9:4711", "203.0.113.9"),
        ("[2001:db8::1]:4711", "2001:db8::1"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("2001:db8::1", "2001:db8::1"),
        ("127.0.0.1, 10.0.0.2:5555, 203.0.113.9:4711", "203.0.113.9"),
        ("198.51.100.7:80, 10.0.0.2", "198.51.100.7"),
    ],
)
def test_forwarded_for_with_ports_names_the_client(forwarded, client):
    proxied = scope(client="10.0.0.2", x_forwarded_for=forwarded)
    assert str(access.client_ip(proxied, PROXY)) == client


@pytest.mark.parametrize(
    "forwarded",
    [
        "unknown",
        "_hidden",
        "127.0.0.1, unknown",
        "203.0.113.9:99999",
        "[2001:db8::1]4711",
        "[127.0.0.1]:80",
        "127.0.0.1,",
        " ",
        None,
    ],
)
def test_a_trusted_proxy_naming_nobody_makes_the_client_untrusted(forwarded):
    # Falling back to the proxy's own address (trusted, often 127.0.0.1) failed open.
    headers = {} if forwarded is None else {"x_forwarded_for": forwarded}
    proxied = scope(client="127.0.0.1", **headers)
    ip = access.client_ip(proxied, LOOPBACK)
    assert ip is None
    assert not access.in_networks(ip, LOOPBACK)


def test_forwarded_for_split_over_several_header_lines_is_one_list():
    proxied = scope(client="10.0.0.2")
    proxied["headers"] = [(b"x-forwarded-for", b"127.0.0.1"), (b"X-Forwarded-For", b"198.51.100.7")]
    assert str(access.client_ip(proxied, PROXY)) == "198.51.100.7"


def test_ipv4_mapped_addresses_are_plain_ipv4():
    ip = access.client_ip(scope(client="::ffff:127.0.0.1"), [])
    assert access.in_networks(ip, LOOPBACK)


OWN_HOSTS = {"localhost", "shop.local", "shop.example.com"}


@pytest.mark.parametrize(
    ("origin", "host", "allowed"),
    [
        (None, "127.0.0.1:8765", True),
        ("http://127.0.0.1:5000", "127.0.0.1:8765", True),
        ("http://127.0.0.1:8765", "127.0.0.1:8765", True),
        ("http://[::1]:5000", "[::1]:8765", True),
        ("http://localhost:5000", "localhost:8765", True),
        ("http://shop.local:5000", "shop.local:8765", True),
        ("http://127.0.0.1:3000", "127.0.0.1:8765", False),
        ("http://evil.example", "127.0.0.1:8765", False),
        ("https://evil.example:8765", "127.0.0.1:8765", False),
        ("null", "127.0.0.1:8765", False),
        ("https://shop.example.com", "shop.example.com", True),
        ("https://pos.example.com", "127.0.0.1:8765", True),
        ("HTTPS://POS.EXAMPLE.COM/", "127.0.0.1:8765", True),
        # DNS rebinding: the attacker's name now points at this server, and the browser
        # sends that name in both headers.
        ("http://evil.example:8765", "evil.example:8765", False),
        ("http://evil.example:5000", "evil.example:8765", False),
        ("https://evil.example", "evil.example", False),
        ("http://shop.local.evil.example:5000", "shop.local.evil.example:8765", False),
    ],
)
def test_browser_origins(origin, host, allowed):
    headers = {"host": host}
    if origin is not None:
        headers["origin"] = origin
    assert (
        access.origin_allowed(
            scope(**headers), ["https://pos.example.com"], {5000, 8765}, OWN_HOSTS
        )
        is allowed
    )


def test_the_servers_own_names_are_its_explicit_hosts_localhost_and_its_hostname():
    names = access.own_host_names(["shop.example.com", "*", ".example.org", "POS.Example.COM."])
    assert {"shop.example.com", "pos.example.com", "localhost", socket.gethostname().lower()} <= (
        names
    )
    assert "*" not in names
    assert not [name for name in names if name.startswith(".")]


def test_an_address_that_keeps_failing_the_handshake_is_turned_away_for_a_minute():
    failures = access.HandshakeFailures()
    started = [failures.failed("203.0.113.9", 100.0 + i) for i in range(20)]
    # The 20th failure within a minute starts the back-off, reported once.
    assert started == [False] * 19 + [True]
    assert failures.blocked("203.0.113.9", 120.0)
    assert failures.blocked("203.0.113.9", 178.9)
    assert not failures.blocked("198.51.100.7", 120.0)
    assert not failures.blocked("203.0.113.9", 179.0)


def test_failures_spread_over_more_than_a_minute_do_not_add_up():
    failures = access.HandshakeFailures()
    assert not any(failures.failed("203.0.113.9", i * 4.0) for i in range(100))
    assert not failures.blocked("203.0.113.9", 400.0)


def test_the_failure_book_stays_small_when_many_addresses_fail_once():
    failures = access.HandshakeFailures(max_addresses=100)
    for i in range(1000):
        failures.failed(f"10.0.{i // 256}.{i % 256}", float(i))
    assert len(failures.failures) <= 101


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
