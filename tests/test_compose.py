"""docker-compose.yml cannot run here (no Docker engine), so it is held to what the project
supports: its commands parse, its variables are ones the settings read, its addresses name
its services, migrations run once before the web replicas, and every service is checked."""

import shlex
from urllib.parse import urlsplit

import pytest
import yaml
from django.core.management import get_commands, load_command_class

from printing.agent import parse_args
from shop import env
from tests.support import ROOT

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
OURS = ("migrate", "web", "agent")


def django_commands(command: list[str]) -> list[list[str]]:
    """The manage.py invocations in a service's command (also inside `sh -c "a && b"`)."""
    if command[:2] == ["sh", "-c"]:
        steps = [shlex.split(step) for step in command[2].split("&&")]
    else:
        steps = [command]
    return [step[2:] for step in steps if step[:2] == ["python", "manage.py"]]


def test_the_services_are_there():
    assert set(SERVICES) == {"postgres", "redis", "migrate", "web", "agent"}
    assert SERVICES["web"]["deploy"]["replicas"] == 2


@pytest.mark.parametrize("service", ["migrate", "web"])
def test_server_commands_parse_with_the_real_commands(service):
    steps = django_commands(SERVICES[service]["command"])
    assert steps
    for name, *args in steps:
        parser = load_command_class(get_commands()[name], name).create_parser("manage.py", name)
        parser.parse_args(args)


def test_the_web_replicas_serve_the_documented_ports():
    name, *args = django_commands(SERVICES["web"]["command"])[0]
    assert name == "runprintserver"
    parsed = load_command_class("printing", name).create_parser("manage.py", name).parse_args(args)
    assert (parsed.host, parsed.http_port, parsed.ws_port) == ("0.0.0.0", 5000, 8765)
    published = {port.split(":")[1] for port in SERVICES["web"]["ports"]}
    assert published == {"5000", "8765"}


def test_the_agent_command_is_one_the_agent_accepts(tmp_path):
    command = SERVICES["agent"]["command"]
    assert command[:3] == ["python", "-m", "printing.agent"]
    options = parse_args(command[3:])
    assert options.device == "console"
    host = urlsplit(options.url[0]).hostname
    assert host in SERVICES


def test_every_variable_is_one_the_settings_read():
    # Reading the settings module filled env.KNOWN with every name it asks for.
    for service in OURS:
        variables = set(SERVICES[service].get("environment", {}))
        assert variables <= env.KNOWN, variables - env.KNOWN


def test_addresses_name_the_compose_services():
    environment = SERVICES["web"]["environment"]
    database = urlsplit(environment["DATABASE_URL"])
    assert database.scheme == "postgres"
    assert database.hostname == "postgres"
    assert database.path.lstrip("/") == SERVICES["postgres"]["environment"]["POSTGRES_DB"]
    assert database.username == SERVICES["postgres"]["environment"]["POSTGRES_USER"]
    assert urlsplit(environment["REDIS_URL"]).hostname == "redis"
    assert SERVICES["migrate"]["environment"] == environment


def test_migrations_run_once_before_the_web_replicas():
    assert "migrate" in " ".join(SERVICES["migrate"]["command"])
    assert "deploy" not in SERVICES["migrate"]
    assert SERVICES["web"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )
    assert SERVICES["web"]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert SERVICES["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_every_long_running_service_has_a_health_check():
    for name in ("postgres", "redis", "web", "agent"):
        assert SERVICES[name]["healthcheck"]["test"], name
    assert "/healthz" in " ".join(SERVICES["web"]["healthcheck"]["test"])


def test_the_image_holds_what_the_commands_need():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install --no-cache-dir -r requirements.txt" in dockerfile
    for folder in ("shop", "orders", "printing", "templates", "locale"):
        assert f"COPY {folder} {folder}" in dockerfile
