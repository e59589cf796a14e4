"""How each API operation knows its caller: the scope a key needs, the permission staff need."""

from django.http import HttpRequest
from ninja.security import HttpBearer

from integrations.access import ApiError, Caller, caller_identify

# Orders are a few KiB; a body over this is refused before it is read.
MAX_BODY = 256 * 1024


class KeyOrStaff(HttpBearer):
    """An API key with `scope` (`Authorization: Bearer <key>`), or a logged-in staff member
    with the model permission `permission` (and the CSRF token, for writes)."""

    def __init__(self, scope: str, permission: str) -> None:
        super().__init__()
        self.scope, self.permission = scope, permission

    def __call__(self, request: HttpRequest) -> Caller:
        length = request.META.get("CONTENT_LENGTH") or "0"
        if not length.isdigit() or int(length) > MAX_BODY:
            raise ApiError(413, "too_large", f"the body must be at most {MAX_BODY} bytes")
        return caller_identify(request, scope=self.scope, permission=self.permission)

    def authenticate(self, request: HttpRequest, token: str) -> Caller | None:
        raise NotImplementedError("__call__ decides")
