"""Strict parsing of settings from environment variables.

A typo in a deployment's environment must stop the server with a message that names
the variable, not silently fall back to a default.
"""

import ipaddress
import os
import re

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}

# Every variable the settings read: README documents them, a test holds docker-compose.yml to
# them.
KNOWN: set[str] = set()
_FALSE = {"0", "false", "no", "off"}


def _raw(name: str) -> str | None:
    KNOWN.add(name)
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def env_str(name: str, default: str) -> str:
    value = _raw(name)
    return default if value is None else value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use 1/0, true/false, yes/no)")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} must be at least {minimum}")
    return number


def env_float(name: str, default: float, *, minimum: float = 0.0) -> float:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a number") from None
    if number != number or number < minimum:  # NaN compares unequal to itself
        raise ImproperlyConfigured(f"{name}={value!r} must be a number of at least {minimum}")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_networks(name: str, default: list[str]) -> list:
    networks = []
    for item in env_list(name, default):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"{name}: {item!r} is not an IP address or network"
            ) from None
    return networks


def env_choice(name: str, default: str, choices: set[str]) -> str:
    value = env_str(name, default)
    if value.upper() in choices:
        return value.upper()
    raise ImproperlyConfigured(f"{name}={value!r} must be one of {', '.join(sorted(choices))}")


_HEADER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")
_HEADER_VALUE = re.compile(r"[A-Za-z0-9._:/+-]+")


def env_header_value(name: str) -> tuple[str, str] | None:
    """`Header-Name=value` as Django's (META key, value), e.g. X-Forwarded-Proto=https ->
    ("HTTP_X_FORWARDED_PROTO", "https"); unset is None."""
    value = _raw(name)
    if value is None:
        return None
    header, sep, expected = (part.strip() for part in value.partition("="))
    if not (sep and _HEADER_NAME.fullmatch(header) and _HEADER_VALUE.fullmatch(expected)):
        raise ImproperlyConfigured(
            f"{name}={value!r} is not Header-Name=value (e.g. X-Forwarded-Proto=https)"
        )
    return "HTTP_" + header.upper().replace("-", "_"), expected
