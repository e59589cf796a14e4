"""Integration flows: API keys made and revoked, webhook endpoints added and removed."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from integrations.access import api_key_hash, api_key_new
from integrations.models import ApiKey, Event, Scope, WebhookEndpoint

SECRET_LENGTH = (16, 200)


def api_key_create(*, name: str, scopes: Iterable[str], actor: str) -> tuple[ApiKey, str]:
    """A new key and its only showing: the database keeps its hash."""
    scopes = sorted(set(scopes))
    unknown = set(scopes) - set(Scope.values)
    if unknown:
        raise ValueError(f"unknown scopes: {', '.join(sorted(unknown))}")
    key = ApiKey(name=name, scopes=scopes, created_by=actor[:150])
    return key, api_key_issue(key=key)


def api_key_issue(*, key: ApiKey) -> str:
    """Save a new key (unsaved `key`, its name and scopes set) and return the key itself:
    the only time anyone sees it."""
    raw = api_key_new()
    key.prefix, key.key_hash = raw[:12], api_key_hash(raw)
    key.save()
    return raw


def api_key_revoke(*, key_id: int) -> bool:
    """Revoke a key at once (every process looks keys up per request); False if it was not
    active."""
    return bool(ApiKey.objects.filter(pk=key_id, revoked_at=None).update(revoked_at=timezone.now()))


def webhook_endpoint_validate(*, url: str, secret: str, events: Iterable[str]) -> dict[str, str]:
    """One message per field that is wrong; empty when all are right."""
    problems: dict[str, str] = {}
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        problems["url"] = _("Enter an http:// or https:// URL.")
    if not SECRET_LENGTH[0] <= len(secret) <= SECRET_LENGTH[1]:
        problems["secret"] = _("The secret must be %(low)d to %(high)d characters.") % {
            "low": SECRET_LENGTH[0],
            "high": SECRET_LENGTH[1],
        }
    events = list(events)
    unknown = sorted(set(events) - set(Event.values))
    if not events:
        problems["events"] = _("Choose at least one event.")
    elif unknown:
        problems["events"] = _("Unknown events: %(events)s.") % {"events": ", ".join(unknown)}
    return problems


def webhook_endpoint_create(
    *, url: str, secret: str, events: Iterable[str], actor: str, description: str = ""
) -> WebhookEndpoint:
    """An endpoint told about `events` from now on; the caller validated the fields."""
    return WebhookEndpoint.objects.create(
        url=url,
        secret=secret,
        events=sorted(set(events)),
        description=description,
        created_by=actor[:150],
    )


def webhook_endpoint_delete(*, endpoint_id: int) -> bool:
    """Remove an endpoint and its deliveries (nothing more is sent to it)."""
    with transaction.atomic():
        deleted, _counts = WebhookEndpoint.objects.filter(pk=endpoint_id).delete()
    return bool(deleted)
