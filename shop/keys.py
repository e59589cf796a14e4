"""Which secret keys a server may serve with.

Sessions, CSRF tokens and password-reset links are signed with DJANGO_SECRET_KEY: a key
anyone can read lets anyone forge them. Ordinary manage.py commands (makemessages, migrate)
accept any key; serving (runprintserver, the ASGI application) refuses a weak one.
"""

from django.core.exceptions import ImproperlyConfigured

MIN_LENGTH = 32
# Keys this repository has published: docker-compose.yml shipped the first one as a default.
PUBLISHED = frozenset({"change-me-in-production-0123456789abcdefghijklmnopqrstuvwxyz"})
GENERATE = "python3 -c 'import secrets; print(secrets.token_urlsafe(50))'"


def secret_key_refusal(key: str) -> str | None:
    """Why the server must not serve with this key, or None when it may."""
    if key in PUBLISHED:
        return (
            "DJANGO_SECRET_KEY is a value published in this project's repository: anyone can "
            f"sign sessions with it. Set your own, e.g. the output of: {GENERATE}"
        )
    if len(key) < MIN_LENGTH:
        return (
            f"DJANGO_SECRET_KEY has {len(key)} characters; a server needs at least "
            f"{MIN_LENGTH}. Generate one with: {GENERATE}"
        )
    return None


def require_serving_key(key: str) -> None:
    if (refusal := secret_key_refusal(key)) is not None:
        raise ImproperlyConfigured(refusal)
