"""Who may open a printer socket: tokens, trusted networks, proxies and browser origins.

Pure functions over an ASGI scope and settings values, so every rule is tested on its own.
"""

import hashlib
import hmac
import ipaddress
import re
import secrets
import socket
from collections import deque
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Close codes for refused sockets (the 4000s are the application's own).
UNAUTHORIZED = 4401
FORBIDDEN = 4403
TRY_AGAIN_LATER = 1013

# An address with this many refused handshakes within the window is turned away, before any
# lookup and without a log line each, for BACKOFF_SECONDS.
HANDSHAKE_FAILURES_ALLOWED = 20
HANDSHAKE_WINDOW_SECONDS = 60.0
BACKOFF_SECONDS = 60.0


def token_new() -> str:
    # Never starting with "-": `--token -abc…` on a command line reads as a missing value.
    while (token := secrets.token_urlsafe(24)).startswith("-"):
        pass
    return token


def token_hash(token: str) -> str:
    # Tokens are 192 random bits: a fast hash is enough, and lets the hash be looked up.
    return hashlib.sha256(token.encode()).hexdigest()


def api_key_valid(presented: str, keys: list[str]) -> bool:
    # compare_digest raises on str with non-ASCII characters: compare their bytes.
    given = presented.encode("utf-8", "surrogatepass")
    return bool(presented) and any(
        hmac.compare_digest(given, key.encode("utf-8", "surrogatepass")) for key in keys
    )


def headers(scope: dict) -> dict[str, str]:
    return {
        name.decode("latin1").lower(): value.decode("latin1")
        for name, value in scope.get("headers", [])
    }


def presented_ticket(scope: dict) -> str | None:
    """`?ticket=...`: a short-lived pass the server signed for a staff browser."""
    query = parse_qs(scope.get("query_string", b"").decode("latin1"))
    return (query.get("ticket") or [""])[0].strip() or None


def presented_token(scope: dict) -> str | None:
    """`?token=...` on the URL, or `Authorization: Bearer ...`."""
    query = parse_qs(scope.get("query_string", b"").decode("latin1"))
    if query.get("token"):
        return query["token"][0].strip() or None
    authorization = headers(scope).get("authorization", "")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return None


def parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    # An IPv4 client on a dual-stack socket arrives as ::ffff:a.b.c.d.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def in_networks(address, networks: list[Network]) -> bool:
    return address is not None and any(address in network for network in networks)


def _port_valid(text: str) -> bool:
    return re.fullmatch(r"[0-9]{1,5}", text) is not None and int(text) <= 65535


def parse_hop(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """One X-Forwarded-For entry: `ip`, `ip:port`, `[v6]` or `[v6]:port`; None for anything
    else (`unknown`, an obfuscated name, garbage)."""
    text = text.strip()
    if text.startswith("["):
        host, bracket, port = text[1:].partition("]")
        if not bracket or ":" not in host:
            return None
        if port and not (port.startswith(":") and _port_valid(port[1:])):
            return None
        text = host
    elif text.count(":") == 1:
        text, port = text.split(":")
        if not _port_valid(port):
            return None
    if "[" in text or "]" in text:
        return None
    return parse_ip(text)


def client_ip(scope: dict, trusted_proxies: list[Network]):
    """The client's address, or None when it cannot be known (treated as untrusted).

    X-Forwarded-For counts only when it came from a trusted proxy, and then only up to the
    first address that is not one: anyone can write that header. A trusted proxy that sends
    no header, or an entry that does not parse, names nobody: the proxy's own address would
    be trusted.
    """
    peer = parse_ip((scope.get("client") or [""])[0] or "")
    if not in_networks(peer, trusted_proxies):
        return peer
    # Several header lines are one comma-separated list (RFC 9110).
    forwarded = ",".join(
        value.decode("latin1")
        for name, value in scope.get("headers", [])
        if name.lower() == b"x-forwarded-for"
    )
    if not forwarded.strip():
        return None
    address = None
    for hop in reversed(forwarded.split(",")):
        address = parse_hop(hop)
        if address is None or not in_networks(address, trusted_proxies):
            break
    return address


def own_host_names(allowed_hosts: list[str]) -> set[str]:
    """The names this server knows as its own: DJANGO_ALLOWED_HOSTS without its patterns,
    `localhost` and this machine's name (and its mDNS `.local` name, which no public DNS
    serves)."""
    machine = socket.gethostname().lower().rstrip(".")
    names = {"localhost", machine, f"{machine}.local"}
    names.update(
        host.lower().rstrip(".")
        for host in allowed_hosts
        if host and host != "*" and not host.startswith(".")
    )
    return names


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def origin_allowed(
    scope: dict, allowed_origins: list[str], server_ports: set[int], own_hosts: set[str]
) -> bool:
    """A browser page may connect only from this server's own pages or a listed origin.

    Clients that send no Origin are not browsers; the token and network rules judge them.
    A page's host must be one of `own_hosts` or an IP address: the Host header alone would
    let in any page whose name the attacker points at this server (DNS rebinding).
    """
    origin = headers(scope).get("origin")
    if origin is None:
        return True
    origin = origin.strip().rstrip("/").lower()
    if origin in {allowed.rstrip("/").lower() for allowed in allowed_origins}:
        return True
    try:
        parsed = urlsplit(origin)
        host_header = urlsplit("//" + headers(scope).get("host", ""))
        origin_port = parsed.port or {"http": 80, "https": 443}.get(parsed.scheme)
        host_port = host_header.port
    except ValueError:
        return False
    if not parsed.hostname or parsed.hostname != (host_header.hostname or "").lower():
        return False
    if parsed.hostname.rstrip(".") not in own_hosts and not _is_ip(parsed.hostname):
        return False
    # The same host: the page came from this server if it came from one of its ports, or
    # through the same front door as this socket (a reverse proxy on 80 or 443).
    if origin_port in server_ports:
        return True
    return origin_port == host_port if host_port else origin_port in (80, 443)


@dataclass(frozen=True)
class Verdict:
    """The outcome of a connection check: allowed, or refused with a close code and reason."""

    allowed: bool
    code: int = 0
    reason: str = ""


ALLOW = Verdict(allowed=True)


def refuse(code: int, reason: str) -> Verdict:
    return Verdict(allowed=False, code=code, reason=reason)


class HandshakeFailures:
    """Refused handshakes per client address, in this process's memory: an address that
    keeps failing is turned away for a while (each attempt costs a lookup and a log line).

    Several server processes each count their own; a restart forgets.
    """

    def __init__(
        self,
        *,
        allowed: int = HANDSHAKE_FAILURES_ALLOWED,
        window: float = HANDSHAKE_WINDOW_SECONDS,
        backoff: float = BACKOFF_SECONDS,
        max_addresses: int = 10_000,
    ) -> None:
        self.allowed, self.window, self.backoff = allowed, window, backoff
        self.max_addresses = max_addresses
        self.failures: dict[str, deque[float]] = {}
        self.blocked_until: dict[str, float] = {}

    def blocked(self, address: str, now: float) -> bool:
        until = self.blocked_until.get(address)
        if until is None:
            return False
        if now < until:
            return True
        del self.blocked_until[address]
        return False

    def failed(self, address: str, now: float) -> bool:
        """Count one refused handshake; True when it starts a back-off (log that once)."""
        times = self.failures.setdefault(address, deque())
        times.append(now)
        while now - times[0] >= self.window:
            times.popleft()
        if len(times) >= self.allowed:
            del self.failures[address]
            self.blocked_until[address] = now + self.backoff
            return True
        if len(self.failures) > self.max_addresses:
            self._forget_old(now)
        return False

    def clear(self) -> None:
        self.failures.clear()
        self.blocked_until.clear()

    def _forget_old(self, now: float) -> None:
        # Many addresses each failing a little (a scan): keep memory bounded.
        self.failures = {
            address: times
            for address, times in self.failures.items()
            if now - times[-1] < self.window
        }
        self.blocked_until = {
            address: until for address, until in self.blocked_until.items() if now < until
        }
        while len(self.failures) > self.max_addresses:
            del self.failures[next(iter(self.failures))]
