"""docker-compose.yml cannot run here (no Docker engine), so it is held to what the project
supports: its commands parse, its variables are ones the settings read, its addresses name
its services, migrations run once before the web replicas, every service is checked, and its
secrets come from the environment."""

import io
import re
import secrets
import shlex
from urllib.parse import urlsplit

import pytest
import yaml
from django.core.management import CommandError, call_command, get_commands, load_command_class

from printing.access import token_hash
from printing.agent_options import parse_args
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
    variables = set(SERVICES["web"]["environment"])
    assert variables <= env.KNOWN, variables - env.KNOWN
    # The migration also provisions the agent's token (printertoken --from-env).
    assert set(SERVICES["migrate"]["environment"]) == variables | {"PRINT_AGENT_TOKEN"}
    # The agent reads PRINT_AGENT_<OPTION> for each of its options.
    for variable in SERVICES["agent"]["environment"]:
        option = variable.removeprefix("PRINT_AGENT_").lower()
        assert variable.startswith("PRINT_AGENT_")
        assert hasattr(parse_args([f"--{option.replace('_', '-')}", "x"]), option)


def required_from_environment(value: str, name: str) -> bool:
    """`${NAME:?message}`: compose takes it from the environment and refuses to start
    without it."""
    return re.fullmatch(rf"\$\{{{name}:\?[^}}]+\}}", value) is not None


def test_the_secret_key_comes_from_the_environment_and_is_required():
    for service in ("migrate", "web"):
        key = SERVICES[service]["environment"]["DJANGO_SECRET_KEY"]
        assert required_from_environment(key, "DJANGO_SECRET_KEY"), key


def test_the_agent_connects_with_its_printers_token_not_as_a_trusted_network():
    # Without PRINT_TRUSTED_NETWORKS only this machine may connect without a token.
    assert "PRINT_TRUSTED_NETWORKS" not in SERVICES["web"]["environment"]
    command = SERVICES["agent"]["command"]
    assert "--token" not in command
    token = SERVICES["agent"]["environment"]["PRINT_AGENT_TOKEN"]
    assert required_from_environment(token, "PRINT_AGENT_TOKEN")
    assert SERVICES["migrate"]["environment"]["PRINT_AGENT_TOKEN"] == token
    # The migration gives that token to the printer the agent names.
    name = parse_args(command[3:]).name
    steps = django_commands(SERVICES["migrate"]["command"])
    assert ["printertoken", name, "--from-env", "PRINT_AGENT_TOKEN"] in steps


def test_addresses_name_the_compose_services():
    environment = SERVICES["web"]["environment"]
    database = urlsplit(environment["DATABASE_URL"])
    assert database.scheme == "postgres"
    assert database.hostname == "postgres"
    assert database.path.lstrip("/") == SERVICES["postgres"]["environment"]["POSTGRES_DB"]
    assert database.username == SERVICES["postgres"]["environment"]["POSTGRES_USER"]
    assert urlsplit(environment["REDIS_URL"]).hostname == "redis"
    assert SERVICES["migrate"]["environment"].items() >= environment.items()


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


@pytest.mark.django_db
def test_the_migration_gives_the_agents_token_to_its_printer(make_printer, monkeypatch):
    printer = make_printer()
    monkeypatch.setenv("PRINT_AGENT_TOKEN", "too-short")
    with pytest.raises(CommandError, match="PRINT_AGENT_TOKEN: a printer token needs at least 32"):
        call_command("printertoken", printer.name, "--from-env", "PRINT_AGENT_TOKEN")
    printer.refresh_from_db()
    assert printer.token_hash is None
    token = secrets.token_urlsafe(32)
    monkeypatch.setenv("PRINT_AGENT_TOKEN", token)
    out = io.StringIO()
    call_command(
        "printertoken", printer.name, "--from-env", "PRINT_AGENT_TOKEN", stdout=out, stderr=out
    )
    printer.refresh_from_db()
    assert printer.token_hash == token_hash(token)
    assert token not in out.getvalue()
