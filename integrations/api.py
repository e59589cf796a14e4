"""The integration API, on django-ninja: one NinjaAPI at /api/ with its OpenAPI schema at
/api/schema and browsable docs at /api/docs. Every error is `{"error", "message"}` (and
`fields`, one message per field, for a request that does not validate)."""

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import HttpError, ValidationError

from integrations import api_orders, api_printing, api_webhooks
from integrations.access import ApiError
from integrations.api_auth import MAX_BODY

api = NinjaAPI(
    title="Print server API",
    version="1",
    description="Orders in, tickets out, webhooks back. See docs/api.md.",
    urls_namespace="api",
    openapi_url="/schema",
    docs_url="/docs",
)


def answer(request: HttpRequest, status: int, code: str, message: str, **extra) -> HttpResponse:
    return api.create_response(request, {"error": code, "message": message, **extra}, status=status)


@api.exception_handler(ApiError)
def refused(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return answer(request, exc.status, exc.code, exc.message, **exc.extra)


@api.exception_handler(ValidationError)
def invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    fields: dict[str, str] = {}
    for problem in exc.errors:
        # ("body", "payload", "items", 0, "quantity") → "items.0.quantity"
        where = [str(part) for part in problem.get("loc", ())[2:]] or ["body"]
        fields.setdefault(".".join(where), problem.get("msg", "invalid"))
    first = next(iter(fields.items()))
    return answer(request, 400, "invalid_field", f"{first[0]}: {first[1]}", fields=fields)


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400:
        return answer(request, 400, "invalid_json", "the body is not JSON")
    return answer(request, exc.status_code, "http_error", str(exc))


@api.exception_handler(RequestDataTooBig)
def too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return answer(request, 413, "too_large", f"the body must be at most {MAX_BODY} bytes")


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return answer(request, 404, "not_found", str(exc) or "not found")


api.add_router("", api_printing.router)
api.add_router("", api_orders.router)
api.add_router("", api_webhooks.router)
