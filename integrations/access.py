"""Who is calling the API, and what they may do.

A caller is one of: a key from PRINT_API_KEYS (full access, as before API keys existed), an
API key made in the admin (its scopes only), or a staff session (its model permissions,
with Django's CSRF check, so a page elsewhere cannot post as a logged-in cashier).
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest
from django.middleware.csrf import CsrfViewMiddleware
from django.utils import timezone

from integrations.models import ApiKey
from printing.access import api_key_valid
from shop.web import staff_actor

KEY_PREFIX = "psk_"
# last_used_at is a hint for whoever tidies keys up: written at most this often per key, so
# an integration sending a thousand requests a minute costs one write a minute.
LAST_USED_EVERY = timedelta(minutes=1)


class ApiError(Exception):
    """An answer `{"error": code, "message": message}` with this HTTP status."""

    def __init__(self, status: int, code: str, message: str, **extra) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


@dataclass(frozen=True)
class Caller:
    # In job events and logs: "api" (an environment key), "api:<key name>", "staff:<user>".
    actor: str
    # Whose Idempotency-Keys these are: one caller's key never answers another's request.
    identity: str


def api_key_new() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def api_key_hash(key: str) -> str:
    # Keys are 256 random bits: a fast hash is enough, and lets the hash be looked up.
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def caller_identify(request: HttpRequest, *, scope: str, permission: str) -> Caller:
    """The caller, if allowed `scope` (a key) or `permission` (staff); raises ApiError."""
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    presented = presented.strip()
    if scheme.lower() == "bearer" and presented:
        if api_key_valid(presented, settings.PRINT_API_KEYS):
            return Caller(actor="api", identity="env:" + api_key_hash(presented)[:16])
        return _database_key(presented, scope)
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_staff:
        if CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {}) is not None:
            raise ApiError(403, "csrf", "CSRF check failed")
        if not user.has_perm(permission):
            raise ApiError(403, "forbidden", f"permission required: {permission}")
        return Caller(actor=staff_actor(user), identity=f"user:{user.pk}")
    raise ApiError(401, "unauthorized", "staff login or API key required")


def _database_key(presented: str, scope: str) -> Caller:
    key = ApiKey.objects.filter(key_hash=api_key_hash(presented)).first()
    if key is None:
        raise ApiError(401, "unauthorized", "unknown API key")
    if key.revoked_at is not None:
        raise ApiError(401, "revoked_key", "this API key was revoked")
    if scope not in key.scopes:
        raise ApiError(403, "missing_scope", f"this API key lacks the scope {scope}")
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_EVERY:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return Caller(actor=f"api:{key.name}"[:150], identity=f"key:{key.pk}")
