"""Who may open a printer socket, rule by rule: the pure functions of printing/access.py,
with no database, server or channel layer (make mutate runs this file against each mutant)."""

import ipaddress
import os
import re
import socket

import pytest

from printing import access

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


@pytest.mark.parametrize(
    ("query", "ticket"),
    [
        (b"ticket=t1", "t1"),
        (b"ticket=%20t1%20", "t1"),
        (b"ticket=%20", None),
        (b"ticket=", None),
        (b"token=t1", None),
        (b"", None),
    ],
)
def test_a_staff_browsers_ticket_comes_from_the_url(query, ticket):
    assert access.presented_ticket(scope(query=query)) == ticket


def test_a_scope_without_headers_or_query_string_presents_nothing_and_names_nobody():
    # The ASGI spec lets a server leave both out; that must not crash the handshake.
    bare = {"client": ["10.0.0.2", 40000]}
    assert access.presented_token(bare) is None
    assert access.presented_ticket(bare) is None
    assert access.origin_allowed(bare, [], {8765}, OWN_HOSTS)
    # From a trusted proxy that sent no X-Forwarded-For: nobody, not the proxy.
    assert access.client_ip(bare, PROXY) is None
    assert access.presented_token({"headers": [(b"authorization", b"Bearer xyz")]}) == "xyz"


def test_a_refusal_carries_its_close_code_and_reason():
    refused = access.refuse(access.FORBIDDEN, "origin not allowed")
    assert refused == access.Verdict(allowed=False, code=4403, reason="origin not allowed")
    assert access.ALLOW.allowed


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


def test_a_key_from_an_environment_that_is_not_utf8_compares_without_error():
    # os.environ turns bytes that are not UTF-8 into lone surrogates (PEP 383); such a key
    # in PRINT_API_KEYS must neither crash every request nor match another key.
    key = os.fsdecode(b"key-\xff")
    assert access.api_key_valid(key, [key])
    assert not access.api_key_valid("key-", ["k0", key])
    assert not access.api_key_valid(key, ["key-"])


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
        ("203.0.113.9:65535", "203.0.113.9"),
        ("[2001:db8::1]:8", "2001:db8::1"),
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
        "203.0.113.9:65536",
        "[2001:db8::1]:65536",
        "203.0.113.9:",
        "203.0.113.9]",
        "203.0.113.9[",
        "2001:db8::1]",
        "203.0.113.9X",
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


def test_a_peer_address_in_brackets_is_that_address():
    assert str(access.client_ip(scope(client="[2001:db8::1]"), [])) == "2001:db8::1"


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
        # Through a reverse proxy: the page and the socket came through the same front door.
        ("http://shop.local", "shop.local", True),
        ("https://shop.local", "shop.local", True),
        ("http://shop.local:8080", "shop.local:8080", True),
        ("http://shop.local", "shop.local:8080", False),
        ("http://shop.local:8080", "shop.local", False),
        # A page on another machine of the shop's network is not this server's page.
        ("http://192.168.1.66:5000", "192.168.1.5:8765", False),
        ("http://shop.local.:5000", "shop.local.:8765", True),
        ("http://127.0.0.1:99999", "127.0.0.1:8765", False),
        ("http://shop.local:5000", None, False),
    ],
)
def test_browser_origins(origin, host, allowed):
    headers = {} if host is None else {"host": host}
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


def test_a_listed_origin_matches_however_its_case_and_trailing_slash_are_written():
    listed = ["https://POS.Example.MX/"]
    for origin in ("https://pos.example.mx", "HTTPS://POS.EXAMPLE.MX/"):
        page = scope(host="127.0.0.1:8765", origin=origin)
        assert access.origin_allowed(page, listed, {8765}, OWN_HOSTS)


def test_the_machines_own_name_counts_without_its_trailing_dot(monkeypatch):
    monkeypatch.setattr(socket, "gethostname", lambda: "Tea-Shop.")
    assert access.own_host_names(["pos.example.com."]) == {
        "localhost",
        "tea-shop",
        "tea-shop.local",
        "pos.example.com",
    }


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


def test_a_failure_exactly_a_minute_old_no_longer_counts():
    failures = access.HandshakeFailures()
    failures.failed("203.0.113.9", 0.0)
    assert not any(failures.failed("203.0.113.9", 60.0) for _ in range(19))
    assert failures.failed("203.0.113.9", 60.0)


def test_the_failure_book_stays_small_when_many_addresses_fail_once():
    failures = access.HandshakeFailures(max_addresses=100)
    for i in range(1000):
        failures.failed(f"10.0.{i // 256}.{i % 256}", float(i))
    assert len(failures.failures) <= 101


def test_a_scan_forgets_addresses_quiet_for_a_minute_before_one_still_failing():
    failures = access.HandshakeFailures(max_addresses=2)
    failures.failed("203.0.113.9", 0.0)
    failures.failed("198.51.100.7", 40.0)
    for i in range(19):
        failures.failed("203.0.113.9", 61.0 + i)
    # A third address overflows the book: the one quiet since exactly a minute goes, and
    # the one still failing keeps its count, though it came first.
    failures.failed("192.0.2.1", 100.0)
    assert failures.failed("203.0.113.9", 101.0)
    assert failures.blocked("203.0.113.9", 101.0)


def test_an_address_turned_away_stays_turned_away_while_a_scan_fills_the_book():
    failures = access.HandshakeFailures(max_addresses=2)
    for _ in range(20):
        failures.failed("203.0.113.9", 100.0)
    for address in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):
        failures.failed(address, 110.0)
    assert failures.blocked("203.0.113.9", 159.0)


@pytest.mark.parametrize(("others", "remembered"), [(9_999, True), (10_000, False)])
def test_the_book_remembers_the_last_ten_thousand_addresses(others, remembered):
    failures = access.HandshakeFailures()
    for _ in range(19):
        failures.failed("203.0.113.9", 0.0)
    for i in range(others):
        failures.failed(f"10.0.{i // 256}.{i % 256}", 1.0)
    # Remembered, its 20th failure starts the back-off; forgotten, it counts from one again.
    assert failures.failed("203.0.113.9", 2.0) is remembered
