"""The API's printing operations, as they were before the API layer: the same views, paths
and answers (printing.views), listed in the schema with the rest."""

from django.http import HttpRequest, HttpResponse
from ninja import Router

from printing import views

router = Router(tags=["printing"])

# The same scheme as the other operations (named after integrations.api_auth.KeyOrStaff).
BEARER = [{"KeyOrStaff": []}]
TEXT_JOB = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["printer", "content"],
                    "properties": {
                        "printer": {"oneOf": [{"type": "string"}, {"type": "integer"}],
                                    "description": "An active printer's name or id."},
                        "content": {"type": "string", "maxLength": 20000},
                        "copies": {"type": "integer", "minimum": 1, "maximum": 10},
                        "priority": {"type": "integer", "minimum": 1, "maximum": 10},
                    },
                }
            }
        },
    },
    "security": BEARER,
}  # fmt: skip


@router.get(
    "/printers/status",
    summary="Every printer with its sockets and queue (scope printers:read)",
    openapi_extra={"security": BEARER},
)
def printers_status(request: HttpRequest) -> HttpResponse:
    return views.printers_status(request)


@router.post(
    "/jobs", summary="A text job for one printer (scope jobs:write)", openapi_extra=TEXT_JOB
)
def job_create(request: HttpRequest) -> HttpResponse:
    return views.job_create(request)


@router.get(
    "/alerts", summary="The open alerts (scope alerts:read)", openapi_extra={"security": BEARER}
)
def alerts_list(request: HttpRequest) -> HttpResponse:
    return views.alerts_list(request)


@router.post(
    "/alerts/{alert_id}/ack",
    summary="Silence an alert (scope alerts:read)",
    openapi_extra={"security": BEARER},
)
def alert_acknowledge(request: HttpRequest, alert_id: int) -> HttpResponse:
    return views.alert_acknowledge(request, alert_id=alert_id)
