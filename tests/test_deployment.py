"""What a deployment gets right by default: the server will not serve with a secret key
anyone can read; over https its cookies are Secure and HSTS is on; `check --deploy` is clean
for the production settings README.md documents; docs keep tokens off command lines."""

import asyncio
import http.client
import os
import re
import secrets
import ssl
import subprocess
import sys
import zlib

import pytest
import trustme
from django.core import signing
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from printing.access import token_hash
from shop import env
from shop.keys import PUBLISHED
from tests.support import ROOT
from tests.support.ports import free_port

GOOD_KEY = secrets.token_urlsafe(50)


def run(*args: str, **environment: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("short-key-0123456789", "has 20 characters; a server needs at least 32"),
        (next(iter(PUBLISHED)), "a value published in this project's repository"),
    ],
)
def test_the_server_refuses_to_start_with_a_weak_secret_key(key, reason):
    port = str(free_port())
    server = run(
        "manage.py", "runprintserver", "--http-port", port, "--ws-port", port, DJANGO_SECRET_KEY=key
    )
    assert server.returncode != 0
    assert reason in server.stderr
    # Whatever else serves the ASGI application (daphne, uvicorn) fails to load it too.
    application = run("-c", "import shop.asgi", DJANGO_SECRET_KEY=key)
    assert application.returncode != 0
    assert reason in application.stderr


def test_ordinary_commands_still_run_with_any_key():
    assert run("manage.py", "check", DJANGO_SECRET_KEY="x").returncode == 0


PRODUCTION = {
    "DJANGO_SECRET_KEY": GOOD_KEY,
    "DJANGO_ALLOWED_HOSTS": "shop.example.com",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "https://shop.example.com",
}


@pytest.mark.parametrize(
    "https",
    [
        {"DJANGO_SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto=https"},
        {"PRINT_TLS_CERT": "/etc/shop/cert.pem", "PRINT_TLS_KEY": "/etc/shop/key.pem"},
    ],
    ids=["behind an https proxy", "tls in the server"],
)
def test_check_deploy_is_clean_for_the_documented_production_settings(https):
    check = run("manage.py", "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION, **https)
    assert check.returncode == 0, check.stderr + check.stdout
    readme = (ROOT / "README.md").read_text()
    for name, value in {**PRODUCTION, **https}.items():
        if value and name != "DJANGO_SECRET_KEY":
            assert f"{name}={value}" in readme, name


@pytest.mark.parametrize(
    "value",
    ["https", "X-Forwarded-Proto", "X-Forwarded-Proto=", "=https", "X Forwarded=https", "a=b c"],
)
def test_the_proxy_ssl_header_is_parsed_strictly(monkeypatch, value):
    monkeypatch.setenv("DJANGO_SECURE_PROXY_SSL_HEADER", value)
    with pytest.raises(ImproperlyConfigured, match="DJANGO_SECURE_PROXY_SSL_HEADER"):
        env.env_header_value("DJANGO_SECURE_PROXY_SSL_HEADER")


def test_the_proxy_ssl_header_names_a_request_header(monkeypatch):
    monkeypatch.setenv("DJANGO_SECURE_PROXY_SSL_HEADER", " X-Forwarded-Proto = https ")
    assert env.env_header_value("DJANGO_SECURE_PROXY_SSL_HEADER") == (
        "HTTP_X_FORWARDED_PROTO",
        "https",
    )
    monkeypatch.delenv("DJANGO_SECURE_PROXY_SSL_HEADER")
    assert env.env_header_value("DJANGO_SECURE_PROXY_SSL_HEADER") is None


def login_page(connection: http.client.HTTPConnection, **headers: str) -> http.client.HTTPResponse:
    connection.request("GET", "/admin/login/", headers=headers)
    response = connection.getresponse()
    response.read()
    return response


def secure_cookies_and_hsts(response: http.client.HTTPResponse) -> None:
    cookies = response.headers.get_all("Set-Cookie")
    assert any(cookie.startswith("csrftoken=") for cookie in cookies)
    for cookie in cookies:
        assert re.search(r";\s*Secure", cookie), cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


@pytest.mark.django_db(transaction=True)
async def test_with_tls_cookies_are_secure_and_hsts_is_on(print_server, tmp_path):
    authority = trustme.CA()
    certificate = authority.issue_cert("127.0.0.1")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    certificate.private_key_pem.write_to_path(key)
    certificate.cert_chain_pems[0].write_to_path(cert)
    context = ssl.create_default_context()
    authority.configure_trust(context)
    # --tls-cert on the command line (not PRINT_TLS_CERT): the command turns https on.
    server = print_server(tls=(cert, key))

    def fetch() -> http.client.HTTPResponse:
        https = http.client.HTTPSConnection("127.0.0.1", server.http_port, context=context)
        return login_page(https)

    response = await asyncio.to_thread(fetch)
    assert response.status == 200
    secure_cookies_and_hsts(response)


@pytest.mark.django_db(transaction=True)
async def test_behind_an_https_proxy_cookies_are_secure_and_hsts_is_on(print_server):
    server = print_server(DJANGO_SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto=https")

    def fetch(path: str = "", **headers: str) -> http.client.HTTPResponse:
        plain = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=10)
        if path:
            plain.request("GET", path)
            return plain.getresponse()
        return login_page(plain, **headers)

    proxied = await asyncio.to_thread(fetch, **{"X-Forwarded-Proto": "https"})
    assert proxied.status == 200
    secure_cookies_and_hsts(proxied)
    # Plain http is sent to https; load balancers still probe /healthz over http.
    direct = await asyncio.to_thread(fetch)
    assert direct.status == 301
    assert direct.headers["Location"].startswith("https://")
    assert (await asyncio.to_thread(fetch, "/healthz")).status == 200


def test_the_docs_keep_agent_tokens_off_the_command_line():
    # A command line is visible to every user of the machine (ps); PRINT_AGENT_TOKEN is not.
    documents = [ROOT / "README.md", ROOT / "docker-compose.yml", *(ROOT / "docs").glob("*.md")]
    for document in documents:
        for line in document.read_text().splitlines():
            assert not re.search(r"printing\.agent\b.*--token", line), (document.name, line)
    assert "PRINT_AGENT_TOKEN=" in (ROOT / "README.md").read_text()


def readable(value: str) -> str:
    """A cookie as anyone holding it can read it: Django's signed cookies are base64, and
    zlib-compressed when that is shorter (a leading ".")."""
    payload = value.split(":", 1)[0]
    try:
        data = signing.b64_decode(payload.removeprefix(".").encode())
        if payload.startswith("."):
            data = zlib.decompress(data)
        return value + data.decode("utf-8", "replace")
    except (ValueError, zlib.error):
        return value


def issue_token_action(browser, printer):
    url = reverse("admin:printing_printerconfig_changelist")
    return browser.post(url, {"action": "issue_token", "_selected_action": [printer.pk]})


@pytest.mark.django_db
def test_a_new_token_is_shown_once_and_never_travels_in_a_cookie(admin_client, make_printer):
    printer = make_printer()
    response = issue_token_action(admin_client, printer)
    shown = admin_client.get(response.url)
    [message] = [str(m) for m in shown.context["messages"] if printer.name in str(m)]
    token = message.rsplit("：", 1)[1].strip()
    printer.refresh_from_db()
    assert token_hash(token) == printer.token_hash
    assert token in shown.content.decode()
    for answer in (response, shown):
        # Django's cookie storage would put the message, token and all, in "messages".
        assert "messages" not in answer.cookies
        for cookie in answer.cookies.values():
            assert token not in readable(cookie.value), cookie.key
    # Shown once: the next page no longer has it.
    assert token not in admin_client.get(response.url).content.decode()
