import os
import secrets
from decimal import Decimal
from pathlib import Path

import pytest
from channels.layers import channel_layers
from django.db import connection

from orders.services import order_create
from printing.consumers import failed_handshakes
from printing.delivery.dispatcher import stop_dispatcher
from printing.models import PrinterConfig
from tests.support.server import PrintServer

# The shop's own example clients, copied verbatim from the system description; tests run them
# unchanged (ruff leaves them alone, see pyproject.toml).
SEED_CLIENTS = Path(__file__).resolve().parent / "seed_clients"

# Servers started by the tests share one key, never one written in the repository (a server
# refuses those).
SERVER_SECRET_KEY = secrets.token_urlsafe(50)

MILK_TEA = {
    "name": "珍珠奶茶",
    "size": "大杯",
    "temperature": "正常冰",
    "sugar": "正常糖",
    "quantity": 1,
    "unit_price": Decimal("25.00"),
}


# Modules whose outcome does not depend on the database engine: admin pages, forms, the
# board's screens, pictures, printer bytes over TCP, the agent. The PostgreSQL pass of
# make test leaves them out (they run in the SQLite pass) and keeps what the engine can
# change: transactions, locks, concurrency, statement counts, several server processes.
ENGINE_AGNOSTIC = {
    "test_admin",
    "test_admin_api_keys",
    "test_admin_roles",
    "test_agent",
    "test_agent_frames",
    "test_api_keys",
    "test_api_schema",
    "test_api_webhooks",
    "test_board_form",
    "test_board_roles",
    "test_compose",
    "test_control_characters",
    "test_deployment",
    "test_label_printers",
    "test_network_printers",
    "test_permissions",
    "test_preview",
    "test_preview_load",
    "test_preview_pages",
    "test_previews",
    "test_translations",
    "test_webhook_admin",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.module.__name__.rpartition(".")[2] in ENGINE_AGNOSTIC:
            item.add_marker(pytest.mark.engine_agnostic)


def pytest_sessionstart(session):
    """The PostgreSQL pass of make test: end it with a clear reason when there is no server
    (a laptop without PostgreSQL), but fail it under CI=true."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if not database["ENGINE"].endswith("postgresql"):
        return
    import psycopg

    where = f"{database.get('HOST') or 'localhost'}:{database.get('PORT') or 5432}"
    try:
        psycopg.connect(
            host=database.get("HOST") or None,
            port=database.get("PORT") or None,
            user=database.get("USER") or None,
            password=database.get("PASSWORD") or None,
            dbname="postgres",
            connect_timeout=3,
        ).close()
    except Exception as exc:
        message = f"PostgreSQL at {where} is not reachable ({exc})"
        if os.environ.get("CI") == "true":
            pytest.exit(f"{message}; CI=true needs it", returncode=1)
        pytest.exit(f"{message}: skipping the PostgreSQL pass", returncode=0)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    # A file rather than SQLite's in-memory test database, so that a server started as a
    # subprocess shares the test's data.
    from django.conf import settings

    database = settings.DATABASES["default"]
    # Worker threads of the dispatcher each open a connection; closing them after each use
    # lets the test database be flushed and dropped.
    database["CONN_MAX_AGE"] = 0
    if database["ENGINE"].endswith("sqlite3"):
        path = tmp_path_factory.mktemp("db") / "test.sqlite3"
        database.setdefault("TEST", {})["NAME"] = str(path)


@pytest.fixture(autouse=True)
def fresh_channel_layer():
    # The in-memory layer's queues belong to the event loop that made them; every test runs
    # in a loop of its own.
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def fresh_handshake_failures():
    # The back-off book lives as long as the process: one test's refusals must not turn
    # away the next test's clients.
    failed_handshakes.clear()
    yield
    failed_handshakes.clear()


@pytest.fixture
async def dispatcher(transactional_db):
    """Stops this test's dispatcher before the database is flushed."""
    yield
    await stop_dispatcher()


@pytest.fixture
def make_printer(db):
    def make(name: str = "厨房打印机", **fields) -> PrinterConfig:
        return PrinterConfig.objects.create(name=name, **fields)

    return make


@pytest.fixture
def make_order(db):
    def make(*, items=(MILK_TEA,), confirm: bool = False, **fields):
        return order_create(items=list(items), confirm=confirm, **fields)

    return make


def database_url() -> str:
    """The URL of the database this test uses, for a server started as a subprocess."""
    settings = connection.settings_dict
    if settings["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings['NAME']}"
    user = settings["USER"]
    password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
    return (
        f"postgres://{user}{password}@{settings['HOST'] or '127.0.0.1'}:"
        f"{settings['PORT'] or 5432}/{settings['NAME']}"
    )


# A test's server: short sweeps and heartbeats, so that tests wait seconds, not minutes.
SERVER_ENV = {
    "DJANGO_SECRET_KEY": SERVER_SECRET_KEY,
    "PRINT_POLL_INTERVAL": "0.2",
    "PRINT_HEARTBEAT_INTERVAL": "1",
    "LOG_LEVEL": "INFO",
}


@pytest.fixture
def print_server(transactional_db, tmp_path):
    """Starts servers on demand; every one is stopped before the database is flushed."""
    servers: list[PrintServer] = []

    def start(**options) -> PrintServer:
        options = {"DATABASE_URL": database_url(), **SERVER_ENV, **options}
        server = PrintServer(tmp_path, **options).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
        # Shown by pytest when the test failed.
        print(f"--- server log {server.log_path.name} ---\n{server.log()[-6000:]}")
